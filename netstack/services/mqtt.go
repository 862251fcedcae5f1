package services

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/waiter"
)

// MQTTConfig describes an MQTT 3.1.1 broker.
type MQTTConfig struct {
	// Port is the TCP port (1883 usually).
	Port int
	// Username and Password, when Username is set, are required of every
	// client: CONNACK 5 (not authorized) without credentials, 4 (bad user
	// name or password) with wrong ones.
	Username, Password string
}

// MQTTMessage is a publication the broker received (or published itself).
type MQTTMessage struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
	// Client is the publishing client's identifier ("" for the broker's
	// own publications).
	Client string
	// Will marks a last will the broker published for a client that went
	// away without DISCONNECT.
	Will bool
	// At is when it arrived, in simulator time since the clock's start.
	At time.Duration
}

// Limits that keep a script from growing the simulator without bound.
const (
	maxMQTTPacket = 256 << 10 // remaining length of one packet
	maxMQTTQueue  = 1000      // QoS 1 messages kept for an offline session
	maxMQTTLog    = 100000    // publications remembered
	maxMQTTTopics = 10000     // retained topics
)

// mqttDownPoll is how often (in simulator time) an idle connection checks
// whether the host went down: a refuse fault on the broker's port means
// the broker process is gone, so its connections are reset too.
const mqttDownPoll = 500 * time.Millisecond

// MQTTBroker is a running MQTT 3.1.1 broker: QoS 0 and 1 (QoS 2 answered
// in protocol, delivered as QoS 1), retained messages, keepalive, last
// will, clean and persistent sessions, client-id takeover.
type MQTTBroker struct {
	h   *Host
	cfg MQTTConfig

	mu sync.Mutex
	// Guarded by mu.
	sessions map[string]*mqttSession
	retained map[string]MQTTMessage
	log      []MQTTMessage
	anon     int // assigned client identifiers
}

type mqttSession struct {
	id    string
	clean bool
	subs  map[string]byte // topic filter → granted QoS
	conn  *mqttConn       // nil while offline
	queue [][]byte        // QoS 1 packets kept while offline
	pid   uint16
}

// mqttConn is the broker's side of one client connection. Other
// goroutines queue packets in out and wake the connection's actor; only
// the connection's goroutine writes to the socket.
type mqttConn struct {
	wake func()
	// Guarded by the broker's mu.
	out    [][]byte
	kicked bool // another connection took the client identifier over
}

// AddMQTT starts an MQTT broker on cfg.Port.
func (h *Host) AddMQTT(cfg MQTTConfig) (*MQTTBroker, error) {
	b := &MQTTBroker{h: h, cfg: cfg, sessions: map[string]*mqttSession{}, retained: map[string]MQTTMessage{}}
	return b, h.addTCP(cfg.Port, "mqtt", b.serve)
}

// Published returns a copy of every publication received so far, in order.
func (b *MQTTBroker) Published() []MQTTMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]MQTTMessage(nil), b.log...)
}

// Publish publishes a message as the broker itself (another client, from
// the subscribers' point of view). Safe from any goroutine.
func (b *MQTTBroker) Publish(topic string, payload []byte, qos byte, retain bool) error {
	if !validTopic(topic, false) {
		return fmt.Errorf("services: mqtt: %q is not a topic name", topic)
	}
	if qos > 1 {
		qos = 1
	}
	b.h.trace("mqtt: broker publishes %s (%d bytes, QoS %d)", topic, len(payload), qos)
	b.route(MQTTMessage{Topic: topic, Payload: append([]byte(nil), payload...), QoS: qos, Retain: retain, At: b.h.cfg.Clock.Elapsed()}, false)
	return nil
}

// route records msg, keeps it when retained and queues it for every
// matching subscription.
func (b *MQTTBroker) route(msg MQTTMessage, record bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if record && len(b.log) < maxMQTTLog {
		b.log = append(b.log, msg)
	}
	if msg.Retain {
		if len(msg.Payload) == 0 {
			delete(b.retained, msg.Topic)
		} else if _, ok := b.retained[msg.Topic]; ok || len(b.retained) < maxMQTTTopics {
			b.retained[msg.Topic] = msg
		}
	}
	ids := make([]string, 0, len(b.sessions))
	for id := range b.sessions {
		ids = append(ids, id)
	}
	sort.Strings(ids) // deliver in a fixed order: same seed, same run
	for _, id := range ids {
		s := b.sessions[id]
		best, ok := byte(0), false
		for f, q := range s.subs {
			if topicMatch(f, msg.Topic) {
				if !ok || q > best {
					best = q
				}
				ok = true
			}
		}
		if ok {
			// Forwarded messages carry retain 0 (MQTT-3.3.1-9).
			b.deliverLocked(s, msg, min(best, msg.QoS), false)
		}
	}
}

