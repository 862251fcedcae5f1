package board_test

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/netstack"
)

// The ESP8266's lwIP 1.4 (esp-open-lwip) as scripts on the real firmware see
// it, one test per row of issue 16; the comment of each names the source
// that decides.

// Row 1: tcp_bind and udp_bind never check the address is the board's.
// Row 2: a new or bound TCP socket polls POLLOUT|POLLHUP (tcp_sndbuf of a
// fresh PCB is TCP_SND_BUF) and select puts it in the write list.
// Row 5: recv on a never-connected socket: no pbuf, so EAGAIN when
// non-blocking and ENOTCONN when blocking, and the PCB stays.
// Row 11: the module's surface (modlwip.c's globals table, reprs,
// getaddrinfo's ERR_ARG, mp_obj_get_int on the port).
func TestLwipSocketSurface(t *testing.T) {
	l := newLAN(t)
	pc, ln := l.listener("pc", "10.0.0.1:80", 4, netstack.Impairments{})
	peer := goPeer(pc, func() error {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		io.Copy(io.Discard, c)
		return c.Close()
	})
	r := l.start("esp1", 2, `
import socket, select, lwip
for a in (('127.0.0.1', 8080), ('93.184.216.34', 8081), ('0.0.0.0', 8082)):
    s = socket.socket()
    s.bind(a)
    print('bind', a[0], 'ok')
    s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('8.8.8.8', 5000))
print('udp bind ok')
s = socket.socket()
print('new poll', select.poll().poll(0), end=' ')
p = select.poll()
p.register(s)
print(p.poll(0)[0][1])
s.bind(('', 9000))
print('bound poll', p.poll(0)[0][1])
print('select write', select.select([], [s], [], 0)[1] == [s])
s.setblocking(False)
try:
    s.recv(10)
except OSError as e:
    print('recv new nonblocking', e.errno)
s.setblocking(True)
try:
    s.recv(10)
except OSError as e:
    print('recv new blocking', e.errno)
print(s)
s.connect(('10.0.0.1', 80))
print('connect after ENOTCONN ok')
print(s)
s.settimeout(1.5)
print(s)
s.close()
print(s)
print(u)
for h in ('', 'a' * 256):
    try:
        socket.getaddrinfo(h, 80)
    except OSError as e:
        print('gai', len(h), e.errno)
try:
    socket.getaddrinfo('10.0.0.1', '80')
except TypeError as e:
    print('gai str port TypeError')
try:
    socket.socket().connect(('10.0.0.1', '80'))
except TypeError as e:
    print('connect str port TypeError')
print('lwip', lwip.SOCK_RAW, lwip.socket is socket.socket, lwip.getaddrinfo('1.2.3.4', 5)[0][-1])
print('POLLNVAL', hasattr(select, 'POLLNVAL'))
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, 1)
print('raw', r)
print('modules', socket, lwip, select)
lwip.reset()
lwip.callback()
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	ln.Close()
	<-peer // the peer only accepts; whether it got there before ln.Close does not matter
	wantLines(t, "esp1", out,
		"bind 127.0.0.1 ok", "bind 93.184.216.34 ok", "bind 0.0.0.0 ok", "udp bind ok",
		"new poll [] 20", "bound poll 20", "select write True",
		"recv new nonblocking 11", "recv new blocking 107",
		"<socket state=0 timeout=4294967295 incoming=0 off=0>",
		"connect after ENOTCONN ok",
		"<socket state=3 timeout=4294967295 incoming=0 off=0>",
		"<socket state=3 timeout=1500 incoming=0 off=0>",
		"<socket state=-16 timeout=1500 incoming=0 off=0>",
		"<socket state=5 timeout=4294967295 incoming=0>",
		"gai 0 -12", "gai 256 -12", "gai str port TypeError", "connect str port TypeError",
		"lwip 3 True ('1.2.3.4', 5)", "POLLNVAL False", "raw <socket state=0 timeout=4294967295 incoming=0>",
		"modules <module 'lwip'> <module 'lwip'> <module 'select'>")
}

// Row 3: esp-open-lwip's icmp_input drops every ICMP error, so an
// unreachable address or port never reaches TCP or UDP: a connect with a
// timeout times out, a blocking one gives up after TCP_SYNMAXRTX (6) SYN
// retransmissions 1 s apart (ECONNABORTED at 6.25 s), a connected UDP
// socket's recv just times out.
func TestLwipIgnoresICMPErrors(t *testing.T) {
	l := newLAN(t)
	l.node("pc", 1, netstack.Impairments{}) // answers UDP with port unreachable
	r := l.start("esp1", 2, `
import socket, time
c = socket.socket()
c.settimeout(2)
t = time.ticks_ms()
try:
    c.connect(('10.0.0.77', 80))
except OSError as e:
    print('timeout connect', e.errno, time.ticks_diff(time.ticks_ms(), t))
c = socket.socket()
t = time.ticks_ms()
try:
    c.connect(('10.0.0.77', 80))
except OSError as e:
    print('blocking connect', e.errno, time.ticks_diff(time.ticks_ms(), t))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect(('10.0.0.1', 9))
u.send(b'x')
u.settimeout(1)
for i in range(2):
    try:
        u.recv(10)
    except OSError as e:
        print('udp recv', e.errno)
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	wantLines(t, "esp1", out, "timeout connect 110 2000", "blocking connect 103 6250", "udp recv 110")
}

// Row 4: a RST after the peer's FIN (the PCB in CLOSE_WAIT) is ERR_RST in
// lwIP's tcp_process: ECONNRESET, and the socket polls POLLOUT|POLLHUP.
func TestLwipResetAfterFIN(t *testing.T) {
	l := newLAN(t)
	peer := l.tcpPeer("10.0.0.1:80", netstack.Impairments{}, func(pc *netstack.Sockets, c *netstack.Conn) error {
		if err := c.CloseWrite(); err != nil {
			return err
		}
		netstack.Sleep(l.ctx, pc.Actor, 500*time.Millisecond)
		c.Endpoint().Abort()
		return nil
	})
	r := l.start("esp1", 2, `
import socket, select, time
s = socket.socket()
s.connect(('10.0.0.1', 80))
print('eof', s.recv(10))
time.sleep(1)
p = select.poll()
p.register(s)
print('poll', p.poll(0)[0][1])
try:
    s.send(b'x')
except OSError as e:
    print('send', e.errno)
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t, peer)
	wantLines(t, "esp1", out, "eof b''", "poll 20", "send 104")
}

// Row 6: lwip_tcp_receive copies from the first pbuf of the chain only, so
// one recv never joins segments.
func TestLwipRecvOnePbuf(t *testing.T) {
	l := newLAN(t)
	peer := l.tcpPeer("10.0.0.1:80", netstack.Impairments{}, func(pc *netstack.Sockets, c *netstack.Conn) error {
		c.Endpoint().SocketOptions().SetDelayOption(false)
		for _, n := range []int{1420, 1420, 80} {
			if _, err := c.Write(make([]byte, n)); err != nil {
				return err
			}
			netstack.Sleep(l.ctx, pc.Actor, 50*time.Millisecond)
		}
		netstack.Sleep(l.ctx, pc.Actor, 2*time.Second)
		return c.Close()
	})
	r := l.start("esp1", 2, `
import socket, time
s = socket.socket()
s.connect(('10.0.0.1', 80))
time.sleep(1)
print('recv', [len(s.recv(4096)) for i in range(3)])
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t, peer)
	wantLines(t, "esp1", out, "recv [1420, 1420, 80]")
}

// Row 7: modlwip keeps LWIP_INCOMING_PACKET_QUEUE_LEN (4) datagrams per UDP
// socket and frees any that arrives while the slots are full. (Row 1's
// other half: a socket bound to an address none of the board's receives
// nothing, as udp_input compares the PCB's address with the destination.)
func TestLwipUDPQueueHoldsFour(t *testing.T) {
	l := newLAN(t)
	pc := l.peer("pc", 1, netstack.Impairments{})
	pconn, err := pc.ListenUDP(ap("10.0.0.1:7000"))
	if err != nil {
		t.Fatal(err)
	}
	peer := goPeer(pc, func() error {
		netstack.Sleep(l.ctx, pc.Actor, 500*time.Millisecond)
		// A first datagram resolves the board's MAC, so the six that follow
		// leave in order.
		if _, err := pconn.WriteTo([]byte("w"), ap("10.0.0.2:6000")); err != nil {
			return err
		}
		netstack.Sleep(l.ctx, pc.Actor, 500*time.Millisecond)
		for i := 0; i < 6; i++ {
			if _, err := pconn.WriteTo([]byte(fmt.Sprint(i)), ap("10.0.0.2:6000")); err != nil {
				return err
			}
		}
		_, err := pconn.WriteTo([]byte("lost"), ap("10.0.0.2:6001"))
		return err
	})
	r := l.start("esp1", 2, `
import socket, time
elsewhere = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
elsewhere.bind(('127.0.0.1', 6001))  # udp_input never matches it
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('', 6000))
print('first', u.recv(10))
time.sleep(2)
print(u)
u.setblocking(False)
got = []
try:
    while True:
        got.append(u.recv(10))
except OSError as e:
    print('got', got, e.errno)
print(elsewhere)
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t, peer)
	wantLines(t, "esp1", out, "<socket state=5 timeout=4294967295 incoming=4>", "got [b'0', b'1', b'2', b'3'] 11",
		"<socket state=5 timeout=4294967295 incoming=0>")
}

// Row 9: SO_REUSE is 0 in esp-open-lwip's lwipopts.h: tcp_bind walks every
// PCB list, TIME_WAIT included, udp_bind every UDP PCB, and SO_REUSEADDR
// changes nothing.
func TestLwipBindTimeWaitPortInUse(t *testing.T) {
	l := newLAN(t)
	pc := l.peer("pc", 1, netstack.Impairments{})
	peer := goPeer(pc, func() error {
		netstack.Sleep(l.ctx, pc.Actor, 500*time.Millisecond)
		c, err := pc.DialTCP(ap("10.0.0.2:80"))
		if err != nil {
			return err
		}
		io.Copy(io.Discard, c)
		return c.Close()
	})
	r := l.start("esp1", 2, `
import socket, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('', 80))
srv.listen(1)
c, a = srv.accept()
c.close()
srv.close()
time.sleep(1)
socket.print_pcbs()
for reuse in (0, 1):
    s = socket.socket()
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(('', 80))
        print('bind ok')
    except OSError as e:
        print('bind reuse', reuse, e.errno)
    s.close()
u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u1.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
u1.bind(('', 5000))
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u2.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    u2.bind(('', 5000))
except OSError as e:
    print('udp bind twice', e.errno)
time.sleep(121)
s = socket.socket()
s.bind(('', 80))
print('bind after 2*MSL ok')
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t, peer)
	wantLines(t, "esp1", out, "bind reuse 0 98", "bind reuse 1 98", "udp bind twice 98", "bind after 2*MSL ok")
}

