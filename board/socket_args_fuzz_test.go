package board

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board/hostabi"
	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// FuzzSockArgs calls the _sock host module — every function socket.py,
// select.py, ssl.py and asyncio.py reach — with the values a script can
// pass: sizes, file descriptors, buffer addresses and lengths, strings,
// None, from inside a running board (so guest memory, the staging buffer
// and the socket table are the real ones). No call may panic, return
// anything but a Python exception, or make the host hold more for the
// board than its heap.
func FuzzSockArgs(f *testing.F) {
	for _, seed := range [][]byte{
		{},
		// socket(2, 2); recv(fd 3, 0x7fffffff)
		{opIndex("socket"), 2, 1, 2, 1, 2, opIndex("recv"), 2, 1, 3, 2, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0},
		// socket(); read(fd, -1)
		{opIndex("socket"), 0, opIndex("read"), 3, 1, 3, 1, 0xff, 0},
		// sendto(fd, buffer, huge length, "1.2.3.4", 7)
		{opIndex("socket"), 2, 1, 2, 1, 2, opIndex("sendto"), 5, 1, 3, 4, 0, 2, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 3, 7, '1', '.', '2', '.', '3', '.', '4', 1, 7},
		// poll("3:5;x", 0); take(buffer, 64); mcast(fd, bad address, 8, 1)
		{opIndex("poll"), 2, 3, 5, '3', ':', '5', ';', 'x', 1, 0, opIndex("take"), 2, 4, 0, 1, 64, opIndex("mcast"), 4, 1, 3, 2, 0, 0, 0, 0x80, 0, 0, 0, 0, 1, 8, 1, 1},
	} {
		f.Add(seed)
	}
	h := fuzzBoard(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := h.run(data); err != nil {
			t.Fatal(err)
		}
	})
}

// sockFuncs lists the _sock functions in a fixed order (the fuzz input
// picks them by index); read after every init has registered them.
var sockFuncs = sync.OnceValue(func() []string { return hostabi.Funcs("_sock") })

func opIndex(name string) byte {
	for i, n := range sockFuncs() {
		if n == name {
			return byte(i)
		}
	}
	panic("no _sock." + name)
}

// sockFuzzer is one board running `while True: _fuzzhost.step(...)`; each
// fuzz input is decoded and run by step on the board's goroutine.
type sockFuzzer struct {
	inputs  chan []byte
	results chan error

	fw    *Firmware
	clock *vclock.Clock
	board *Board
	// ended is closed, with runErr and why set, when the board's loop
	// stopped running; done once its Run returned.
	ended, done chan struct{}
	runErr      error
	why         string
}

var fuzzOnce sync.Once
var fuzzer *sockFuzzer

func init() {
	// step(addr, n): run the next input with a real guest buffer of n
	// bytes at addr; False when the test is over.
	RegisterFunc("_fuzzhost", "step", func(b *Board, args []Value) (Value, error) {
		addr, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		n, err := ArgInt(args, 1)
		if err != nil {
			return nil, err
		}
		in, ok := <-fuzzer.inputs
		if !ok {
			return false, nil
		}
		fuzzer.results <- runSockInput(b, in, int64(addr), int64(n))
		return true, nil
	})
}

func fuzzBoard(f *testing.F) *sockFuzzer {
	fuzzOnce.Do(func() {
		fuzzer = &sockFuzzer{inputs: make(chan []byte), results: make(chan error)}
	})
	fuzzer.fw, fuzzer.clock = testFirmware(f), newClock(f)
	if err := fuzzer.start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(fuzzer.stop)
	return fuzzer
}

// start boots a fresh fuzzing board.
func (h *sockFuzzer) start() error {
	b, err := New(Config{Name: "fuzz", Watchdog: -1, Files: files(`
import socket, _fuzzhost
from uctypes import addressof
buf = bytearray(64)
while _fuzzhost.step(addressof(buf), len(buf)):
    pass
`)}, h.fw, h.clock)
	if err != nil {
		return err
	}
	h.board, h.ended, h.done = b, make(chan struct{}), make(chan struct{})
	go func() {
		defer close(h.done)
		res, err := b.Run(context.Background())
		h.runErr = err
		h.why = fmt.Sprintf("outcome %v, err %v, traceback %q, message %q", res.Outcome, err, res.Traceback, res.Message)
		close(h.ended)
	}()
	return nil
}

