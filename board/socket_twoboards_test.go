package board_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/netstack"
)

func norm(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func wantLines(t *testing.T, who, out string, lines ...string) {
	t.Helper()
	out = norm(out)
	for _, l := range lines {
		if !strings.Contains(out, l+"\n") {
			t.Errorf("%s console lacks %q:\n%s", who, l, out)
		}
	}
}

func TestTwoBoardsTCPBothWays(t *testing.T) {
	l := newLAN(t)
	a := l.start("esp1", 2, `
import socket
s = socket.socket()
s.bind(('', 7000))
s.listen(1)
c, addr = s.accept()
print('from', addr[0])
data = c.recv(100)
print('server got', data)
c.send(b'pong:' + data)
print('server got', c.recv(100))
c.close()
s.close()
`, boardnet.SocketEnv{}, netstack.Impairments{Latency: 2 * time.Millisecond})
	b := l.start("esp2", 3, `
import socket, time
time.sleep(1)
s = socket.socket()
s.connect(('10.0.0.2', 7000))
s.send(b'ping')
print('client got', s.recv(100))
s.send('bye')
print('eof', s.recv(100))
s.close()
`, boardnet.SocketEnv{}, netstack.Impairments{Latency: 2 * time.Millisecond})
	outA, outB := a.wait(t), b.wait(t)
	wantLines(t, "server", outA, "from 10.0.0.3", "server got b'ping'", "server got b'bye'")
	wantLines(t, "client", outB, "client got b'pong:ping'", "eof b''")
}

func TestTwoBoardsUDP(t *testing.T) {
	l := newLAN(t)
	a := l.start("esp1", 2, `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 5000))
for i in range(3):
    data, addr = s.recvfrom(64)
    print('got', data, addr[0])
    s.sendto(data.upper(), addr)
s.close()
`, boardnet.SocketEnv{}, netstack.Impairments{})
	b := l.start("esp2", 3, `
import socket, time
time.sleep(0.5)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for w in ('one', 'two', 'three'):
    s.sendto(w, ('10.0.0.2', 5000))
    print('reply', s.recv(64))
t0 = time.ticks_ms()
try:
    s.recv(64)
except OSError as e:
    print('timeout', e.errno, time.ticks_diff(time.ticks_ms(), t0) // 100)
s.close()
`, boardnet.SocketEnv{}, netstack.Impairments{})
	outA, outB := a.wait(t), b.wait(t)
	wantLines(t, "esp1", outA, "got b'one' 10.0.0.3", "got b'two' 10.0.0.3", "got b'three' 10.0.0.3")
	wantLines(t, "esp2", outB, "reply b'ONE'", "reply b'TWO'", "reply b'THREE'", "timeout 110 20")
}

func TestTwoBoardsNonBlockingAndErrors(t *testing.T) {
	l := newLAN(t)
	a := l.start("esp1", 2, `
import socket, select, time
s = socket.socket()
s.bind(('', 8080))
s.listen(2)
s.setblocking(False)
try:
    s.accept()
except OSError as e:
    print('accept', e.errno)
p = select.poll()
p.register(s, select.POLLIN)
ev = p.poll(5000)
print('ready', len(ev), ev[0][1] & select.POLLIN)
c, addr = s.accept()
c.setblocking(False)
try:
    c.recv(10)
except OSError as e:
    print('recv', e.errno)
c.settimeout(1.5)
t0 = time.ticks_ms()
try:
    c.recv(10)
except OSError as e:
    print('timed out', e.errno, time.ticks_diff(time.ticks_ms(), t0) >= 1500)
c.setblocking(True)
print('data', c.recv(10))
c.close()
s.close()
`, boardnet.SocketEnv{}, netstack.Impairments{Latency: time.Millisecond})
	b := l.start("esp2", 3, `
import socket, select, time
s = socket.socket()
try:
    s.connect(('10.0.0.2', 9))
except OSError as e:
    print('refused', e.errno)
try:
    s.send(b'x')
except OSError as e:
    print('then', e.errno)
try:
    s.send(b'x')
except OSError as e:
    print('then', e.errno)
s.close()
time.sleep(1)
s = socket.socket()
s.setblocking(False)
try:
    s.connect(('10.0.0.2', 8080))
except OSError as e:
    print('connect', e.errno)
p = select.poll()
p.register(s, select.POLLOUT)
for o, ev in p.ipoll(3000):
    print('writable', ev & select.POLLOUT)
time.sleep(3)
s.send(b'late')
s.close()
`, boardnet.SocketEnv{}, netstack.Impairments{Latency: time.Millisecond})
	outA, outB := a.wait(t), b.wait(t)
	wantLines(t, "esp1", outA, "accept 11", "ready 1 1", "recv 11", "timed out 110 True", "data b'late'")
	wantLines(t, "esp2", outB, "refused 104", "then 104", "then 9", "connect 115", "writable 4")
}

func TestPeerResetMidStream(t *testing.T) {
	l := newLAN(t)
	peer := l.tcpPeer("10.0.0.1:9000", netstack.Impairments{}, func(pc *netstack.Sockets, c *netstack.Conn) error {
		if _, err := c.Write([]byte("first part")); err != nil {
			return err
		}
		buf := make([]byte, 3)
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		c.Endpoint().Abort() // RST
		return nil
	})
	r := l.start("esp1", 2, `
import socket, time
s = socket.socket()
s.connect(('10.0.0.1', 9000))
print(s.recv(100))
s.send(b'ack')
time.sleep(1)
for i in range(2):
    try:
        print(s.recv(100))
    except OSError as e:
        print('error', e.errno)
s.close()
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t, peer)
	wantLines(t, "esp1", out, "b'first part'", "error 104", "error 9")
}

func TestSendallUnderLoss(t *testing.T) {
	l := newLAN(t)
	var got []byte
	peer := l.tcpPeer("10.0.0.1:9100", netstack.Impairments{}, func(pc *netstack.Sockets, c *netstack.Conn) error {
		var err error
		got, err = io.ReadAll(c)
		c.Close()
		return err
	})
	r := l.start("esp1", 2, `
import socket
# 64 KiB does not fit in the board's 38 KiB heap: send it as 16 blocks.
import time
t0 = time.ticks_ms()
s = socket.socket()
s.connect(('10.0.0.1', 9100))
n = 0
for k in range(16):
    block = bytes(((k * 4096 + i) * 7 + ((k * 4096 + i) >> 8)) & 0xff for i in range(4096))
    s.sendall(block)
    n += len(block)
s.close()
print('sent', n)
print('took', time.ticks_diff(time.ticks_ms(), t0), 'ms')
`, boardnet.SocketEnv{}, netstack.Impairments{Loss: 10, Latency: time.Millisecond})
	out := r.wait(t)
	if err := <-peer; err != nil {
		t.Fatalf("peer: %v\n%s", err, out)
	}
	want := make([]byte, 65536)
	for i := range want {
		want[i] = byte(i*7 + i>>8)
	}
	if sha256.Sum256(got) != sha256.Sum256(want) {
		t.Errorf("peer received %d bytes, not the 64 KiB sent intact", len(got))
	}
	wantLines(t, "esp1", out, "sent 65536")
	t.Logf("%s(%d clock advances, %d exact)", out, l.clock.Advances(), l.clock.ExactAdvances())
}

func TestPCBLimitFromScript(t *testing.T) {
	l := newLAN(t)
	pc, ln := l.listener("pc", "10.0.0.1:80", 16, netstack.Impairments{})
	peer := goPeer(pc, func() error {
		var cs []io.ReadCloser
		for i := 0; i < 5; i++ {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			cs = append(cs, c)
		}
		for _, c := range cs {
			io.Copy(io.Discard, c)
			c.Close()
		}
		return nil
	})
	r := l.start("esp1", 2, `
import socket, time
socks = []
for i in range(6):
    try:
        s = socket.socket()
        s.connect(('10.0.0.1', 80))
        socks.append(s)
    except OSError as e:
        print('socket', i + 1, 'failed', e.errno)
for s in socks:
    s.close()
time.sleep(1)
socket.print_pcbs()
s = socket.socket()
print('recycled a TIME_WAIT PCB')
s.close()
time.sleep(120)
socket.print_pcbs()
s = socket.socket()
print('after 2*MSL ok')
`, boardnet.SocketEnv{MaxTCPPCBs: 5}, netstack.Impairments{}) // a heap for 5 PCBs
	out := r.wait(t, peer)
	wantLines(t, "esp1", out, "socket 6 failed 12", "recycled a TIME_WAIT PCB", "after 2*MSL ok", "TIME-WAIT PCB states:")
	if n := strings.Count(out, "State: TIME_WAIT"); n != 5 {
		t.Errorf("print_pcbs listed %d TIME_WAIT PCBs, want 5:\n%s", n, out)
	}
	if rows := r.b.Sockets(); len(rows) == 0 {
		t.Errorf("b.Sockets() is empty, want the last socket")
	}
}

func TestBadScriptsNeverCrash(t *testing.T) {
	l := newLAN(t)
	pc, ln := l.listener("pc", "10.0.0.1:7", 16, netstack.Impairments{})
	peer := goPeer(pc, func() error {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		// Garbage back, lots of it, then close.
		junk := make([]byte, 200000)
		for i := range junk {
			junk[i] = byte(i * 31)
		}
		c.Write(junk)
		c.Close()
		return nil
	})
	r := l.start("esp1", 2, `
import socket
leaked = 0
try:
    while True:
        s = socket.socket()
        leaked += 1
except OSError as e:
    print('leaked', leaked, e.errno)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
nomem = 0
for i in range(500):
    try:
        u.sendto(bytes([i & 255]) * 1400, ('10.0.0.1', 9999))
    except OSError as e:
        if e.errno != 12:
            raise
        nomem += 1  # the radio queue is full, as on the chip
try:
    u.sendto(b'x' * 5000, ('10.0.0.99', 1))
except OSError as e:
    if e.errno != 12:
        raise
print('flooded', nomem > 0)
for bad in ((1, 2), ('1.2.3', 80), ('999.1.1.1', 1)):
    try:
        u.sendto(b'x', bad)
    except Exception as e:
        print(type(e).__name__)
try:
    socket.getaddrinfo('no.such.host', 80)
except OSError as e:
    print('gai', e.errno)
`, boardnet.SocketEnv{MaxTCPPCBs: 5}, netstack.Impairments{}) // a heap for 5 PCBs
	out := r.wait(t)
	ln.Close()
	<-peer
	wantLines(t, "esp1", out, "leaked 5 12", "flooded True", "TypeError", "ValueError", "gai -2")
	if st := r.b.SocketStats(); st.PCBExhausted != 1 || st.Created < 6 {
		t.Errorf("SocketStats() = %+v, want the refused socket() counted", st)
	}
	// The leaked sockets are garbage: the collections the flood's
	// allocations ran closed those it freed, as modlwip's finaliser does
	// (sockfinal.go); the UDP one is still referenced.
	rows := r.b.Sockets()
	udp, tcp := 0, 0
	for _, row := range rows {
		if row.Proto == "UDP" {
			udp++
		} else {
			tcp++
		}
	}
	if udp != 1 || tcp > 5 {
		t.Errorf("the socket table shows %d UDP and %d TCP sockets, want the UDP one and at most the 5 leaked ones:\n%v", udp, tcp, rows)
	}
	if r.res.Outcome != board.Finished {
		t.Errorf("outcome %v: %s", r.res.Outcome, r.res.Traceback)
	}
	_ = fmt.Sprint()
}

func TestSoftResetClosesSockets(t *testing.T) {
	l := newLAN(t)
	// main.py ends (machine.soft_reset() is sys.exit() on the board); Ctrl-D
	// at the REPL then soft-reboots, which closes the sockets.
	r := l.startTyped("esp1", 2, `
import socket, os, machine
if 'second' in os.listdir():
    s = socket.socket()
    print('after soft reset: socket ok')
else:
    open('second', 'w').close()
    keep = [socket.socket() for i in range(5)]
    try:
        socket.socket()
    except OSError as e:
        print('full', e.errno)
    machine.soft_reset()
    print('not reached')
`, boardnet.SocketEnv{MaxTCPPCBs: 5}, netstack.Impairments{}, 0, "\x04") // a heap for 5 PCBs
	out := r.wait(t)
	wantLines(t, "esp1", out, "full 12", "MPY: soft reboot", "after soft reset: socket ok")
	if strings.Contains(out, "not reached") {
		t.Errorf("machine.soft_reset() did not end main.py:\n%s", out)
	}
}