// Row 10: esp-open-lwip sets MEMP_MEM_MALLOC, so socket() takes its PCB from
// the heap (no pool of 5), while tcp_listen_input drops a SYN, silently,
// when tcp_active_pcbs holds exactly MEMP_NUM_TCP_PCB (5) connections.
func TestLwipActiveConnectionCap(t *testing.T) {
	l := newLAN(t)
	pcNode, _ := l.node("pc", 1, netstack.Impairments{})
	var clients []<-chan error
	results := make(chan string, 6)
	for i := 0; i < 6; i++ {
		i := i
		s := &netstack.Sockets{Node: pcNode, Actor: l.clock.NewActor(fmt.Sprint("client", i)), Ctx: l.ctx}
		clients = append(clients, goPeer(s, func() error {
			netstack.Sleep(l.ctx, s.Actor, time.Duration(1000+100*i)*time.Millisecond)
			c, err := s.DialTCP(ap("10.0.0.2:80"))
			if err != nil {
				results <- "refused"
				return nil
			}
			results <- "connected"
			io.Copy(io.Discard, c)
			return c.Close()
		}))
	}
	r := l.start("esp1", 2, `
import socket, time
extra = [socket.socket() for i in range(8)]
print('sockets ok', len(extra))
srv = socket.socket()
srv.bind(('', 80))
srv.listen(8)
conns = []
srv.settimeout(5)
try:
    while True:
        c, a = srv.accept()
        conns.append(c)
except OSError as e:
    print('accepted', len(conns), e.errno)
conns[0].close()
srv.settimeout(30)
c6, a = srv.accept()
print('accepted the sixth after a close')
for c in conns:
    c.close()
c6.close()
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	wantLines(t, "esp1", out, "sockets ok 8", "accepted 5 110", "accepted the sixth after a close")
	if st := r.b.SocketStats(); st.SynDropped == 0 {
		t.Errorf("SocketStats().SynDropped = 0, want the sixth SYN dropped")
	}
	for i, c := range clients {
		select {
		case err := <-c:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("client %d still running; results so far %d", i, len(results))
		}
	}
}

// Row 14: on the wire the board's TCP is lwIP 1.4's: its SYN and SYN-ACK
// offer MSS only in a 24-byte header (no SACK, timestamps or window
// scaling), its window is the
// SDK's TCP_WND (4·TCP_MSS = 5840), and no segment of the board carries a
// timestamp. Read back from the medium's capture.
func TestLwipOnTheWire(t *testing.T) {
	l := newLAN(t)
	pcap, stopCapture := l.capture()
	peer := l.tcpPeer("10.0.0.1:80", netstack.Impairments{}, func(pc *netstack.Sockets, c *netstack.Conn) error {
		io.Copy(io.Discard, c)
		c.Close()
		d, err := pc.DialTCP(ap("10.0.0.2:81"))
		if err != nil {
			return err
		}
		d.Write([]byte("hi"))
		return d.Close()
	})
	r := l.start("esp1", 2, `
import socket
srv = socket.socket()
srv.bind(('', 81))
srv.listen(1)
s = socket.socket()
s.connect(('10.0.0.1', 80))
s.send(b'x' * 3000)
s.close()
c, a = srv.accept()
print('got', c.recv(10))
c.close()
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t, peer)
	wantLines(t, "esp1", out, "got b'hi'")
	stopCapture()
	rd, err := pcapgo.NewNgReader(pcap, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	board := net.IPv4(10, 0, 0, 2)
	var syns, synacks, fromBoard int
	for {
		data, _, err := rd.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcph, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcph == nil || !ip.SrcIP.Equal(board) {
			continue
		}
		fromBoard++
		var kinds []layers.TCPOptionKind
		for _, o := range tcph.Options {
			if o.OptionType != layers.TCPOptionKindNop && o.OptionType != layers.TCPOptionKindEndList {
				kinds = append(kinds, o.OptionType)
			}
		}
		switch {
		case tcph.SYN && !tcph.ACK:
			syns++
		case tcph.SYN && tcph.ACK:
			synacks++
		}
		if tcph.SYN {
			if len(kinds) != 1 || kinds[0] != layers.TCPOptionKindMSS {
				t.Errorf("board's SYN (ACK %v) options %v, want MSS only", tcph.ACK, kinds)
			}
			if tcph.Window != 5840 {
				t.Errorf("board's SYN (ACK %v) window %d, want TCP_WND 5840", tcph.ACK, tcph.Window)
			}
			if tcph.DataOffset != 6 {
				t.Errorf("board's SYN (ACK %v) header is %d words, want 6 (MSS only, 24 bytes)", tcph.ACK, tcph.DataOffset)
			}
		} else if len(kinds) != 0 {
			t.Errorf("board's segment %v carries options %v, want none", tcph.Seq, kinds)
		}
	}
	if syns != 1 || synacks != 1 || fromBoard < 6 {
		t.Errorf("read %d SYNs, %d SYN-ACKs, %d segments from the board; want 1, 1 and a conversation", syns, synacks, fromBoard)
	}
}

// Row 12: the socket and tls modules are C on the ESP8266, so a traceback
// through them names only the script's frames, printed by the runner or by
// sys.print_exception.
func TestLwipTracebackHasOnlyScriptFrames(t *testing.T) {
	l := newLAN(t)
	r := l.start("esp1", 2, `
import socket, sys
def f():
    s = socket.socket()
    s.recv(1)
try:
    f()
except OSError as e:
    sys.print_exception(e)
s = socket.socket()
s.settimeout(1)
s.connect(('10.0.0.77', 80))
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := norm(r.wait(t))
	want := "Traceback (most recent call last):\n" +
		"  File \"main.py\", line 7, in <module>\n" +
		"  File \"main.py\", line 5, in f\n" +
		"OSError: [Errno 107] ENOTCONN\n" +
		"Traceback (most recent call last):\n" +
		"  File \"main.py\", line 12, in <module>\n" +
		"OSError: [Errno 110] ETIMEDOUT\n"
	if out != want {
		t.Errorf("console =\n%s\nwant\n%s", out, want)
	}
	if r.res.Traceback != "Traceback (most recent call last):\n  File \"main.py\", line 12, in <module>\nOSError: [Errno 110] ETIMEDOUT\n" {
		t.Errorf("Result.Traceback = %q", r.res.Traceback)
	}
}

// Row 12 at the source: the frames of the board's own modules never enter
// an exception's traceback (the firmware's mp_obj_exception_add_traceback
// skips them, tracehide.go), so a traceback the script prints into an
// io.StringIO or its own stream shows only the script's frames, as
// modlwip's C methods give on the ESP8266; a user module's frames stay.
func TestLwipTracebackInsideScriptHasOnlyScriptFrames(t *testing.T) {
	l := newLAN(t)
	r := l.start("esp1", 2, `
import socket, sys, io, os
def f():
    s = socket.socket()
    s.settimeout(0.2)
    s.connect(('10.0.0.77', 80))
buf = io.StringIO()
try:
    f()
except OSError as e:
    sys.print_exception(e, buf)
class Lines(io.IOBase):
    def __init__(self):
        self.n = []
    def write(self, b):
        self.n.append(bytes(b).decode())
        return len(b)
out = Lines()
try:
    socket.socket().recv(1)
except OSError as e:
    sys.print_exception(e, out)
try:
    os.mkdir('lib')
except OSError:
    pass
with open('lib/mine.py', 'w') as m:
    m.write('import socket\ndef g():\n    socket.getaddrinfo("", 80)\n')
import mine
try:
    mine.g()
except OSError as e:
    sys.print_exception(e, buf)
print(repr(buf.getvalue()))
print(repr(''.join(out.n)))
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := norm(r.wait(t))
	want := `'Traceback (most recent call last):\n  File "main.py", line 9, in <module>\n  File "main.py", line 6, in f\nOSError: [Errno 110] ETIMEDOUT\n` +
		`Traceback (most recent call last):\n  File "main.py", line 31, in <module>\n  File "/lib/mine.py", line 3, in g\nOSError: -12\n'` + "\n" +
		`'Traceback (most recent call last):\n  File "main.py", line 20, in <module>\nOSError: [Errno 107] ENOTCONN\n'` + "\n"
	if out != want {
		t.Errorf("console =\n%s\nwant\n%s", out, want)
	}
}

// A hard reset restarts the chip and lwIP with it: the TIME_WAIT PCB that
// made bind() fail with EADDRINUSE (row 9) is gone after machine.reset().
func TestLwipHardResetForgetsTimeWait(t *testing.T) {
	l := newLAN(t)
	pc := l.peer("pc", 1, netstack.Impairments{})
	peer := goPeer(pc, func() error {
		netstack.Sleep(l.ctx, pc.Actor, 500*time.Millisecond)
		c, err := pc.DialTCP(ap("10.0.0.2:80"))
		if err != nil {
			return err
		}
		io.Copy(io.Discard, c)
		return c.Close()
	})
	r := l.start("esp1", 2, `
import socket, time, machine, os
def bind():
    s = socket.socket()
    try:
        s.bind(('', 80))
        print('bind ok')
    except OSError as e:
        print('bind', e.errno)
    s.close()
if 'reset' in os.listdir():
    print('cause', machine.reset_cause())
    bind()
else:
    srv = socket.socket()
    srv.bind(('', 80))
    srv.listen(1)
    c, a = srv.accept()
    c.close()
    srv.close()
    time.sleep(1)
    bind()
    open('reset', 'w').close()
    machine.reset()
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	if err := <-peer; err != nil {
		t.Fatal(err)
	}
	wantLines(t, "esp1", out, "bind 98", "cause 4", "bind ok")
}

// Row 8: listen(backlog) as modlwip and lwIP 1.4 do it: every handshake
// completes (TCP_LISTEN_BACKLOG is 0), the accept callback keeps
// max(backlog, 1) connections, and one that finds the slots full is aborted:
// its client sees connect succeed, then a RST.
func TestLwipListenBacklogResetsExtraConnections(t *testing.T) {
	l := newLAN(t)
	pcNode, _ := l.node("pc", 1, netstack.Impairments{})
	type result struct {
		i         int
		connected bool
		readErr   string
	}
	results := make(chan result, 3)
	var clients []<-chan error
	for i := 0; i < 3; i++ {
		i := i
		s := &netstack.Sockets{Node: pcNode, Actor: l.clock.NewActor(fmt.Sprint("client", i)), Ctx: l.ctx}
		clients = append(clients, goPeer(s, func() error {
			netstack.Sleep(l.ctx, s.Actor, time.Duration(500+200*i)*time.Millisecond)
			c, err := s.DialTCP(ap("10.0.0.2:80"))
			if err != nil {
				results <- result{i: i}
				return nil
			}
			_, err = io.ReadAll(c)
			r := result{i: i, connected: true}
			if err != nil {
				r.readErr = err.Error()
			}
			results <- r
			return c.Close()
		}))
	}
	r := l.start("esp1", 2, `
import socket, time
srv = socket.socket()
srv.bind(('', 80))
srv.listen(2)
time.sleep(3)
for i in range(2):
    c, a = srv.accept()
    print('accepted', i)
    c.close()
srv.setblocking(False)
try:
    srv.accept()
except OSError as e:
    print('no third', e.errno)
srv.close()
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	wantLines(t, "esp1", out, "accepted 0", "accepted 1", "no third 11")
	for _, c := range clients {
		if err := <-c; err != nil {
			t.Error(err)
		}
	}
	close(results)
	got := map[int]result{}
	for res := range results {
		got[res.i] = res
	}
	for i := 0; i < 2; i++ {
		if !got[i].connected || got[i].readErr != "" {
			t.Errorf("client %d: %+v, want connected and closed cleanly", i, got[i])
		}
	}
	if !got[2].connected || got[2].readErr == "" {
		t.Errorf("client 2: %+v, want connected, then reset", got[2])
	}
	if st := r.b.SocketStats(); st.BacklogResets != 1 {
		t.Errorf("SocketStats().BacklogResets = %d, want 1", st.BacklogResets)
	}
}

// Row 11: lwIP's udp_sendto sends to port 0 like any other port.
func TestLwipSendToPortZero(t *testing.T) {
	l := newLAN(t)
	pcap, stopCapture := l.capture()
	l.node("pc", 1, netstack.Impairments{})
	r := l.start("esp1", 2, `
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print('sent', u.sendto(b'zero', ('10.0.0.1', 0)))
time.sleep(1)  # the datagram waits for ARP
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	wantLines(t, "esp1", out, "sent 4")
	stopCapture()
	rd, err := pcapgo.NewNgReader(pcap, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for {
		data, _, err := rd.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		if u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && u.DstPort == 0 && string(u.Payload) == "zero" {
			found = true
			if p.ErrorLayer() != nil {
				t.Errorf("datagram to port 0 does not decode: %v", p.ErrorLayer().Error())
			}
		}
	}
	if !found {
		t.Errorf("no datagram to port 0 on the wire")
	}
}

// Row 1, TCP: a listener bound to an address none of the board's (bind
// accepts it) never matches an incoming SYN in tcp_input, which answers RST.
func TestLwipListenerOnForeignAddressRefuses(t *testing.T) {
	l := newLAN(t)
	pc := l.peer("pc", 1, netstack.Impairments{})
	results := make(chan string, 2)
	peer := goPeer(pc, func() error {
		netstack.Sleep(l.ctx, pc.Actor, 500*time.Millisecond)
		for _, a := range []string{"10.0.0.2:80", "10.0.0.2:81"} {
			c, err := pc.DialTCP(ap(a))
			if err != nil {
				results <- a + " refused"
				continue
			}
			results <- a + " connected"
			c.Close()
		}
		return nil
	})
	r := l.start("esp1", 2, `
import socket, time
lo = socket.socket()
lo.bind(('127.0.0.1', 80))
lo.listen(1)
srv = socket.socket()
srv.bind(('', 81))
srv.listen(1)
c, a = srv.accept()
print('accepted on 81')
c.close()
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t, peer)
	wantLines(t, "esp1", out, "accepted on 81")
	if a, b := <-results, <-results; a != "10.0.0.2:80 refused" || b != "10.0.0.2:81 connected" {
		t.Errorf("peer: %q, %q; want port 80 refused (RST), 81 connected", a, b)
	}
}
