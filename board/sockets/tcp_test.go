package sockets_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board/sockets"
	"github.com/esp8266sim/esp8266sim/netstack"
)

func TestTCPClientEchoWithPeer(t *testing.T) {
	w := newWorld(t)
	pc := w.peer("pc", 1, netstack.Impairments{})
	b := w.board("esp1", 2, sockets.Config{}, netstack.Impairments{})
	l, err := pc.ListenTCP(ap("10.0.0.1:8888"), 4)
	if err != nil {
		t.Fatal(err)
	}
	srv := run(pc.Actor, func() error {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = io.Copy(c, c)
		return err
	})
	var got []byte
	// The CLI reads the table while the board works.
	stop := make(chan struct{})
	hammered := make(chan struct{})
	go func() {
		defer close(hammered)
		for {
			select {
			case <-stop:
				return
			default:
				b.Snapshot()
				b.PrintPCBs(io.Discard)
				b.ActivePCBs()
			}
		}
	}()
	defer func() { close(stop); <-hammered }()
	res := run(b.actor, func() error {
		fd, err := b.Socket(sockets.AFInet, sockets.SockStream, 0)
		if err != nil {
			return err
		}
		if err := b.Connect(w.ctx, fd, "10.0.0.1", 8888); err != nil {
			return err
		}
		if n, err := b.Send(w.ctx, fd, []byte("Hello")); err != nil || n != 5 {
			t.Errorf("Send(Hello) = %d, %v", n, err)
		}
		buf := make([]byte, 100)
		for len(got) < 5 {
			n, err := b.Recv(w.ctx, fd, buf, 0)
			if err != nil {
				return err
			}
			got = append(got, buf[:n]...)
		}
		return b.Close(fd)
	})
	if err := <-res; err != nil {
		t.Fatalf("board: %v", err)
	}
	if err := <-srv; err != nil {
		t.Fatalf("peer: %v", err)
	}
	if string(got) != "Hello" {
		t.Errorf("echo = %q, want Hello", got)
	}
}

func TestConnectErrors(t *testing.T) {
	w := newWorld(t)
	w.peer("pc", 1, netstack.Impairments{}).Actor.Close() // nothing listens
	b := w.board("esp1", 2, sockets.Config{}, netstack.Impairments{})
	res := run(b.actor, func() error {
		fd, _ := b.Socket(sockets.AFInet, sockets.SockStream, 0)
		err := b.Connect(w.ctx, fd, "10.0.0.1", 9)
		wantErrno(t, "connect to a closed port", err, sockets.ECONNRESET)
		_, err = b.Send(w.ctx, fd, []byte("x"))
		wantErrno(t, "send after refused connect", err, sockets.ECONNRESET)
		_, err = b.Send(w.ctx, fd, []byte("x"))
		wantErrno(t, "second send after refused connect", err, sockets.EBADF)
		b.Close(fd)
		_, err = b.Recv(w.ctx, fd, make([]byte, 4), 0)
		wantErrno(t, "recv after close", err, sockets.EBADF)

		// Non-blocking connect to a host that does not answer ARP.
		fd, _ = b.Socket(sockets.AFInet, sockets.SockStream, 0)
		b.SetTimeout(fd, 0)
		err = b.Connect(w.ctx, fd, "10.0.0.77", 80)
		wantErrno(t, "non-blocking connect", err, sockets.EINPROGRESS)
		err = b.Connect(w.ctx, fd, "10.0.0.77", 80)
		wantErrno(t, "second connect while connecting", err, sockets.EALREADY)
		b.Close(fd)

		// Two sockets on one port.
		a, _ := b.Socket(sockets.AFInet, sockets.SockStream, 0)
		c, _ := b.Socket(sockets.AFInet, sockets.SockStream, 0)
		if err := b.Bind(a, "", 5000); err != nil {
			t.Errorf("bind: %v", err)
		}
		b.Listen(a, 1, true)
		wantErrno(t, "second bind to the same port", b.Bind(c, "", 5000), sockets.EADDRINUSE)
		wantErrno(t, "accept on a socket that is not listening", func() error { _, _, _, err := b.Accept(w.ctx, c); return err }(), sockets.EINVAL)
		u, _ := b.Socket(sockets.AFInet, sockets.SockDgram, 0)
		wantErrno(t, "listen on UDP", b.Listen(u, 1, true), sockets.EOPNOTSUPP)
		_, err = b.Recv(w.ctx, a, make([]byte, 1), 0)
		wantErrno(t, "recv on a listening socket", err, sockets.ENOTCONN)
		for _, fd := range []int{a, c, u} {
			b.Close(fd)
		}

		// Blocking with a timeout.
		fd, _ = b.Socket(sockets.AFInet, sockets.SockStream, 0)
		b.SetTimeout(fd, 2*time.Second)
		start := w.clock.Elapsed()
		err = b.Connect(w.ctx, fd, "10.0.0.77", 80)
		wantErrno(t, "connect with settimeout(2)", err, sockets.ETIMEDOUT)
		if d := w.clock.Elapsed() - start; d != 2*time.Second {
			t.Errorf("connect timed out after %v of simulator time, want 2s", d)
		}
		b.Close(fd)
		return nil
	})
	if err := <-res; err != nil {
		t.Fatal(err)
	}
}

