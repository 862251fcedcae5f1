package netstack

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

const ethHeaderLen = 14

// MediumConfig describes a Medium.
type MediumConfig struct {
	// Name names the medium in trace lines, capture interface descriptions
	// and the names of its links' random streams ("lan", "wan").
	Name string
	// Clock is the world's clock; required.
	Clock *vclock.Clock
	// Seed is the world's seed; each link draws from its own stream derived
	// from it and the link's name.
	Seed uint64
	// Trace, if set, gets one line per frame sent onto the medium and one per
	// frame an impairment drops, duplicates or corrupts.
	Trace *trace.Log
	// Capture, if set, records the frames crossing the medium: each as it
	// entered its sender's link, after loss and corruption (see Capture).
	Capture *Capture
}

// Medium is a learning Ethernet switch. Nodes join it through Attachments;
// each attachment is a pair of impaired links (node→switch, switch→node).
// Broadcast, multicast and frames to unknown MACs are flooded.
type Medium struct {
	name    string
	clock   *vclock.Clock
	seed    uint64
	trace   *trace.Log
	decoder *trace.Decoder
	capture atomic.Pointer[Capture]
	// air is the BSSID of the access point whose stations share this
	// medium, when its frames are captured as 802.11 (SetAir).
	air atomic.Pointer[[6]byte]

	mu struct {
		sync.RWMutex
		atts  []*Attachment
		table map[[6]byte]*Attachment // learned MAC → port
	}
}

// NewMedium returns an empty medium.
func NewMedium(cfg MediumConfig) (*Medium, error) {
	if cfg.Clock == nil {
		return nil, errors.New("netstack: medium needs a clock")
	}
	if cfg.Name == "" {
		cfg.Name = "lan"
	}
	m := &Medium{name: cfg.Name, clock: cfg.Clock, seed: cfg.Seed, trace: cfg.Trace}
	if cfg.Trace != nil {
		m.decoder = trace.NewDecoder(cfg.Trace.Names())
	}
	m.mu.table = make(map[[6]byte]*Attachment)
	if cfg.Capture != nil {
		m.SetCapture(cfg.Capture)
	}
	return m, nil
}

// Name is the medium's name.
func (m *Medium) Name() string { return m.name }

// SetCapture starts recording frames to c (nil stops), registering an
// interface for every current and future attachment.
func (m *Medium) SetCapture(c *Capture) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.capture.Store(c)
	for _, a := range m.mu.atts {
		a.registerCapture(c)
	}
}

// SetAir makes the capture show the frames of the stations of the access
// point bssid, and the access point's frames to them, as 802.11 data frames
// on that access point's air interface (Capture.AddAir): the medium is
// the LAN behind the access point.
func (m *Medium) SetAir(bssid net.HardwareAddr) {
	if len(bssid) != 6 {
		m.air.Store(nil)
		return
	}
	b := [6]byte(bssid)
	m.air.Store(&b)
}

// Retransmissions counts TCP retransmissions seen on the medium; it counts
// only while a Trace is set (the trace decoder tracks TCP flows).
func (m *Medium) Retransmissions() uint64 {
	if m.decoder == nil {
		return 0
	}
	return m.decoder.Retransmissions()
}

// Attachments lists the current attachments.
func (m *Medium) Attachments() []*Attachment {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return append([]*Attachment(nil), m.mu.atts...)
}

func (m *Medium) attach(nic *NIC, imp Impairments) (*Attachment, error) {
	if err := imp.Validate(); err != nil {
		return nil, fmt.Errorf("attaching %s to %s: %w", nic.node.name, m.name, err)
	}
	a := &Attachment{medium: m, nic: nic, name: nic.node.name, mac: nic.mac}
	a.key = a.name + "@" + m.name
	a.capIndex.Store(-1)
	a.up = newLink(m, a.name+"→"+m.name, m.seed, func(f *frame) { m.forward(a, f) }, true)
	a.up.recordTo = a
	a.down = newLink(m, m.name+"→"+a.name, m.seed, a.deliver, false)
	a.up.setImpairments(imp)
	a.down.setImpairments(imp)
	nic.setLinkMTU(imp.MTU)

	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.mu.atts {
		if o.mac == a.mac {
			return nil, fmt.Errorf("attaching %s to %s: MAC %s is already used by %s on that medium", a.name, m.name, net.HardwareAddr(a.mac[:]), o.name)
		}
	}
	m.mu.atts = append(m.mu.atts, a)
	if c := m.capture.Load(); c != nil {
		a.registerCapture(c)
	}
	return a, nil
}

func (m *Medium) detach(a *Attachment) {
	m.mu.Lock()
	for i, o := range m.mu.atts {
		if o == a {
			m.mu.atts = append(m.mu.atts[:i], m.mu.atts[i+1:]...)
			break
		}
	}
	for mac, o := range m.mu.table {
		if o == a {
			delete(m.mu.table, mac)
		}
	}
	m.mu.Unlock()
	a.up.stop()
	a.down.stop()
}

