package netstack

import (
	"context"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

const benchChunk = 1 << 20

// bulkMedium sends b.N MiB from a to b through the medium and reports MB/s.
func bulkMedium(b *testing.B, capture, traced bool) {
	clock := vclock.New(vclock.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); clock.Run(ctx) }()
	defer func() { cancel(); <-done }()
	var tr *trace.Log
	if traced {
		tr = trace.New(trace.Config{Keep: -1})
	}
	m, err := NewMedium(MediumConfig{Clock: clock, Trace: tr})
	if err != nil {
		b.Fatal(err)
	}
	if capture {
		c, err := NewCapture(io.Discard, clock)
		if err != nil {
			b.Fatal(err)
		}
		m.SetCapture(c)
	}
	w := &world{t: b, clock: clock, medium: m, trace: tr, ctx: ctx}
	na, _ := w.node("a", 1, 1, Impairments{})
	nb, _ := w.node("b", 2, 1, Impairments{})
	srv := &Sockets{Node: nb, Actor: clock.NewActor("sink"), Ctx: ctx}
	cli := &Sockets{Node: na, Actor: clock.NewActor("source"), Ctx: ctx}
	defer cli.Actor.Close()
	l, err := srv.ListenTCP(addr(2, 9), 1)
	if err != nil {
		b.Fatal(err)
	}
	total := make(chan int64, 1)
	go func() {
		defer srv.Actor.Close()
		c, err := l.Accept()
		if err != nil {
			b.Error(err)
			total <- 0
			return
		}
		n, _ := io.Copy(io.Discard, c)
		total <- n
	}()
	c, err := cli.DialTCP(addr(2, 9))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, benchChunk)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.CloseWrite()
	n := <-total
	el := time.Since(start)
	b.StopTimer()
	c.Close()
	if n != int64(b.N)*benchChunk {
		b.Fatalf("sink got %d bytes, want %d", n, int64(b.N)*benchChunk)
	}
	b.ReportMetric(float64(clock.Advances())/float64(b.N), "jumps/MiB")
	b.ReportMetric(clock.Elapsed().Seconds()/float64(b.N), "simsec/MiB")
	b.ReportMetric(float64(n)/1e6/el.Seconds(), "MB/s")
}

func BenchmarkTCPThroughputMedium(b *testing.B) { bulkMedium(b, false, false) }

func BenchmarkCaptureOverhead(b *testing.B) {
	b.Run("off", func(b *testing.B) { bulkMedium(b, false, false) })
	b.Run("capture", func(b *testing.B) { bulkMedium(b, true, false) })
	b.Run("capture+trace", func(b *testing.B) { bulkMedium(b, true, true) })
}

// BenchmarkTCPThroughputDirect is the reference: two gVisor stacks joined by
// gVisor's own pipe link, the standard clock, gonet sockets.
func BenchmarkTCPThroughputDirect(b *testing.B) {
	newStack := func() *stack.Stack {
		return stack.New(stack.Options{
			NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
			TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
		})
	}
	sa, sb := newStack(), newStack()
	defer sa.Destroy()
	defer sb.Destroy()
	ea, eb := pipe.New("\x02\x00\x00\x00\x00\x01", "\x02\x00\x00\x00\x00\x02", DefaultMTU+14)
	for i, s := range []*stack.Stack{sa, sb} {
		ep := ethernet.New([]*pipe.Endpoint{ea, eb}[i])
		if err := s.CreateNIC(1, ep); err != nil {
			b.Fatal(err)
		}
		a := netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})
		if err := s.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: addrFrom(a), PrefixLen: 24}}, stack.AddressProperties{}); err != nil {
			b.Fatal(err)
		}
		s.SetRouteTable([]tcpip.Route{{Destination: prefixSubnet(netip.MustParsePrefix("10.0.0.0/24")), NIC: 1}})
	}
	l, err := gonet.ListenTCP(sb, fullAddr(addr(2, 9)), ipv4.ProtocolNumber)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	total := make(chan int64, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			total <- 0
			return
		}
		n, _ := io.Copy(io.Discard, c)
		total <- n
	}()
	c, err := gonet.DialTCP(sa, fullAddr(addr(2, 9)), ipv4.ProtocolNumber)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, benchChunk)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.CloseWrite()
	n := <-total
	el := time.Since(start)
	b.StopTimer()
	c.Close()
	b.ReportMetric(float64(n)/1e6/el.Seconds(), "MB/s")
}

// BenchmarkSwitchFrames pushes raw frames through the switch and both links
// into the receiving NIC and reports frames per second.
func BenchmarkSwitchFrames(b *testing.B) {
	clock := vclock.New(vclock.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); clock.Run(ctx) }()
	defer func() { cancel(); <-done }()
	m, err := NewMedium(MediumConfig{Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	w := &world{t: b, clock: clock, medium: m, ctx: ctx}
	_, anic := w.node("a", 1, 1, Impairments{})
	_, bnic := w.node("b", 2, 1, Impairments{})
	// A frame of an unknown ethertype: the receiving stack drops it at
	// once, so this measures the medium.
	raw := make([]byte, 1514)
	copy(raw[0:6], bnic.MAC())
	copy(raw[6:12], anic.MAC())
	raw[12], raw[13] = 0x88, 0xb5
	att := anic.Attachment()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		f := getFrame(len(raw))
		copy(f.b, raw)
		att.transmit(f)
	}
	for {
		_, in := bnic.Attachment().Stats()
		if in.Delivered >= uint64(b.N) {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "frames/s")
}
