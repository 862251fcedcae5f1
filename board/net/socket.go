package net

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"github.com/esp8266sim/esp8266sim/board/hostabi"
	"github.com/esp8266sim/esp8266sim/board/sockets"
	"github.com/esp8266sim/esp8266sim/internal/simrand"
)

// The board's network sockets: the _sock host module behind /lib/socket.py,
// select.py, ssl.py, tls.py and asyncio.py. The socket semantics live in
// package board/sockets (the lwIP model); this file wires a table to a board
// and marshals Python arguments.

// SocketEnvKey is the Config.Env key of a board's SocketEnv.
type SocketEnvKey struct{}

// SocketEnv is what the world gives a board's sockets (Config.Env[
// SocketEnvKey{}]). Without one the board gets a stack with no interface:
// socket() works and connect() fails with EHOSTUNREACH, as on a board that
// never joined a network.
type SocketEnv struct {
	// Stack is the board's gVisor stack; NIC its station interface.
	Stack *stack.Stack
	NIC   tcpip.NICID
	// Link is the station interface's frame hooks (its *netstack.NIC):
	// the board's TCP is shaped there to look like lwIP 1.4's on the wire.
	// Nil leaves gVisor's frames as they are.
	Link sockets.Link
	// Resolver answers getaddrinfo (the simulated DNS).
	Resolver sockets.Resolver
	// MaxTCPPCBs, TimeWait and SendBuffer override the ESP8266 profile's
	// lwIP limits (PCBs the heap holds, sockets.DefaultMaxTCPPCBs; 120 s;
	// 2920 bytes); zero keeps them.
	MaxTCPPCBs int
	TimeWait   time.Duration
	SendBuffer int
	// KeepTimeWait makes TIME_WAIT PCBs hold their pool slot for the whole
	// 2·MSL (by default the oldest is recycled when a new PCB is needed, as
	// lwIP's tcp_alloc does).
	KeepTimeWait bool
	// TLS selects the TLS module flavour: "" or "axtls" (the ESP8266: no
	// certificate checks) or "mbedtls" (CERT_REQUIRED, getpeercert).
	TLS sockets.TLSFlavor
	// Trace receives the board's socket calls as trace lines
	// ("socket.connect(('93.184.216.34', 80))"); the world adds the time and
	// the board's name, so they read "esp1 socket.connect(...)" next to the
	// frames they cause.
	Trace func(line string)
}

type socketKey struct{}

// socketState is a board's socket table plus the staging area recv uses to
// hand bytes to Python (Python allocates exactly what arrived).
type socketState struct {
	table  *sockets.Table
	stage  []byte
	from   string
	errMsg *string
	// idle counts consecutive socket calls that found nothing to do;
	// idleCall marks the current call as one of them (a zero-timeout poll
	// that found nothing succeeds, yet must not reset the count, or a
	// script spinning on poll(0) never lets simulated time move).
	idle     int
	idleCall bool
	// txFails counts sends refused by a full radio queue (socket_limits.go).
	txFails int
	// interp is the interpreter that opened the sockets; a soft reset boots
	// a new one, and the board's finalisers would have closed the old
	// one's sockets.
	interp any
}

// boardActor lets the table park the board (with Ctrl-C and the watchdog
// accounted for).
type boardActor struct{ b hostabi.Host }

func (a boardActor) Park(_ context.Context, timeout time.Duration) error {
	if err := a.b.Park(timeout); err != nil {
		return err
	}
	return nil
}

func (a boardActor) Wake() { a.b.Wake() }

// Sockets returns the board's socket table (nil before the script opened a
// socket).
func Sockets(b hostabi.Host) []sockets.SocketInfo {
	st, _ := b.Value(socketKey{}).(*socketState)
	if st == nil {
		return nil
	}
	return st.table.Snapshot()
}

// SocketStats returns the board's socket counters (sockets created and
// closed, socket() calls refused for a full PCB pool, accepts held back,
// TIME_WAIT PCBs recycled); zero before the script opened a socket.
func SocketStats(b hostabi.Host) sockets.Stats {
	st, _ := b.Value(socketKey{}).(*socketState)
	if st == nil {
		return sockets.Stats{}
	}
	return st.table.Stats()
}

