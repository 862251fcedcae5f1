package netstack

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Capture writes the frames crossing the media it is given to, as pcapng
// (Wireshark, tshark), with one interface per attachment named after its
// node and timestamps in simulator time: each frame as it entered its
// sender's link, after that link's loss and corruption (see SetEveryHop for
// forwarded frames). Safe for concurrent use.
type Capture struct {
	clock *vclock.Clock
	// everyHop records forwarded frames too (SetEveryHop).
	everyHop atomic.Bool

	mu struct {
		sync.Mutex
		out    io.Writer
		w      *pcapgo.NgWriter
		n      int // interfaces added
		err    error
		frames uint64
		closed bool
		// airs are the access points' 802.11 interfaces (capture_air.go).
		airs        map[[6]byte]*airIface
		airOrder    []*airIface
		beaconEvery time.Duration
	}
}

// NewCapture returns a capture writing to w. Call Close (or Flush) before
// closing w.
func NewCapture(w io.Writer, clock *vclock.Clock) (*Capture, error) {
	if w == nil {
		return nil, errors.New("netstack: capture needs a writer")
	}
	if clock == nil {
		return nil, errors.New("netstack: capture needs a clock")
	}
	c := &Capture{clock: clock}
	c.mu.out = w
	return c, nil
}

func ngInterface(name, desc string) pcapgo.NgInterface {
	return pcapgo.NgInterface{
		Name:                name,
		Description:         desc,
		LinkType:            layers.LinkTypeEthernet,
		TimestampResolution: 9,
		SnapLength:          0,
	}
}

var ngOptions = pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "esp8266sim"}}

// addInterface registers an interface and returns its index (-1 after an
// error).
func (c *Capture) addInterface(name, desc string) int {
	return c.addNgInterface(ngInterface(name, desc))
}

func (c *Capture) addNgInterface(intf pcapgo.NgInterface) int {
	name := intf.Name
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.err != nil || c.mu.closed {
		return -1
	}
	if c.mu.w == nil {
		w, err := pcapgo.NewNgWriterInterface(c.mu.out, intf, ngOptions)
		if err != nil {
			c.mu.err = fmt.Errorf("netstack: writing capture header: %w", err)
			return -1
		}
		c.mu.w = w
		c.mu.n = 1
		return 0
	}
	id, err := c.mu.w.AddInterface(intf)
	if err != nil {
		c.mu.err = fmt.Errorf("netstack: adding capture interface %s: %w", name, err)
		return -1
	}
	c.mu.n++
	return id
}

func (c *Capture) write(idx int, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.err != nil || c.mu.closed || c.mu.w == nil || idx >= c.mu.n {
		return
	}
	c.beaconsLocked()
	ci := gopacket.CaptureInfo{
		Timestamp:      c.clock.Now(),
		CaptureLength:  len(b),
		Length:         len(b),
		InterfaceIndex: idx,
	}
	if err := c.mu.w.WritePacket(ci, b); err != nil {
		c.mu.err = fmt.Errorf("netstack: writing capture: %w", err)
		return
	}
	c.mu.frames++
}

// SetEveryHop makes the capture record the copies of a packet that routers
// forward as well, on every link it crosses. Off by default: each IP packet
// is recorded once, on the link where its sender put it into the network,
// because Wireshark's TCP analysis takes the same segment seen on two
// interfaces of one file for a retransmission. Frames a router sends itself
// (ARP, DHCP, DNS, ICMP) are always recorded.
func (c *Capture) SetEveryHop(on bool) { c.everyHop.Store(on) }

// Frames is how many frames were written.
func (c *Capture) Frames() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.frames
}

// Flush writes buffered data out and reports the first error so far.
func (c *Capture) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked()
}

func (c *Capture) flushLocked() error {
	if c.mu.err != nil {
		return c.mu.err
	}
	if c.mu.w == nil {
		// Nothing attached yet: still produce a valid (empty) file.
		w, err := pcapgo.NewNgWriterInterface(c.mu.out, ngInterface("none", "no attachments"), ngOptions)
		if err != nil {
			c.mu.err = fmt.Errorf("netstack: writing capture header: %w", err)
			return c.mu.err
		}
		c.mu.w = w
		c.mu.n = 1
	}
	if err := c.mu.w.Flush(); err != nil {
		c.mu.err = fmt.Errorf("netstack: flushing capture: %w", err)
	}
	return c.mu.err
}

// Close flushes and stops recording; it does not close the writer.
// Idempotent.
func (c *Capture) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return c.mu.err
	}
	err := c.flushLocked()
	c.mu.closed = true
	return err
}
