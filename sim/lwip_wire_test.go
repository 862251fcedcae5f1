package sim

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lwipWireScenario: the board exchanges three lines with a TCP echo server
// (each reply a lone segment the board does not answer), then downloads
// 20000 bytes over HTTP.
// The board runs with free code (cpu: native): under the CPU model its
// recv loop drains slower than the LAN delivers, the 5840-byte window
// fills, and the ACKs that then go out at once are tcp_recved's window
// updates, not the delayed-ACK rule this test reads off the wire.
const lwipWireScenario = `
name: lwip-wire
duration: 1m
cpu: native
lan_peers:
  - name: pc
    ip: 192.168.1.10
    services:
      tcp_echo: 7
      http:
        pages:
          - {path: /big, body: %q}
boards:
  - name: esp1
    code: |
` + joinSimNet + `      import socket
      s = socket.socket()
      s.connect(("192.168.1.10", 7))
      for i in range(3):
          s.send(b'hello %%d\n' %% i)
          s.recv(100)
          time.sleep_ms(333)
      s.close()
      s = socket.socket()
      s.connect(("192.168.1.10", 80))
      s.send(b'GET /big HTTP/1.0\r\n\r\n')
      n = 0
      while True:
          d = s.recv(1460)
          if not d:
              break
          n += len(d)
      s.close()
      print("got", n)
`

// wireSeg is one TCP segment of a capture, as tshark decodes it.
type wireSeg struct {
	at                   time.Duration // since the capture's first frame
	src                  string
	sport, dport         int
	syn, ack, fin, rst   bool
	seq, ackNo, len, win uint32
	hdrLen               int
	options              string // tcp.option_kind values, comma-separated
}

// tsharkSegments decodes every TCP segment of a capture with tshark.
func tsharkSegments(t *testing.T, pcapPath string) []wireSeg {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("SKIPPING: tshark is not installed; the capture was NOT checked")
	}
	out, err := exec.Command(tshark, "-r", pcapPath, "-Y", "tcp", "-o", "tcp.relative_sequence_numbers:FALSE",
		"-T", "fields", "-E", "separator=;", "-e", "frame.time_relative", "-e", "ip.src",
		"-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack",
		"-e", "tcp.flags.fin", "-e", "tcp.flags.reset", "-e", "tcp.seq", "-e", "tcp.ack",
		"-e", "tcp.len", "-e", "tcp.window_size_value", "-e", "tcp.hdr_len", "-e", "tcp.option_kind").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var segs []wireSeg
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ";")
		if len(f) != 14 {
			t.Fatalf("tshark line %q: %d fields, want 14", line, len(f))
		}
		secs, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatalf("tshark time %q: %v", f[0], err)
		}
		n := func(s string) uint32 {
			v, _ := strconv.ParseUint(s, 10, 32)
			return uint32(v)
		}
		segs = append(segs, wireSeg{
			at: time.Duration(secs*1e6+0.5) * time.Microsecond, src: f[1],
			sport: int(n(f[2])), dport: int(n(f[3])),
			syn: f[4] == "1", ack: f[5] == "1", fin: f[6] == "1", rst: f[7] == "1",
			seq: n(f[8]), ackNo: n(f[9]), len: n(f[10]), win: n(f[11]), hdrLen: int(n(f[12])), options: f[13],
		})
	}
	return segs
}