// deliverLocked queues a PUBLISH for a session; b.mu is held.
func (b *MQTTBroker) deliverLocked(s *mqttSession, msg MQTTMessage, qos byte, retain bool) {
	var pid uint16
	if qos > 0 {
		s.pid++
		if s.pid == 0 {
			s.pid = 1
		}
		pid = s.pid
	}
	pkt := encodePublish(msg.Topic, msg.Payload, qos, retain, pid)
	switch {
	case s.conn != nil:
		s.conn.out = append(s.conn.out, pkt)
		s.conn.wake()
	case qos > 0 && len(s.queue) < maxMQTTQueue:
		s.queue = append(s.queue, pkt)
	}
}

func encodePublish(topic string, payload []byte, qos byte, retain bool, pid uint16) []byte {
	var vh []byte
	vh = binary.BigEndian.AppendUint16(vh, uint16(len(topic)))
	vh = append(vh, topic...)
	if qos > 0 {
		vh = binary.BigEndian.AppendUint16(vh, pid)
	}
	first := byte(0x30) | qos<<1
	if retain {
		first |= 1
	}
	return append(appendPacketHead(nil, first, len(vh)+len(payload)), append(vh, payload...)...)
}

// appendPacketHead appends a fixed header: the type byte and the
// remaining length in MQTT's variable-length encoding.
func appendPacketHead(out []byte, first byte, n int) []byte {
	out = append(out, first)
	for {
		d := byte(n & 0x7F)
		n >>= 7
		if n > 0 {
			d |= 0x80
		}
		out = append(out, d)
		if n == 0 {
			return out
		}
	}
}

// topicMatch reports whether filter (with + and # wildcards) matches a
// topic name. Filters starting with a wildcard do not match topics
// starting with $ (MQTT-4.7.2-1).
func topicMatch(filter, topic string) bool {
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	f := strings.Split(filter, "/")
	t := strings.Split(topic, "/")
	for i, part := range f {
		if part == "#" {
			return true
		}
		if i >= len(t) {
			return false
		}
		if part != "+" && part != t[i] {
			return false
		}
	}
	return len(f) == len(t)
}

// validTopic checks a topic name (filter false) or filter.
func validTopic(s string, filter bool) bool {
	if s == "" || len(s) > 65535 || strings.ContainsRune(s, 0) {
		return false
	}
	if !filter {
		return !strings.ContainsAny(s, "+#")
	}
	parts := strings.Split(s, "/")
	for i, p := range parts {
		if strings.Contains(p, "#") && (p != "#" || i != len(parts)-1) {
			return false
		}
		if strings.Contains(p, "+") && p != "+" {
			return false
		}
	}
	return true
}

var errMQTTProtocol = errors.New("mqtt protocol violation")

// mqttPacket is one packet read from a client.
type mqttPacket struct {
	first byte
	body  []byte
}

