package services

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FaultKind is a kind of host fault, in fault-injection-proxy terms.
type FaultKind int

const (
	// FaultRefuse: connections are refused (RST to the SYN). At
	// probability 1 the listener is closed, so the SYN itself is answered
	// with an RST; below 1 the unlucky connection is accepted and reset at
	// once (gVisor offers no per-SYN hook).
	FaultRefuse FaultKind = iota + 1
	// FaultBlackhole: the connection is accepted and never answered (what
	// the client sends is read and dropped). UDP: datagrams are dropped.
	FaultBlackhole
	// FaultResetAfter: the connection is reset (RST) After it opened, or
	// once Bytes have passed in Direction.
	FaultResetAfter
	// FaultSlowClose: the service's close (its FIN) is delayed by Delay.
	FaultSlowClose
	// FaultBandwidth: data in Direction flows at most at Rate bytes/s.
	FaultBandwidth
	// FaultSlice: writes (downstream) are cut into pieces of Bytes, sent
	// as separate segments Delay apart; reads (upstream) return at most
	// Bytes at a time.
	FaultSlice
	// FaultLatency: Delay (± Jitter) is added before every write
	// (downstream) or after every read (upstream). UDP: replies are late.
	FaultLatency
)

var faultNames = map[FaultKind]string{
	FaultRefuse:     "refuse",
	FaultBlackhole:  "blackhole",
	FaultResetAfter: "reset_after",
	FaultSlowClose:  "slow_close",
	FaultBandwidth:  "bandwidth",
	FaultSlice:      "slice",
	FaultLatency:    "latency",
}

func (k FaultKind) String() string {
	if n, ok := faultNames[k]; ok {
		return n
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// ParseFaultKind maps a scenario word (refuse, down, blackhole, reset_after,
// slow_close, bandwidth, slice, latency) to a FaultKind.
func ParseFaultKind(s string) (FaultKind, error) {
	w := strings.ReplaceAll(strings.ToLower(s), "-", "_")
	if w == "down" {
		return FaultRefuse, nil
	}
	for k, n := range faultNames {
		if n == w {
			return k, nil
		}
	}
	return 0, fmt.Errorf("services: unknown fault kind %q (want refuse, blackhole, reset_after, slow_close, bandwidth, slice or latency)", s)
}

// Direction says which way of a connection a fault acts on.
type Direction int

const (
	// Both directions.
	Both Direction = iota
	// Upstream is client (board) to host.
	Upstream
	// Downstream is host to client (board).
	Downstream
)

func (d Direction) up() bool   { return d == Both || d == Upstream }
func (d Direction) down() bool { return d == Both || d == Downstream }

// Fault is one host fault. Which fields matter depends on Kind.
type Fault struct {
	Kind FaultKind
	// Port limits the fault to one service port; 0 means every port.
	Port int
	// Direction is Both (default), Upstream or Downstream.
	Direction Direction
	// Probability (0–1) that a connection (or datagram) is affected; 0
	// means 1.
	Probability float64
	// After: reset_after resets this long after the connection opened.
	After time.Duration
	// Bytes: reset_after resets after this many bytes; slice cuts pieces of
	// this size.
	Bytes int64
	// Delay: slow_close, latency, and the pause between slices.
	Delay time.Duration
	// Jitter: latency varies by up to ± this much.
	Jitter time.Duration
	// Rate: bandwidth in bytes per second.
	Rate int64
}

// Validate reports a fault that cannot work, naming the field.
func (f Fault) Validate() error {
	if _, ok := faultNames[f.Kind]; !ok {
		return fmt.Errorf("services: fault kind %v unknown", f.Kind)
	}
	if f.Probability < 0 || f.Probability > 1 {
		return fmt.Errorf("services: %v fault: Probability %v is outside 0–1", f.Kind, f.Probability)
	}
	if f.Port < 0 || f.Port > 65535 {
		return fmt.Errorf("services: %v fault: Port %d is not a port", f.Kind, f.Port)
	}
	if f.After < 0 || f.Delay < 0 || f.Jitter < 0 || f.Bytes < 0 || f.Rate < 0 {
		return fmt.Errorf("services: %v fault: negative After, Delay, Jitter, Bytes or Rate", f.Kind)
	}
	switch f.Kind {
	case FaultResetAfter:
		if f.After == 0 && f.Bytes == 0 {
			return fmt.Errorf("services: reset_after fault needs After or Bytes")
		}
	case FaultBandwidth:
		if f.Rate == 0 {
			return fmt.Errorf("services: bandwidth fault needs Rate > 0")
		}
	case FaultSlice:
		if f.Bytes == 0 {
			return fmt.Errorf("services: slice fault needs Bytes > 0")
		}
	case FaultLatency, FaultSlowClose:
		if f.Delay == 0 {
			return fmt.Errorf("services: %v fault needs Delay > 0", f.Kind)
		}
	}
	return nil
}

// faultSet holds the host's faults and rolls them for each connection.
type faultSet struct {
	mu sync.Mutex
	// Guarded by mu.
	faults []Fault
	rng    *rand.Rand
}

func (fs *faultSet) set(f []Fault) {
	fs.mu.Lock()
	fs.faults = append([]Fault(nil), f...)
	fs.mu.Unlock()
}

func (fs *faultSet) list() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]Fault(nil), fs.faults...)
}

