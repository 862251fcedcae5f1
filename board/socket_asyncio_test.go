package board_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/netstack"
)

func TestAsyncioEchoServerThreeClients(t *testing.T) {
	l := newLAN(t)
	node, _ := l.node("pc", 1, netstack.Impairments{Latency: 3 * time.Millisecond})
	var errs []<-chan error
	got := make([]string, 3)
	for i := 0; i < 3; i++ {
		i := i
		s := &netstack.Sockets{Node: node, Actor: l.clock.NewActor(fmt.Sprintf("client%d", i)), Ctx: l.ctx}
		errs = append(errs, goPeer(s, func() error {
			netstack.Sleep(l.ctx, s.Actor, time.Second+time.Duration(i)*10*time.Millisecond)
			c, err := s.DialTCP(ap("10.0.0.2:8000"))
			if err != nil {
				return err
			}
			defer c.Close()
			var all []byte
			for k := 0; k < 3; k++ {
				msg := fmt.Sprintf("client %d line %d\n", i, k)
				if _, err := c.Write([]byte(msg)); err != nil {
					return err
				}
				buf := make([]byte, len(msg))
				if _, err := io.ReadFull(c, buf); err != nil {
					return err
				}
				all = append(all, buf...)
				// Interleave the clients.
				netstack.Sleep(l.ctx, s.Actor, 50*time.Millisecond)
			}
			got[i] = string(all)
			return nil
		}))
	}
	r := l.start("esp1", 2, `
import asyncio

served = 0

async def echo(reader, writer):
    global served
    peer = writer.get_extra_info('peername')
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()
    writer.close()
    await writer.wait_closed()
    served += 1
    print('done with', peer[0])

async def main():
    srv = await asyncio.start_server(echo, '0.0.0.0', 8000)
    while served < 3:
        await asyncio.sleep_ms(100)
    srv.close()
    await srv.wait_closed()
    print('served', served)

asyncio.run(main())
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	for i, e := range errs {
		if err := <-e; err != nil {
			t.Errorf("client %d: %v", i, err)
		}
	}
	for i := range got {
		want := fmt.Sprintf("client %d line 0\nclient %d line 1\nclient %d line 2\n", i, i, i)
		if got[i] != want {
			t.Errorf("client %d got %q", i, got[i])
		}
	}
	wantLines(t, "esp1", out, "served 3")
	if n := strings.Count(out, "done with 10.0.0.1"); n != 3 {
		t.Errorf("console:\n%s", out)
	}
}

func TestAsyncioOpenConnectionWaitFor(t *testing.T) {
	l := newLAN(t)
	pc, ln := l.listener("slow", "10.0.0.1:7777", 4, netstack.Impairments{})
	peer := goPeer(pc, func() error {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		// Say hello after 5 s: too late for a 2 s wait_for, in time for
		// the second read.
		netstack.Sleep(l.ctx, pc.Actor, 5*time.Second)
		c.Write([]byte("hello\n"))
		io.Copy(io.Discard, c)
		return c.Close()
	})
	r := l.start("esp1", 2, `
import asyncio, time

async def main():
    t0 = time.ticks_ms()
    reader, writer = await asyncio.open_connection('10.0.0.1', 7777)
    try:
        await asyncio.wait_for(reader.readline(), 2)
    except asyncio.TimeoutError:
        print('timeout after', time.ticks_diff(time.ticks_ms(), t0) // 1000, 's')
    line = await asyncio.wait_for_ms(reader.readline(), 10000)
    print('got', line, 'at', time.ticks_diff(time.ticks_ms(), t0) // 1000)
    writer.close()
    await writer.wait_closed()
    async def nap(ms):
        await asyncio.sleep_ms(ms)
        return ms
    res = await asyncio.gather(nap(10), asyncio.wait_for(nap(5000), 1), return_exceptions=True)
    print(res[0], type(res[1]).__name__)
    ev = asyncio.Event()
    lock = asyncio.Lock()
    order = []
    async def worker(n):
        async with lock:
            await ev.wait()
            order.append(n)
            await asyncio.sleep_ms(5)
    tasks = [asyncio.create_task(worker(n)) for n in range(3)]
    await asyncio.sleep_ms(50)
    ev.set()
    await asyncio.gather(*tasks)
    print('order', order)

asyncio.run(main())
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	ln.Close()
	if err := <-peer; err != nil {
		t.Fatalf("peer: %v\n%s", err, out)
	}
	wantLines(t, "esp1", out, "timeout after 2 s", "got b'hello\\n' at 5", "10 TimeoutError", "order [0, 1, 2]")
}

// A task that keeps yielding does not starve stream I/O: a client board
// talks to an echo board while a spinner yields in a loop.
func TestAsyncioNoStarvation(t *testing.T) {
	l := newLAN(t)
	srv := l.start("esp1", 2, `
import asyncio

async def echo(reader, writer):
    writer.write(await reader.readline())
    await writer.drain()
    await writer.wait_closed()

async def main():
    srv = await asyncio.start_server(echo, '0.0.0.0', 9000)
    await asyncio.sleep(3)
    srv.close()

asyncio.run(main())
`, boardnet.SocketEnv{}, netstack.Impairments{})
	r := l.start("esp2", 3, `
import asyncio

spins = 0

async def spinner():
    global spins
    while spins < 300:
        spins += 1
        await asyncio.sleep_ms(0)

async def main():
    await asyncio.sleep_ms(500)
    spin = asyncio.create_task(spinner())
    reader, writer = await asyncio.open_connection('10.0.0.2', 9000)
    writer.write(b'round trip\n')
    await writer.drain()
    line = await reader.readline()
    print('echoed', line, 'while spinning', spins < 300)
    await spin
    print('spins', spins)

asyncio.run(main())
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	srv.wait(t)
	wantLines(t, "esp2", out, "echoed b'round trip\\n' while spinning True", "spins 300")
}