// SocketTable returns the board's socket table, creating it if needed.
func SocketTable(b hostabi.Host) (*sockets.Table, error) {
	st, err := socketsOf(b)
	if err != nil {
		return nil, err
	}
	return st.table, nil
}

func socketsOf(b hostabi.Host) (*socketState, error) {
	if st, _ := b.Value(socketKey{}).(*socketState); st != nil {
		return st, nil
	}
	env, _ := b.Env(SocketEnvKey{}).(*SocketEnv)
	if env == nil {
		if e, ok := b.Env(SocketEnvKey{}).(SocketEnv); ok {
			env = &e
		} else {
			env = &SocketEnv{}
		}
	}
	cfg := sockets.Config{
		Stack:        env.Stack,
		NIC:          env.NIC,
		Link:         env.Link,
		Clock:        b.Clock(),
		Actor:        boardActor{b},
		Resolver:     env.Resolver,
		MaxTCPPCBs:   env.MaxTCPPCBs,
		TimeWait:     env.TimeWait,
		SendBuffer:   env.SendBuffer,
		KeepTimeWait: env.KeepTimeWait,
		TLS:          env.TLS,
		Rand:         simrand.Reader(b.Seed(), "board/"+b.Name()+"/tls"),
		ChargeCPU:    b.ChargeCPU,
	}
	if cfg.Stack == nil {
		cfg.Stack = stack.New(stack.Options{
			NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
			TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4},
			RawFactory:         raw.EndpointFactory{},
			Clock:              b.Clock(),
			RandSource:         simrand.Source(b.Seed(), "board/"+b.Name()+"/stack"),
			SecureRNG:          simrand.Reader(b.Seed(), "board/"+b.Name()+"/secure"),
		})
		s := cfg.Stack
		b.OnClose(s.Close)
	}
	cfg.Trace = env.Trace
	t, err := sockets.New(cfg)
	if err != nil {
		return nil, hostabi.RuntimeError(err.Error())
	}
	st := &socketState{table: t}
	b.SetValue(socketKey{}, st)
	b.OnClose(t.CloseAll)
	return st, nil
}

// PowerOffSockets is a hard reset's effect on lwIP (the chip restarts):
// every PCB, TIME_WAIT ones included, is gone, so the rebooted program can
// bind the same ports at once; the next socket call starts a new table. A
// soft reset (Ctrl-D) keeps lwIP's state, as the board's does.
func PowerOffSockets(b hostabi.Host) {
	if st, _ := b.Value(socketKey{}).(*socketState); st != nil {
		st.table.PowerOff()
		b.SetValue(socketKey{}, nil)
	}
}

// idlePoll charges simulated CPU time to a socket call that found nothing
// (EAGAIN, an empty zero-timeout poll), the way Board.PollYield charges
// ticks_ms: the first calls are free, then each costs 100 µs doubling every
// 8 calls up to 10 ms, so a script spinning on a non-blocking socket lets
// time move. It parks with the table's pre-armed timer (see
// sockets.Table.Pause).
func (st *socketState) idlePoll(b hostabi.Host) error {
	st.idle++
	st.idleCall = true
	const free, base, every, most = 32, 100 * time.Microsecond, 8, 10 * time.Millisecond
	if st.idle <= free {
		return nil
	}
	d := most
	if shift := (st.idle - free) / every; shift < 8 {
		if x := base << shift; x < most {
			d = x
		}
	}
	return st.table.Pause(b.Context(), d)
}

// sockErr converts a table error into the Python exception.
func (st *socketState) sockErr(err error) error {
	var oe *sockets.OSError
	if errors.As(err, &oe) {
		if oe.Value {
			if oe.Msg == "" {
				return &hostabi.PyError{Type: "ValueError"}
			}
			return hostabi.ValueError(oe.Msg)
		}
		if oe.Msg == "NotImplementedError" {
			return &hostabi.PyError{Type: "NotImplementedError"}
		}
		if oe.Msg != "" {
			m := oe.Msg
			st.errMsg = &m
		}
		return hostabi.OSError(oe.Errno)
	}
	return err
}