// stop ends the board's loop and closes it.
func (h *sockFuzzer) stop() {
	close(h.inputs)
	<-h.done
	h.board.Close()
}

// stopped handles a board whose loop ended: a firmware trap is what raw
// guest addresses and lengths can do to the guest (they point wherever
// the input says, as uctypes lets a script do on the board too) and only
// the guest, so a fresh board takes over; anything else is a failure.
func (h *sockFuzzer) stopped(data []byte) error {
	<-h.done
	h.board.Close()
	err := h.runErr
	why := h.why
	if serr := h.start(); serr != nil {
		return fmt.Errorf("input %q: restarting the fuzzing board: %w", data, serr)
	}
	if err != nil && strings.Contains(err.Error(), "firmware trapped") {
		return nil
	}
	return fmt.Errorf("input %q: the fuzzing board stopped: %s", data, why)
}

func (h *sockFuzzer) run(data []byte) error {
	select {
	case h.inputs <- data:
	case <-h.ended:
		return h.stopped(data)
	}
	select {
	case <-h.ended:
		return h.stopped(data)
	case err := <-h.results:
		return err
	case <-time.After(20 * time.Second):
		return fmt.Errorf("input %q: a _sock call did not return in 20 s", data)
	}
}

// input decodes a fuzz input.
type input struct{ b []byte }

func (in *input) byte() (byte, bool) {
	if len(in.b) == 0 {
		return 0, false
	}
	c := in.b[0]
	in.b = in.b[1:]
	return c, true
}

// value decodes one argument: 0 None, 1 small int, 2 int64, 3 string,
// 4 the guest buffer's address, 5 an address near the end of memory.
func (in *input) value(addr int64) Value {
	tag, _ := in.byte()
	switch tag % 6 {
	case 0:
		return nil
	case 1:
		c, _ := in.byte()
		return int64(int8(c))
	case 2:
		var p [8]byte
		copy(p[:], in.b)
		in.b = in.b[min(8, len(in.b)):]
		return int64(binary.BigEndian.Uint64(p[:]))
	case 3:
		n, _ := in.byte()
		k := min(int(n), len(in.b))
		s := string(in.b[:k])
		in.b = in.b[k:]
		return s
	case 4:
		c, _ := in.byte()
		return addr + int64(c%80)
	default:
		c, _ := in.byte()
		return int64(1<<32-1) - int64(c)
	}
}

// runSockInput runs the calls an input describes. Timeouts a script could
// pass are forced to zero: a blocking call with nothing on the network
// would wait forever, which is the board's right, not a bug.
func runSockInput(b *Board, data []byte, addr, n int64) (err error) {
	table, serr := b.SocketTable()
	if serr != nil {
		return serr
	}
	defer table.CloseOpen()
	in := &input{b: data}
	for {
		op, ok := in.byte()
		if !ok {
			return nil
		}
		name := sockFuncs()[int(op)%len(sockFuncs())]
		nargs, _ := in.byte()
		args := make([]Value, int(nargs)%12)
		for i := range args {
			args[i] = in.value(addr)
		}
		switch name {
		case "poll", "settimeout":
			if len(args) > 1 {
				args[1] = int64(0)
			}
		}
		fn, _, _ := hostabi.Lookup("_sock", name)
		if err := callSock(b, fn, name, args); err != nil {
			return err
		}
		for _, s := range table.Snapshot() {
			if s.FD > 0 {
				table.SetTimeout(s.FD, 0)
			}
		}
		if limit := b.HeapBytes() + 4096; boardnet.StagedBytes(b) > limit {
			return fmt.Errorf("_sock.%s%v left %d bytes staged on the host, more than the board's heap (%d)", name, args, boardnet.StagedBytes(b), b.HeapBytes())
		}
	}
}

func callSock(b *Board, fn hostabi.HostFunc, name string, args []Value) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("_sock.%s%v panicked: %v", name, args, r)
		}
	}()
	start := time.Now()
	_, cerr := fn(b, args)
	if d := time.Since(start); d > 10*time.Second {
		return fmt.Errorf("_sock.%s%v took %v", name, args, d)
	}
	var pe *PyError
	if cerr != nil && !errors.As(cerr, &pe) {
		return fmt.Errorf("_sock.%s%v = %v, want a Python exception", name, args, cerr)
	}
	return nil
}