// Row 14 of issue #16: on the wire the board's TCP is lwIP 1.4's as
// esp-open-lwip builds it. Read back with tshark from the run's capture:
//
//   - its SYNs carry a 24-byte header with the MSS option only
//     (tcp_enqueue_flags: TF_SEG_OPTS_MSS; LWIP_TCP_TIMESTAMPS 0, no SACK
//     or window scaling) and the window TCP_WND, 5840;
//   - delayed ACK (tcp_in.c tcp_ack, tcp.c tcp_fasttmr): a pure ACK that
//     acknowledges new data covers exactly two new segments (the second
//     is acknowledged at once) unless it goes out on a fast tick, every
//     TCP_TMR_INTERVAL (125 ms) from the moment lwIP's TCP timer started
//     (the board's first SYN), or acknowledges a FIN; a lone echo reply is
//     acknowledged on the next tick, 0 to 125 ms after it arrived, never
//     at once.
func TestLwipWireSynAndDelayedAck(t *testing.T) {
	sc := parseYAML(t, "lwip-wire.yaml", fmt.Sprintf(lwipWireScenario, strings.Repeat("x", 20000)))
	var capture lockedBuffer
	res, _ := runScenario(t, sc, Options{Pcap: &capture}) // closed: the capture is complete
	if c := res.Boards[0].Console; !strings.Contains(c, "got 20") {
		t.Fatalf("the download did not finish:\n%s", c)
	}
	pcapPath := filepath.Join(t.TempDir(), "run.pcapng")
	if err := os.WriteFile(pcapPath, capture.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	segs := tsharkSegments(t, pcapPath)
	if testing.Verbose() && os.Getenv("LWIPDUMP") != "" {
		for _, s := range segs {
			t.Logf("%+v", s)
		}
	}

	const boardIP = "192.168.1.100"
	const tick = 125 * time.Millisecond
	var anchor time.Duration
	syns := 0
	for _, s := range segs {
		if s.src != boardIP || !s.syn {
			continue
		}
		if syns == 0 {
			anchor = s.at
		}
		syns++
		if s.hdrLen != 24 || s.options != "2" || s.win != 5840 {
			t.Errorf("board's SYN at %v: header %d bytes, options %q, window %d; want 24 bytes, MSS (2) only, 5840", s.at, s.hdrLen, s.options, s.win)
		}
	}
	if syns != 2 {
		t.Fatalf("saw %d SYNs from the board, want 2", syns)
	}
	onTick := func(at time.Duration) bool { return (at-anchor)%tick == 0 }

	// Per connection: the data segments the board received since its last
	// ACK, and the ACK it last sent.
	type conn struct {
		ends    []uint32
		lastAck uint32
		// synAt and finAt are the ACKs of the peer's SYN and FIN
		// (tcp_ack_now).
		synAt, finAt uint32
		// replyAt is when the last lone echo reply arrived.
		replyAt time.Duration
	}
	conns := map[int]*conn{}
	var pairs, ticked, lone int
	for _, s := range segs {
		if s.src != boardIP {
			c := conns[s.dport]
			if c == nil {
				c = &conn{}
				conns[s.dport] = c
			}
			if s.len > 0 {
				c.ends = append(c.ends, s.seq+s.len)
				if s.sport == 7 {
					c.replyAt = s.at
				}
			}
			if s.fin {
				c.finAt = s.seq + s.len + 1
			}
			if s.syn {
				c.synAt = s.seq + 1
			}
			continue
		}
		c := conns[s.sport]
		if c == nil {
			c = &conn{}
			conns[s.sport] = c
		}
		if s.syn || !s.ack {
			c.lastAck = s.ackNo
			continue
		}
		newSegs := 0
		for _, e := range c.ends {
			if int32(e-c.lastAck) > 0 && int32(s.ackNo-e) >= 0 {
				newSegs++
			}
		}
		if s.len == 0 && !s.fin && int32(s.ackNo-c.lastAck) > 0 {
			switch {
			case s.ackNo == c.finAt || s.ackNo == c.synAt:
			case newSegs == 2:
				pairs++
			case onTick(s.at):
				ticked++
			default:
				t.Errorf("board's ACK %d at %v covers %d new segments off a fast tick (anchor %v); lwIP acknowledges every second segment at once and the rest on a tick", s.ackNo, s.at, newSegs, anchor)
			}
			if s.dport == 7 && newSegs == 1 {
				lone++
				if d := s.at - c.replyAt; d <= 0 || d > tick {
					t.Errorf("the echo reply that arrived at %v was acknowledged at %v, %v later; want on the next fast tick, within (0, 125 ms]", c.replyAt, s.at, d)
				}
			}
		}
		c.lastAck = s.ackNo
		var later []uint32
		for _, e := range c.ends {
			if int32(e-s.ackNo) > 0 {
				later = append(later, e)
			}
		}
		c.ends = later
	}
	t.Logf("pure ACKs: %d after two segments, %d on a fast tick, %d lone echo replies", pairs, ticked, lone)
	if lone != 3 {
		t.Errorf("%d lone echo replies acknowledged by a pure ACK, want 3 (the board sends its next line 333 ms later)", lone)
	}
	if pairs < 5 {
		t.Errorf("%d pure ACKs covered two segments of the 20000-byte download, want at least 5 (about one per two full segments)", pairs)
	}
}