type sockFunc func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error)

func regSock(name string, f sockFunc) {
	hostabi.RegisterFunc("_sock", name, func(b hostabi.Host, args []hostabi.Value) (hostabi.Value, error) {
		st, err := socketsOf(b)
		if err != nil {
			return nil, err
		}
		st.errMsg = nil
		st.idleCall = false
		v, err := f(b, st, args)
		if err != nil {
			if perr := st.txFull(b, err); perr != nil {
				return nil, perr
			}
			if e := sockets.Errno(err); e == sockets.EAGAIN || e == sockets.EINPROGRESS {
				// A non-blocking call that found nothing (or a full
				// radio queue): a script may spin on it, so charge it
				// like any busy-loop poll.
				if perr := st.idlePoll(b); perr != nil {
					return nil, perr
				}
			}
			// A line the firmware's C code prints before failing (axTLS's
			// "TLS buffer overflow, ...") goes to the console first.
			var n interface{ Notice() string }
			if errors.As(err, &n) {
				b.ConsoleWrite([]byte(n.Notice()))
			}
			return nil, st.sockErr(err)
		}
		if !st.idleCall {
			st.idle = 0
		}
		return v, nil
	})
}

// argTimeout reads a timeout in milliseconds (-1 or None: block).
func argTimeout(args []hostabi.Value, i int) (time.Duration, error) {
	if i < len(args) && args[i] == nil {
		return -1, nil
	}
	ms, err := hostabi.ArgInt(args, i)
	if err != nil {
		return 0, err
	}
	if ms < 0 {
		return -1, nil
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// stageRead runs a read into the staging buffer; Python then takes the bytes.
func (st *socketState) stageRead(n int, read func(p []byte) (int, error)) (hostabi.Value, error) {
	if n < 0 {
		n = 0
	}
	if cap(st.stage) < n {
		st.stage = make([]byte, n)
	}
	got, err := read(st.stage[:n])
	st.stage = st.stage[:got]
	if err != nil {
		return nil, err
	}
	return int64(got), nil
}

func init() {
	// init() is called by socket.py when it is imported, once per
	// interpreter: sockets left by the interpreter before a soft reset are
	// closed, as gc_sweep_all's finalisers close them on the ESP8266.
	regSock("init", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		if st.interp != nil && st.interp != any(b.Instance()) {
			st.table.CloseOpen()
		}
		st.interp = b.Instance()
		return nil, nil
	})
	regSock("socket", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		af, typ, proto := sockets.AFInet, sockets.SockStream, 0
		var err error
		if len(args) > 0 {
			if af, err = hostabi.ArgInt(args, 0); err != nil {
				return nil, err
			}
		}
		if len(args) > 1 {
			if typ, err = hostabi.ArgInt(args, 1); err != nil {
				return nil, err
			}
		}
		if len(args) > 2 {
			if proto, err = hostabi.ArgInt(args, 2); err != nil {
				return nil, err
			}
		}
		fd, err := st.table.Socket(af, typ, proto)
		return int64(fd), err
	})
	// close(fd[, forget]): forget is set by the finaliser, after which no
	// repr of the socket can be asked for.
	regSock("close", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, err := hostabi.ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		forget := len(args) > 1 && args[1] != nil
		return nil, st.table.CloseKeepRepr(fd, forget)
	})
	regSock("repr", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, err := hostabi.ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		return st.table.ReprOrClosed(fd), nil
	})
	regSock("bind", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, host, port, err := fdHostPort(args, 0)
		if err != nil {
			return nil, err
		}
		return nil, st.table.Bind(fd, host, port)
	})
	regSock("listen", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, err := hostabi.ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		if len(args) < 2 || args[1] == nil {
			return nil, st.table.Listen(fd, 0, false)
		}
		backlog, err := hostabi.ArgInt(args, 1)
		if err != nil {
			return nil, err
		}
		return nil, st.table.Listen(fd, backlog, true)
	})
	regSock("accept", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, err := hostabi.ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		nfd, host, port, err := st.table.Accept(b.Context(), fd)
		if err != nil {
			return nil, err
		}
		return strconv.Itoa(nfd) + " " + host + " " + strconv.Itoa(port), nil
	})
	regSock("connect", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, host, port, err := fdHostPort(args, 0)
		if err != nil {
			return nil, err
		}
		return nil, st.table.Connect(b.Context(), fd, host, port)
	})
	// send(fd, addr, n), sendall(fd, addr, n), write(fd, addr, n)
	regSock("send", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, buf, err := fdBuf(b, args)
		if err != nil {
			return nil, err
		}
		n, err := st.table.Send(b.Context(), fd, buf)
		return int64(n), err
	})
	regSock("sendall", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, buf, err := fdBuf(b, args)
		if err != nil {
			return nil, err
		}
		return nil, st.table.SendAll(b.Context(), fd, buf)
	})
	regSock("write", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, buf, err := fdBuf(b, args)
		if err != nil {
			return nil, err
		}
		n, err := st.table.WriteStream(b.Context(), fd, buf)
		if err != nil && n == 0 {
			return nil, err
		}
		return int64(n), nil
	})
	// sendto(fd, addr, n, host, port)
	regSock("sendto", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, buf, err := fdBuf(b, args)
		if err != nil {
			return nil, err
		}
		host, err := hostabi.ArgStr(args, 3)
		if err != nil {
			return nil, err
		}
		port, err := hostabi.ArgInt(args, 4)
		if err != nil {
			return nil, err
		}
		n, err := st.table.SendTo(b.Context(), fd, buf, host, port)
		return int64(n), err
	})
	// recv(fd, n, flags) -> count staged; take(addr, n) copies them out.
	regSock("recv", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, n, flags, err := fdNFlags(args)
		if err != nil {
			return nil, err
		}
		if err := checkReadSize(b, n); err != nil {
			return nil, err
		}
		return st.stageRead(n, func(p []byte) (int, error) { return st.table.Recv(b.Context(), fd, p, flags) })
	})
	regSock("recvfrom", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, n, flags, err := fdNFlags(args)
		if err != nil {
			return nil, err
		}
		if err := checkReadSize(b, n); err != nil {
			return nil, err
		}
		return st.stageRead(n, func(p []byte) (int, error) {
			got, host, port, err := st.table.RecvFrom(b.Context(), fd, p, flags)
			st.from = host + " " + strconv.Itoa(port)
			return got, err
		})
	})
	regSock("peer", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		return st.from, nil
	})
	// read(fd, n, once): stream read of up to n bytes (-1: until EOF).
	regSock("read", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, n, once, err := fdNFlags(args)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			data, err := st.table.ReadAll(b.Context(), fd, hostReadLimit(b))
			st.stage = append(st.stage[:0], data...)
			if sockets.Errno(err) == sockets.ENOMEM {
				st.stage = st.stage[:0]
				return nil, allocError(len(data))
			}
			if err != nil && len(data) == 0 {
				return nil, err
			}
			return int64(len(data)), nil
		}
		if err := checkReadSize(b, n); err != nil {
			return nil, err
		}
		return st.stageRead(n, func(p []byte) (int, error) {
			got, err := st.table.ReadStream(b.Context(), fd, p, once != 0)
			if err != nil && got > 0 && sockets.Errno(err) == sockets.EAGAIN {
				err = nil
			}
			return got, err
		})
	})
	regSock("readline", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, n, _, err := fdNFlags(args)
		if err != nil {
			return nil, err
		}
		if n < 0 || n >= hostReadLimit(b) {
			// A line as long as the heap could never be allocated.
			n = hostReadLimit(b)
		}
		line, err := st.table.ReadLine(b.Context(), fd, n)
		if err == nil && len(line) >= hostReadLimit(b) {
			return nil, allocError(len(line) + 1)
		}
		st.stage = append(st.stage[:0], line...)
		if err != nil {
			return nil, err
		}
		return int64(len(line)), nil
	})
	// take(addr, n): copy n staged bytes into a Python buffer.
	regSock("take", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		buf, err := b.ArgBuf(args, 0)
		if err != nil {
			return nil, err
		}
		n := copy(buf, st.stage)
		st.stage = st.stage[:0]
		return int64(n), nil
	})
	regSock("settimeout", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, err := hostabi.ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		d, err := argTimeout(args, 1)
		if err != nil {
			return nil, err
		}
		return nil, st.table.SetTimeout(fd, d)
	})
	regSock("setsockopt", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		var v [4]int
		for i := range v {
			x, err := hostabi.ArgInt(args, i)
			if err != nil {
				return nil, err
			}
			v[i] = x
		}
		warn, err := st.table.SetSockOpt(v[0], v[1], v[2], v[3])
		if err != nil {
			return nil, err
		}
		if warn != "" {
			return warn, nil
		}
		return nil, nil
	})
	// mcast(fd, addr, n, join): IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP.
	regSock("mcast", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, buf, err := fdBuf(b, args)
		if err != nil {
			return nil, err
		}
		join, err := hostabi.ArgInt(args, 3)
		if err != nil {
			return nil, err
		}
		return nil, st.table.Membership(fd, join != 0, buf)
	})
	regSock("pollflags", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, err := hostabi.ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		ev, err := hostabi.ArgInt(args, 1)
		if err != nil {
			return nil, err
		}
		return int64(st.table.PollFlags(fd, ev)), nil
	})
	// poll("fd:events;fd:events", timeout_ms) -> "revents;revents"
	regSock("poll", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		spec, err := hostabi.ArgStr(args, 0)
		if err != nil {
			return nil, err
		}
		d, err := argTimeout(args, 1)
		if err != nil {
			return nil, err
		}
		reqs, err := parsePollSpec(spec)
		if err != nil {
			return nil, err
		}
		if len(reqs) == 0 {
			if d < 0 {
				return nil, b.Park(-1)
			}
			return "", b.Sleep(d)
		}
		out, err := st.table.Poll(b.Context(), reqs, d)
		if err != nil {
			return nil, err
		}
		if d == 0 {
			idle := true
			for _, r := range out {
				if r != 0 {
					idle = false
					break
				}
			}
			if idle {
				if err := st.idlePoll(b); err != nil {
					return nil, err
				}
			}
		}
		var sb strings.Builder
		for i, r := range out {
			if i > 0 {
				sb.WriteByte(';')
			}
			sb.WriteString(strconv.Itoa(r))
		}
		return sb.String(), nil
	})
	regSock("getaddrinfo", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		host, err := hostabi.ArgStr(args, 0)
		if err != nil {
			return nil, err
		}
		a, err := st.table.GetAddrInfo(b.Context(), host)
		if err != nil {
			return nil, err
		}
		return a.String(), nil
	})
	regSock("print_pcbs", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		var sb strings.Builder
		st.table.PrintPCBs(&sb)
		return sb.String(), nil
	})
	regSock("tls_flavor", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		return string(st.table.TLSFlavor()), nil
	})
	// wrap(fd, server_side, hostname|None, verify, ca_addr, ca_len,
	//      cert_addr, cert_len, key_addr, key_len, do_handshake) -> fd
	regSock("wrap", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, err := hostabi.ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		var o sockets.TLSOptions
		server, err := hostabi.ArgInt(args, 1)
		if err != nil {
			return nil, err
		}
		o.ServerSide = server != 0
		if len(args) > 2 && args[2] != nil {
			if o.ServerHostname, err = hostabi.ArgStr(args, 2); err != nil {
				return nil, err
			}
		}
		if o.VerifyMode, err = hostabi.ArgInt(args, 3); err != nil {
			return nil, err
		}
		bufs := make([][]byte, 3)
		for i := range bufs {
			n, err := hostabi.ArgInt(args, 5+2*i)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				continue
			}
			p, err := b.ArgBuf(args, 4+2*i)
			if err != nil {
				return nil, err
			}
			bufs[i] = append([]byte(nil), p...)
		}
		o.CAData, o.Cert, o.Key = bufs[0], bufs[1], bufs[2]
		hs, err := hostabi.ArgInt(args, 10)
		if err != nil {
			return nil, err
		}
		o.DoHandshake = hs != 0
		nfd, err := st.table.WrapTLS(b.Context(), fd, o)
		return int64(nfd), err
	})
	// tls_hello(hostname|None) -> length of axTLS's ClientHello record
	// (staged for take).
	regSock("tls_hello", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		host := ""
		if len(args) > 0 && args[0] != nil {
			var err error
			if host, err = hostabi.ArgStr(args, 0); err != nil {
				return nil, err
			}
		}
		st.stage = append(st.stage[:0], st.table.AxTLSHello(host)...)
		return int64(len(st.stage)), nil
	})
	// tls_check(key_addr, key_len, cert_addr, cert_len): axTLS's key and
	// certificate loading, for streams that are not board sockets.
	regSock("tls_check", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		bufs := make([][]byte, 2)
		keyOnly := false
		for i := range bufs {
			n, err := hostabi.ArgInt(args, 1+2*i)
			if err != nil {
				return nil, err
			}
			keyOnly = keyOnly || n < 0
			if n <= 0 {
				continue
			}
			p, err := b.ArgBuf(args, 2*i)
			if err != nil {
				return nil, err
			}
			bufs[i] = append([]byte(nil), p...)
		}
		return nil, sockets.CheckAxTLSKey(bufs[0], bufs[1], keyOnly)
	})
	regSock("peercert", func(b hostabi.Host, st *socketState, args []hostabi.Value) (hostabi.Value, error) {
		fd, err := hostabi.ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		der, err := st.table.PeerCert(fd)
		if err != nil {
			return nil, err
		}
		st.stage = append(st.stage[:0], der...)
		return int64(len(der)), nil
	})
}