func TestPCBLimitAndTimeWait(t *testing.T) {
	tests := []struct {
		name string
		// keep is Config.KeepTimeWait.
		keep bool
		// wantWhileTimeWait is the errno of socket() with 5 PCBs in
		// TIME_WAIT: 0 when the oldest is recycled.
		wantWhileTimeWait int
	}{
		{name: "lwIP recycles the oldest TIME_WAIT", keep: false, wantWhileTimeWait: 0},
		{name: "strict: TIME_WAIT holds its slot", keep: true, wantWhileTimeWait: sockets.ENOMEM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			pc := w.peer("pc", 1, netstack.Impairments{})
			b := w.board("esp1", 2, sockets.Config{KeepTimeWait: tt.keep, MaxTCPPCBs: 5}, netstack.Impairments{})
			l, err := pc.ListenTCP(ap("10.0.0.1:80"), 16)
			if err != nil {
				t.Fatal(err)
			}
			// The peer accepts and closes when the board closes.
			srv := run(pc.Actor, func() error {
				var conns []io.ReadWriteCloser
				for i := 0; i < 5; i++ {
					c, err := l.Accept()
					if err != nil {
						return err
					}
					conns = append(conns, c)
				}
				for _, c := range conns {
					io.Copy(io.Discard, c)
					c.Close()
				}
				return nil
			})
			res := run(b.actor, func() error {
				var fds []int
				for i := 0; i < 5; i++ {
					fd, err := b.Socket(sockets.AFInet, sockets.SockStream, 0)
					if err != nil {
						t.Fatalf("socket #%d: %v", i+1, err)
					}
					if err := b.Connect(w.ctx, fd, "10.0.0.1", 80); err != nil {
						t.Fatalf("connect #%d: %v", i+1, err)
					}
					fds = append(fds, fd)
				}
				_, err := b.Socket(sockets.AFInet, sockets.SockStream, 0)
				wantErrno(t, "sixth socket", err, sockets.ENOMEM)
				if _, err := b.Socket(sockets.AFInet, sockets.SockDgram, 0); err != nil {
					t.Errorf("UDP socket with a full TCP pool: %v", err)
				}
				for _, fd := range fds {
					b.Close(fd)
				}
				// The board closed first: its PCBs sit in TIME_WAIT.
				netstack.Sleep(w.ctx, b.actor, 5*time.Second)
				var buf bytes.Buffer
				b.PrintPCBs(&buf)
				if n := bytes.Count(buf.Bytes(), []byte("State: TIME_WAIT")); n != 5 {
					t.Errorf("print_pcbs shows %d TIME_WAIT PCBs, want 5:\n%s", n, buf.String())
				}
				if got := b.ActivePCBs(); got != 5 {
					t.Errorf("ActivePCBs() = %d with 5 in TIME_WAIT, want 5", got)
				}
				fd, err := b.Socket(sockets.AFInet, sockets.SockStream, 0)
				if tt.wantWhileTimeWait == 0 {
					if err != nil {
						t.Errorf("socket with 5 PCBs in TIME_WAIT: %v, want the oldest recycled", err)
					}
					if got := b.Stats().TimeWaitRecycled; got != 1 {
						t.Errorf("Stats().TimeWaitRecycled = %d, want 1", got)
					}
					b.Close(fd)
				} else {
					wantErrno(t, "socket with 5 PCBs in TIME_WAIT", err, tt.wantWhileTimeWait)
				}
				netstack.Sleep(w.ctx, b.actor, 120*time.Second)
				if got := b.ActivePCBs(); got != 0 {
					t.Errorf("ActivePCBs() = %d after 2·MSL, want 0", got)
				}
				fd, err = b.Socket(sockets.AFInet, sockets.SockStream, 0)
				if err != nil {
					t.Errorf("socket after 2·MSL: %v", err)
				}
				b.Close(fd)
				return nil
			})
			if err := <-res; err != nil {
				t.Fatal(err)
			}
			if err := <-srv; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAcceptWaitsForAFreePCB(t *testing.T) {
	w := newWorld(t)
	// Strict TIME_WAIT: the sixth connection waits for 2·MSL.
	b := w.board("esp1", 2, sockets.Config{KeepTimeWait: true, MaxTCPPCBs: 5, MaxActiveTCP: -1}, netstack.Impairments{})
	pcNode, _ := w.node("pc", 1, netstack.Impairments{})
	var clients []<-chan error
	for i := 0; i < 6; i++ {
		i := i
		s := &netstack.Sockets{Node: pcNode, Actor: w.clock.NewActor("client"), Ctx: w.ctx}
		clients = append(clients, run(s.Actor, func() error {
			netstack.Sleep(w.ctx, s.Actor, time.Duration(1+i)*100*time.Millisecond)
			c, err := s.DialTCP(ap("10.0.0.2:80"))
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, c)
			c.Close()
			return err
		}))
	}
	res := run(b.actor, func() error {
		lfd, _ := b.Socket(sockets.AFInet, sockets.SockStream, 0)
		if err := b.Bind(lfd, "", 80); err != nil {
			return err
		}
		if err := b.Listen(lfd, 8, true); err != nil {
			return err
		}
		var fds []int
		for i := 0; i < 5; i++ {
			fd, _, _, err := b.Accept(w.ctx, lfd)
			if err != nil {
				t.Fatalf("accept #%d: %v", i+1, err)
			}
			fds = append(fds, fd)
		}
		// The sixth client's handshake is done (gVisor answered), but the
		// board has no PCB for it: accept waits.
		b.SetTimeout(lfd, 2*time.Second)
		_, _, _, err := b.Accept(w.ctx, lfd)
		wantErrno(t, "accept with a full PCB pool", err, sockets.ETIMEDOUT)
		if got := b.PollFlags(lfd, sockets.PollIn); got != 0 {
			t.Errorf("poll on the held-back listener = %#x, want 0", got)
		}
		// Closing one connection first leaves it in TIME_WAIT: still full.
		b.Close(fds[0])
		netstack.Sleep(w.ctx, b.actor, time.Second)
		_, _, _, err = b.Accept(w.ctx, lfd)
		wantErrno(t, "accept with a PCB in TIME_WAIT", err, sockets.ETIMEDOUT)
		b.SetTimeout(lfd, -1)
		start := w.clock.Elapsed()
		fd, _, _, err := b.Accept(w.ctx, lfd)
		if err != nil {
			return err
		}
		if waited := w.clock.Elapsed() - start; waited < 100*time.Second {
			t.Errorf("sixth connection accepted after %v, want after TIME_WAIT (~2 min)", waited)
		}
		for _, fd := range append(fds[1:], fd) {
			b.Close(fd)
		}
		b.Close(lfd)
		if st := b.Stats(); st.AcceptDeferred == 0 {
			t.Errorf("Stats().AcceptDeferred = 0, want > 0")
		}
		return nil
	})
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		if err := <-c; err != nil {
			t.Errorf("client %d: %v", i, err)
		}
	}
}

func TestSendIsBoundedBySendBuffer(t *testing.T) {
	w := newWorld(t)
	pc := w.peer("pc", 1, netstack.Impairments{})
	b := w.board("esp1", 2, sockets.Config{}, netstack.Impairments{})
	l, err := pc.ListenTCP(ap("10.0.0.1:9"), 4)
	if err != nil {
		t.Fatal(err)
	}
	// The peer accepts and never reads until the board is done.
	srv := run(pc.Actor, func() error {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		netstack.Sleep(w.ctx, pc.Actor, 10*time.Second)
		io.Copy(io.Discard, c)
		return c.Close()
	})
	res := run(b.actor, func() error {
		fd, _ := b.Socket(sockets.AFInet, sockets.SockStream, 0)
		if err := b.Connect(w.ctx, fd, "10.0.0.1", 9); err != nil {
			return err
		}
		n, err := b.Send(w.ctx, fd, make([]byte, 10000))
		if err != nil || n <= 0 || n > sockets.DefaultSendBuffer {
			t.Errorf("send(10000 bytes) = %d, %v; want 1..%d (TCP_SND_BUF)", n, err, sockets.DefaultSendBuffer)
		}
		b.SetTimeout(fd, 0)
		if err := b.SendAll(w.ctx, fd, make([]byte, 5000)); sockets.Errno(err) != sockets.EAGAIN {
			t.Errorf("non-blocking sendall larger than the free buffer: %v, want EAGAIN", err)
		}
		// Fill the window until the board cannot queue more.
		var last error
		for i := 0; i < 100 && last == nil; i++ {
			_, last = b.Send(w.ctx, fd, make([]byte, 1000))
		}
		wantErrno(t, "non-blocking send with a full buffer", last, sockets.EAGAIN)
		b.SetTimeout(fd, -1)
		return b.Close(fd)
	})
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if err := <-srv; err != nil {
		t.Fatal(err)
	}
}