func readMQTTPacket(br *bufio.Reader) (mqttPacket, error) {
	first, err := br.ReadByte()
	if err != nil {
		return mqttPacket{}, err
	}
	n, shift := 0, 0
	for i := 0; ; i++ {
		d, err := br.ReadByte()
		if err != nil {
			return mqttPacket{}, err
		}
		n |= int(d&0x7F) << shift
		if d&0x80 == 0 {
			break
		}
		shift += 7
		if i == 3 {
			return mqttPacket{}, fmt.Errorf("%w: remaining length longer than 4 bytes", errMQTTProtocol)
		}
	}
	if n > maxMQTTPacket {
		return mqttPacket{}, fmt.Errorf("%w: a %d-byte packet is larger than the broker takes", errMQTTProtocol, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return mqttPacket{}, err
	}
	return mqttPacket{first: first, body: body}, nil
}

// mqttReader reads the fields of a packet body.
type mqttReader struct {
	b   []byte
	bad bool
}

func (r *mqttReader) u8() byte {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *mqttReader) u16() uint16 {
	if len(r.b) < 2 {
		r.bad = true
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *mqttReader) bytes() []byte {
	n := int(r.u16())
	if r.bad || len(r.b) < n {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// mqttClient is one connection's state on its goroutine.
type mqttClient struct {
	b       *MQTTBroker
	c       net.Conn
	base    *Conn
	br      *bufio.Reader
	id      string
	sess    *mqttSession
	conn    *mqttConn
	keep    time.Duration
	last    time.Time // simulated time of the last packet from the client
	will    *MQTTMessage
	clean   bool // ended with DISCONNECT: no will
	peer    string
	pending map[uint16]bool // QoS 2 packet ids awaiting PUBREL
}

// baseConn finds the *Conn under the service's wrappers.
func baseConn(c net.Conn) *Conn {
	for {
		switch x := c.(type) {
		case *Conn:
			return x
		case *recordingConn:
			c = x.Conn
		case *faultConn:
			return x.Conn
		default:
			return nil
		}
	}
}

// serve runs one client connection until it ends.
func (b *MQTTBroker) serve(c net.Conn) {
	base := baseConn(c)
	if base == nil {
		b.h.trace("mqtt: cannot serve a %T", c)
		return
	}
	cl := &mqttClient{b: b, c: c, base: base, br: bufio.NewReader(c), peer: fmt.Sprint(c.RemoteAddr()), pending: map[uint16]bool{}}
	err := cl.run()
	if cl.sess != nil {
		b.detach(cl)
	}
	switch {
	case cl.clean:
		b.h.trace("mqtt: %s disconnected", cl.name())
	case err != nil:
		b.h.trace("mqtt: %s connection ended: %v", cl.name(), err)
	}
	if cl.will != nil && !cl.clean && cl.sess != nil {
		w := *cl.will
		w.At = b.h.cfg.Clock.Elapsed()
		b.h.trace("mqtt: publishing the last will of %s on %s", cl.id, w.Topic)
		b.route(w, true)
	}
}

func (cl *mqttClient) name() string {
	if cl.id != "" {
		return fmt.Sprintf("client %q (%s)", cl.id, cl.peer)
	}
	return cl.peer
}

func (cl *mqttClient) now() time.Time { return cl.b.h.cfg.Clock.Now() }

func (cl *mqttClient) run() error {
	// A client has a while to send CONNECT (mosquitto waits for the
	// keepalive it does not know yet; 10 s is common).
	cl.base.SetReadDeadline(cl.now().Add(10 * time.Second))
	p, err := readMQTTPacket(cl.br)
	if err != nil {
		return err
	}
	if err := cl.connect(p); err != nil {
		return err
	}
	for {
		if err := cl.flush(); err != nil {
			return err
		}
		if cl.b.h.faults.refusesAll(cl.b.cfg.Port) {
			cl.base.Reset()
			return errors.New("the broker is down (refuse fault)")
		}
		cl.b.mu.Lock()
		kicked := cl.conn.kicked
		cl.b.mu.Unlock()
		if kicked {
			cl.clean = false
			return errors.New("another connection took over the client identifier")
		}
		var deadline time.Time
		if cl.keep > 0 {
			deadline = cl.last.Add(cl.keep * 3 / 2)
			if !cl.now().Before(deadline) {
				return fmt.Errorf("no packet within 1.5 × keepalive (%v)", cl.keep)
			}
		}
		if cl.br.Buffered() == 0 && cl.base.ep.Readiness(waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr) == 0 {
			if err := cl.wait(deadline); err != nil {
				return err
			}
			continue
		}
		cl.base.SetReadDeadline(deadline)
		p, err := readMQTTPacket(cl.br)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return fmt.Errorf("no packet within 1.5 × keepalive (%v)", cl.keep)
			}
			return err
		}
		cl.last = cl.now()
		if err := cl.handle(p); err != nil {
			return err
		}
		if cl.clean {
			return nil
		}
	}
}

// wait parks until the client sends something, a packet is queued for it,
// the keepalive deadline passes or it is time to check for a down host.
func (cl *mqttClient) wait(deadline time.Time) error {
	a := cl.base.actor
	entry := waiter.NewFunctionEntry(waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr, func(waiter.EventMask) { a.Wake() })
	cl.base.wq.EventRegister(&entry)
	defer cl.base.wq.EventUnregister(&entry)
	timeout := mqttDownPoll
	if !deadline.IsZero() {
		timeout = min(timeout, deadline.Sub(cl.now()))
	}
	if err := a.Park(cl.b.h.ctx, max(timeout, 0)); err != nil {
		return net.ErrClosed
	}
	if cl.base.closed.Load() {
		return net.ErrClosed
	}
	return nil
}

// flush writes the packets queued for the client.
func (cl *mqttClient) flush() error {
	cl.b.mu.Lock()
	out := cl.conn.out
	cl.conn.out = nil
	cl.b.mu.Unlock()
	for _, pkt := range out {
		if _, err := cl.c.Write(pkt); err != nil {
			return err
		}
	}
	return nil
}

func (cl *mqttClient) send(pkt []byte) error {
	_, err := cl.c.Write(pkt)
	return err
}

// connect handles CONNECT: checks, CONNACK, session take-over or resume.
func (cl *mqttClient) connect(p mqttPacket) error {
	if p.first != 0x10 {
		return fmt.Errorf("%w: first packet type %d is not CONNECT", errMQTTProtocol, p.first>>4)
	}
	r := &mqttReader{b: p.body}
	proto := string(r.bytes())
	level := r.u8()
	flags := r.u8()
	keep := r.u16()
	id := string(r.bytes())
	var will *MQTTMessage
	if flags&0x04 != 0 {
		topic := string(r.bytes())
		msg := r.bytes()
		will = &MQTTMessage{Topic: topic, Payload: append([]byte(nil), msg...), QoS: min((flags>>3)&3, 1), Retain: flags&0x20 != 0, Client: id, Will: true}
	}
	var user, pass string
	if flags&0x80 != 0 {
		user = string(r.bytes())
	}
	if flags&0x40 != 0 {
		pass = string(r.bytes())
	}
	if r.bad || flags&1 != 0 {
		return fmt.Errorf("%w: malformed CONNECT", errMQTTProtocol)
	}
	clean := flags&0x02 != 0
	refuse := func(code byte, why string) error {
		cl.send([]byte{0x20, 2, 0, code})
		return fmt.Errorf("CONNECT refused (%d, %s)", code, why)
	}
	if !(proto == "MQTT" && level == 4) && !(proto == "MQIsdp" && level == 3) {
		return refuse(1, fmt.Sprintf("protocol %q level %d", proto, level))
	}
	if id == "" && !clean {
		return refuse(2, "an empty client identifier needs a clean session")
	}
	if cl.b.cfg.Username != "" {
		if flags&0x80 == 0 {
			return refuse(5, "credentials required")
		}
		if user != cl.b.cfg.Username || pass != cl.b.cfg.Password {
			return refuse(4, "bad user name or password")
		}
	}
	if will != nil && !validTopic(will.Topic, false) {
		return fmt.Errorf("%w: will topic %q", errMQTTProtocol, will.Topic)
	}
	b := cl.b
	b.mu.Lock()
	if id == "" {
		b.anon++
		id = fmt.Sprintf("auto-%d", b.anon)
	}
	cl.id = id
	cl.conn = &mqttConn{wake: cl.base.actor.Wake}
	s := b.sessions[id]
	if s != nil && s.conn != nil {
		s.conn.kicked = true
		s.conn.wake()
	}
	present := s != nil && !clean && !s.clean
	if s == nil || clean || s.clean {
		s = &mqttSession{id: id, subs: map[string]byte{}}
		b.sessions[id] = s
	}
	s.clean = clean
	s.conn = cl.conn
	cl.conn.out = append(cl.conn.out, s.queue...)
	s.queue = nil
	cl.sess = s
	b.mu.Unlock()
	cl.keep = time.Duration(keep) * time.Second
	cl.last = cl.now()
	cl.will = will
	sp := byte(0)
	if present {
		sp = 1
	}
	kind := "clean session"
	if !clean {
		kind = "persistent session"
		if present {
			kind += ", resumed"
		}
	}
	b.h.trace("mqtt: %s connected (%s, keepalive %ds)", cl.name(), kind, keep)
	return cl.send([]byte{0x20, 2, sp, 0})
}

// detach ends the connection's hold on its session.
func (b *MQTTBroker) detach(cl *mqttClient) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := cl.sess
	if s.conn != cl.conn {
		return // taken over
	}
	s.conn = nil
	if s.clean {
		delete(b.sessions, s.id)
		return
	}
	// Unsent QoS 1 packets wait for the client's return.
	for _, pkt := range cl.conn.out {
		if pkt[0]&0x06 != 0 && len(s.queue) < maxMQTTQueue {
			s.queue = append(s.queue, pkt)
		}
	}
}

// handle answers one packet after CONNECT.
func (cl *mqttClient) handle(p mqttPacket) error {
	r := &mqttReader{b: p.body}
	switch p.first >> 4 {
	case 3: // PUBLISH
		qos := (p.first >> 1) & 3
		retain := p.first&1 != 0
		topic := string(r.bytes())
		var pid uint16
		if qos > 0 {
			pid = r.u16()
		}
		if r.bad || qos == 3 || !validTopic(topic, false) {
			return fmt.Errorf("%w: malformed PUBLISH", errMQTTProtocol)
		}
		msg := MQTTMessage{Topic: topic, Payload: append([]byte(nil), r.b...), QoS: qos, Retain: retain, Client: cl.id, At: cl.b.h.cfg.Clock.Elapsed()}
		cl.b.h.trace("mqtt: PUBLISH %s (%d bytes, QoS %d%s) from %q", topic, len(msg.Payload), qos, map[bool]string{true: ", retained"}[retain], cl.id)
		switch qos {
		case 1:
			if err := cl.send([]byte{0x40, 2, byte(pid >> 8), byte(pid)}); err != nil {
				return err
			}
		case 2:
			if cl.pending[pid] {
				return cl.send([]byte{0x50, 2, byte(pid >> 8), byte(pid)})
			}
			cl.pending[pid] = true
			msg.QoS = 1 // delivered onwards at most as QoS 1
			if err := cl.send([]byte{0x50, 2, byte(pid >> 8), byte(pid)}); err != nil {
				return err
			}
		}
		cl.b.route(msg, true)
	case 4, 5, 7: // PUBACK, PUBREC, PUBCOMP from the client: nothing to do
	case 6: // PUBREL
		pid := r.u16()
		delete(cl.pending, pid)
		return cl.send([]byte{0x70, 2, byte(pid >> 8), byte(pid)})
	case 8: // SUBSCRIBE
		if p.first != 0x82 {
			return fmt.Errorf("%w: SUBSCRIBE flags", errMQTTProtocol)
		}
		pid := r.u16()
		var codes []byte
		var subscribed []string
		for len(r.b) > 0 && !r.bad {
			f := string(r.bytes())
			q := r.u8()
			if r.bad {
				break
			}
			if !validTopic(f, true) || q > 2 {
				codes = append(codes, 0x80)
				continue
			}
			g := min(q, 1)
			codes = append(codes, g)
			subscribed = append(subscribed, f)
			cl.b.mu.Lock()
			cl.sess.subs[f] = g
			cl.b.mu.Unlock()
			cl.b.h.trace("mqtt: %q subscribed to %s (QoS %d)", cl.id, f, g)
		}
		if r.bad || len(codes) == 0 {
			return fmt.Errorf("%w: malformed SUBSCRIBE", errMQTTProtocol)
		}
		ack := appendPacketHead(nil, 0x90, 2+len(codes))
		ack = binary.BigEndian.AppendUint16(ack, pid)
		if err := cl.send(append(ack, codes...)); err != nil {
			return err
		}
		cl.sendRetained(subscribed)
	case 10: // UNSUBSCRIBE
		pid := r.u16()
		for len(r.b) > 0 && !r.bad {
			f := string(r.bytes())
			cl.b.mu.Lock()
			delete(cl.sess.subs, f)
			cl.b.mu.Unlock()
		}
		if r.bad {
			return fmt.Errorf("%w: malformed UNSUBSCRIBE", errMQTTProtocol)
		}
		return cl.send([]byte{0xB0, 2, byte(pid >> 8), byte(pid)})
	case 12: // PINGREQ
		return cl.send([]byte{0xD0, 0})
	case 14: // DISCONNECT
		cl.clean = true
	default:
		return fmt.Errorf("%w: unexpected packet type %d", errMQTTProtocol, p.first>>4)
	}
	return nil
}

// sendRetained queues the retained messages matching new subscriptions,
// with the retain flag set (MQTT-3.3.1-8).
func (cl *mqttClient) sendRetained(filters []string) {
	b := cl.b
	b.mu.Lock()
	defer b.mu.Unlock()
	topics := make([]string, 0, len(b.retained))
	for t := range b.retained {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	for _, t := range topics {
		for _, f := range filters {
			if topicMatch(f, t) {
				m := b.retained[t]
				b.deliverLocked(cl.sess, m, min(m.QoS, cl.sess.subs[f]), true)
				break
			}
		}
	}
}