// errmsg (the second argument of the last OSError, or None) is registered
// without regSock's wrapper, which would clear it.
func init() {
	hostabi.RegisterFunc("_sock", "errmsg", func(b hostabi.Host, args []hostabi.Value) (hostabi.Value, error) {
		st, _ := b.Value(socketKey{}).(*socketState)
		if st == nil || st.errMsg == nil {
			return nil, nil
		}
		m := *st.errMsg
		st.errMsg = nil
		return m, nil
	})
}

func fdHostPort(args []hostabi.Value, i int) (int, string, int, error) {
	fd, err := hostabi.ArgInt(args, i)
	if err != nil {
		return 0, "", 0, err
	}
	host, err := hostabi.ArgStr(args, i+1)
	if err != nil {
		return 0, "", 0, err
	}
	port, err := hostabi.ArgInt(args, i+2)
	if err != nil {
		return 0, "", 0, err
	}
	return fd, host, port, nil
}

func fdBuf(b hostabi.Host, args []hostabi.Value) (int, []byte, error) {
	fd, err := hostabi.ArgInt(args, 0)
	if err != nil {
		return 0, nil, err
	}
	n, err := hostabi.ArgInt(args, 2)
	if err != nil {
		return 0, nil, err
	}
	if n == 0 {
		return fd, nil, nil
	}
	buf, err := b.ArgBuf(args, 1)
	return fd, buf, err
}

func fdNFlags(args []hostabi.Value) (fd, n, flags int, err error) {
	if fd, err = hostabi.ArgInt(args, 0); err != nil {
		return
	}
	if n, err = hostabi.ArgInt(args, 1); err != nil {
		return
	}
	if len(args) > 2 && args[2] != nil {
		flags, err = hostabi.ArgInt(args, 2)
	}
	return
}

func parsePollSpec(spec string) ([]sockets.PollReq, error) {
	if spec == "" {
		return nil, nil
	}
	parts := strings.Split(spec, ";")
	reqs := make([]sockets.PollReq, 0, len(parts))
	for _, p := range parts {
		fdS, evS, ok := strings.Cut(p, ":")
		fd, err1 := strconv.Atoi(fdS)
		ev, err2 := strconv.Atoi(evS)
		if !ok || err1 != nil || err2 != nil {
			return nil, hostabi.ValueError("bad poll spec")
		}
		reqs = append(reqs, sockets.PollReq{FD: fd, Events: ev})
	}
	return reqs, nil
}