// roll returns the faults that hit one new connection (or datagram) on
// port: each applies with its probability, drawn from the seeded stream.
func (fs *faultSet) roll(port int) []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []Fault
	for _, f := range fs.faults {
		if f.Port != 0 && f.Port != port {
			continue
		}
		p := f.Probability
		if p == 0 {
			p = 1
		}
		if p < 1 && fs.rng.Float64() >= p {
			continue
		}
		out = append(out, f)
	}
	return out
}

func (fs *faultSet) jitter(f Fault) time.Duration {
	d := f.Delay
	if f.Jitter > 0 {
		fs.mu.Lock()
		d += time.Duration(fs.rng.Int64N(int64(2*f.Jitter)+1)) - f.Jitter
		fs.mu.Unlock()
	}
	return max(d, 0)
}

// refusesAll reports whether a probability-1 refuse fault covers port.
func (fs *faultSet) refusesAll(port int) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.faults {
		if f.Kind == FaultRefuse && (f.Port == 0 || f.Port == port) && (f.Probability == 0 || f.Probability >= 1) {
			return true
		}
	}
	return false
}

func has(fs []Fault, k FaultKind) (Fault, bool) {
	for _, f := range fs {
		if f.Kind == k {
			return f, true
		}
	}
	return Fault{}, false
}

// faultConn applies a connection's faults to what the service reads and
// writes. It is used by the conn's one goroutine.
type faultConn struct {
	*Conn
	faults []Fault
	set    *faultSet
	up     int64 // bytes read so far
	down   int64 // bytes written so far
	timer  interface{ Stop() bool }
}

func wrapFaults(c *Conn, fs []Fault, set *faultSet) net.Conn {
	if len(fs) == 0 {
		return c
	}
	fc := &faultConn{Conn: c, faults: fs, set: set}
	if f, ok := has(fs, FaultResetAfter); ok && f.After > 0 {
		fc.timer = c.clock.AfterFunc(f.After, c.Reset)
	}
	return fc
}

func (fc *faultConn) resetNow(op string) error {
	fc.Conn.Reset()
	return fc.opError(op, syscall.ECONNRESET)
}

func (fc *faultConn) Read(p []byte) (int, error) {
	limit := len(p)
	for _, f := range fc.faults {
		if f.Kind == FaultSlice && f.Direction.up() && int(f.Bytes) < limit {
			limit = int(f.Bytes)
		}
		if f.Kind == FaultResetAfter && f.Bytes > 0 && f.Direction.up() {
			left := f.Bytes - fc.up
			if left <= 0 {
				return 0, fc.resetNow("read")
			}
			if int64(limit) > left {
				limit = int(left)
			}
		}
	}
	n, err := fc.Conn.Read(p[:limit])
	fc.up += int64(n)
	if n > 0 {
		for _, f := range fc.faults {
			switch {
			case f.Kind == FaultLatency && f.Direction.up():
				fc.sleep(fc.set.jitter(f))
			case f.Kind == FaultBandwidth && f.Direction.up():
				fc.sleep(time.Duration(int64(n) * int64(time.Second) / f.Rate))
			case f.Kind == FaultSlice && f.Direction.up() && f.Delay > 0:
				fc.sleep(f.Delay)
			}
		}
	}
	return n, err
}

func (fc *faultConn) Write(p []byte) (int, error) {
	piece := len(p)
	var rate int64
	var slice Fault
	sliced := false
	for _, f := range fc.faults {
		switch {
		case f.Kind == FaultLatency && f.Direction.down():
			if err := fc.sleep(fc.set.jitter(f)); err != nil {
				return 0, fc.opError("write", err)
			}
		case f.Kind == FaultSlice && f.Direction.down():
			slice, sliced = f, true
			piece = min(piece, int(f.Bytes))
			fc.SetNoDelay(true)
		case f.Kind == FaultBandwidth && f.Direction.down():
			rate = f.Rate
			// Pace in pieces of about a tenth of a second of data.
			piece = min(piece, max(int(f.Rate/10), 1))
		}
	}
	total := 0
	for total < len(p) {
		n := min(piece, len(p)-total)
		for _, f := range fc.faults {
			if f.Kind == FaultResetAfter && f.Bytes > 0 && f.Direction.down() {
				left := f.Bytes - fc.down
				if left <= 0 {
					return total, fc.resetNow("write")
				}
				n = min(n, int(left))
			}
		}
		w, err := fc.Conn.Write(p[total : total+n])
		total += w
		fc.down += int64(w)
		if err != nil {
			return total, err
		}
		if rate > 0 {
			fc.sleep(time.Duration(int64(w) * int64(time.Second) / rate))
		}
		if sliced && slice.Delay > 0 && total < len(p) {
			fc.sleep(slice.Delay)
		}
	}
	// A reset-after-bytes limit reached exactly at the end of a write
	// resets now, as a proxy cutting the stream would.
	for _, f := range fc.faults {
		if f.Kind == FaultResetAfter && f.Bytes > 0 && f.Direction.down() && fc.down >= f.Bytes {
			return total, fc.resetNow("write")
		}
	}
	return total, nil
}

func (fc *faultConn) Close() error {
	if fc.timer != nil {
		fc.timer.Stop()
	}
	if f, ok := has(fc.faults, FaultSlowClose); ok {
		fc.sleep(f.Delay)
	}
	return fc.Conn.Close()
}