// forward is the switch: it learns the sender's MAC and passes the frame to
// the destination's downlink, or floods it.
func (m *Medium) forward(from *Attachment, f *frame) {
	if from.detached.Load() || len(f.b) < ethHeaderLen {
		putFrame(f)
		return
	}
	dst, src := [6]byte(f.b[0:6]), [6]byte(f.b[6:12])
	if src[0]&1 == 0 {
		m.mu.RLock()
		known := m.mu.table[src] == from
		m.mu.RUnlock()
		if !known {
			m.mu.Lock()
			if !from.detached.Load() {
				m.mu.table[src] = from
			}
			m.mu.Unlock()
		}
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if dst[0]&1 == 0 {
		if to := m.mu.table[dst]; to != nil {
			if to == from {
				putFrame(f) // a real switch filters frames back to their port
				return
			}
			to.down.send(f)
			return
		}
	}
	// Flood: every other port gets a frame reading the same bytes (a fleet
	// floods each broadcast to a thousand stations; copying them was a
	// fifth of its run).
	for _, a := range m.mu.atts {
		if a != from {
			a.down.send(f.share())
		}
	}
	putFrame(f)
}

// Close detaches every attachment and cancels frames in flight.
func (m *Medium) Close() {
	for _, a := range m.Attachments() {
		a.Detach()
	}
}

// Direction selects one link of an attachment.
type Direction int

const (
	// Both directions.
	Both Direction = iota
	// Egress is node → medium.
	Egress
	// Ingress is medium → node.
	Ingress
)

// Attachment is a node's NIC plugged into a medium: two directional links
// with impairments that can be changed while frames flow.
type Attachment struct {
	medium   *Medium
	nic      *NIC
	name     string
	key      string // name@medium: the trace decoder's interface key
	mac      [6]byte
	up, down *link
	capIndex atomic.Int32
	detached atomic.Bool
}

// Medium is the medium the attachment is plugged into.
func (a *Attachment) Medium() *Medium { return a.medium }

// NIC is the attached NIC.
func (a *Attachment) NIC() *NIC { return a.nic }

// SetImpairments sets both directions.
func (a *Attachment) SetImpairments(imp Impairments) error {
	return a.SetDirectionImpairments(Both, imp)
}

// SetDirectionImpairments sets one direction (or Both).
func (a *Attachment) SetDirectionImpairments(d Direction, imp Impairments) error {
	if err := imp.Validate(); err != nil {
		return fmt.Errorf("%s on %s: %w", a.name, a.medium.name, err)
	}
	if d == Both || d == Egress {
		a.up.setImpairments(imp)
		a.nic.setLinkMTU(imp.MTU)
	}
	if d == Both || d == Ingress {
		a.down.setImpairments(imp)
	}
	return nil
}

// Impairments reports one direction's impairments (Both reports Egress), with
// defaults filled in.
func (a *Attachment) Impairments(d Direction) Impairments {
	if d == Ingress {
		return a.down.impairments()
	}
	return a.up.impairments()
}

// SetUp brings both links up or down; a down link drops every frame
// ("DROP (link down)").
func (a *Attachment) SetUp(up bool) {
	a.up.setUp(up)
	a.down.setUp(up)
}

// Stats reports the egress (node → medium) and ingress (medium → node)
// counters.
func (a *Attachment) Stats() (egress, ingress LinkStats) {
	return a.up.stats(), a.down.stats()
}

// Detach unplugs the NIC: frames in flight to or from it are dropped and the
// NIC's frames go nowhere until it is attached again. Idempotent.
func (a *Attachment) Detach() {
	if a.detached.Swap(true) {
		return
	}
	a.nic.att.CompareAndSwap(a, nil)
	a.medium.detach(a)
}

func (a *Attachment) registerCapture(c *Capture) {
	if c == nil {
		a.capIndex.Store(-1)
		return
	}
	desc := fmt.Sprintf("%s on %s (%s)", a.name, a.medium.name, net.HardwareAddr(a.mac[:]))
	a.capIndex.Store(int32(c.addInterface(a.name, desc)))
}

// record writes a frame that entered the node's uplink to the capture, on
// the node's interface. A frame a router forwards is left out unless the
// capture asks for every hop: Wireshark's TCP analysis does not tell
// interfaces apart, so a segment seen on two links reads as a
// retransmission (issue #19).
func (a *Attachment) record(f *frame) {
	c := a.medium.capture.Load()
	if c == nil || (f.forwarded && !c.everyHop.Load()) {
		return
	}
	if bssid := a.medium.air.Load(); bssid != nil && c.recordAir(*bssid, a.mac, f.b) {
		return
	}
	if idx := a.capIndex.Load(); idx >= 0 {
		c.write(int(idx), f.b)
	}
}

// transmit puts a frame the NIC sent onto the medium. The capture records it
// as it crosses the uplink (link.send): after loss and corruption are
// decided, so a lost frame is absent and a corrupted one shows its bad
// checksum.
func (a *Attachment) transmit(f *frame) {
	m := a.medium
	if m.trace != nil {
		f.summary = m.decoder.Decode(a.key, f.b)
		m.trace.Add(m.clock.Elapsed(), a.name, f.summary)
	}
	a.up.send(f)
	m.clock.Poke()
}

// deliver hands a frame that crossed the downlink to the NIC.
func (a *Attachment) deliver(f *frame) {
	if a.detached.Load() {
		putFrame(f)
		return
	}
	a.nic.ep.receive(f)
}
