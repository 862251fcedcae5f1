package services

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestMQTTTopicMatch(t *testing.T) {
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/#", "a", true}, // # also matches the parent level
		{"a/#", "a/b/c", true},
		{"#", "a/b", true},
		{"+/+", "/x", true}, // an empty level is a level
		{"#", "$SYS/uptime", false},
		{"+/uptime", "$SYS/uptime", false},
		{"$SYS/#", "$SYS/uptime", true},
		{"home/esp1/cmd", "home/esp1/cmd/x", false},
	}
	for _, tt := range tests {
		if got := topicMatch(tt.filter, tt.topic); got != tt.want {
			t.Errorf("topicMatch(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
	}
}

func TestMQTTValidTopic(t *testing.T) {
	tests := []struct {
		s            string
		filter, want bool
	}{
		{"a/b", false, true},
		{"a/+", false, false},
		{"a/#", true, true},
		{"a/#/b", true, false},
		{"a/b#", true, false},
		{"a+/b", true, false},
		{"", true, false},
		{"a\x00b", false, false},
	}
	for _, tt := range tests {
		if got := validTopic(tt.s, tt.filter); got != tt.want {
			t.Errorf("validTopic(%q, filter %v) = %v, want %v", tt.s, tt.filter, got, tt.want)
		}
	}
}

// Remaining lengths use MQTT's variable-length encoding both ways.
func TestMQTTPacketHeadRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, maxMQTTPacket} {
		pkt := append(appendPacketHead(nil, 0x30, n), make([]byte, n)...)
		p, err := readMQTTPacket(bufio.NewReader(bytes.NewReader(pkt)))
		if err != nil || p.first != 0x30 || len(p.body) != n {
			t.Errorf("length %d: got first %#x, %d bytes, %v", n, p.first, len(p.body), err)
		}
	}
	big := appendPacketHead(nil, 0x30, maxMQTTPacket+1)
	if _, err := readMQTTPacket(bufio.NewReader(bytes.NewReader(big))); err == nil {
		t.Errorf("a packet over %d bytes was accepted", maxMQTTPacket)
	}
}

// The broker's packet reader sees whatever a script sends: it must end in
// a packet or an error, never a panic or an allocation beyond the limit.
func FuzzMQTTPacket(f *testing.F) {
	f.Add([]byte("\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04esp1"))
	f.Add([]byte("\x30\x07\x00\x03a/bhi"))
	f.Add([]byte("\x82\x08\x00\x01\x00\x03a/#\x01"))
	f.Add([]byte("\x30\xff\xff\xff\xff\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		for {
			p, err := readMQTTPacket(br)
			if err != nil {
				return
			}
			if len(p.body) > maxMQTTPacket {
				t.Fatalf("body of %d bytes", len(p.body))
			}
			r := &mqttReader{b: p.body}
			for !r.bad && len(r.b) > 0 {
				validTopic(string(r.bytes()), true)
				r.u8()
			}
		}
	})
}

// mqttStr is an MQTT UTF-8 string: 2-byte length, then the bytes.
func mqttStr(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }

func mqttConnect(id string, keepalive int, will [2]string) []byte {
	flags := byte(0x02)
	body := append(mqttStr("MQTT"), 4, 0, byte(keepalive>>8), byte(keepalive))
	body = append(body, mqttStr(id)...)
	if will[0] != "" {
		flags |= 0x04
		body = append(append(body, mqttStr(will[0])...), mqttStr(will[1])...)
	}
	body[7] = flags
	return append(appendPacketHead(nil, 0x10, len(body)), body...)
}

// mqttRead reads one packet from c with a simulated-time deadline.
func mqttRead(t *testing.T, w *world, c *Conn) mqttPacket {
	t.Helper()
	c.SetReadDeadline(w.lan.Clock.Now().Add(10 * time.Second))
	p, err := readMQTTPacket(bufio.NewReaderSize(&oneByte{c}, 16))
	if err != nil {
		t.Fatalf("reading a packet: %v\n%s", err, w.trace)
	}
	return p
}

// oneByte reads a byte at a time so no packet is buffered past its end.
type oneByte struct{ c net.Conn }

func (o *oneByte) Read(p []byte) (int, error) { return o.c.Read(p[:1]) }

func mqttSend(t *testing.T, c *Conn, pkts ...[]byte) {
	t.Helper()
	for _, p := range pkts {
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
}

// The broker between two Go clients on the simulated LAN: CONNACK,
// SUBACK, PUBACK, delivery to a wildcard subscription at the granted QoS,
// retained messages for late subscribers, the last will when a client
// vanishes and when it stays silent past 1.5 × its keepalive.
func TestMQTTBroker(t *testing.T) {
	w := newWorld(t)
	b, err := w.host.AddMQTT(MQTTConfig{Port: 1883})
	if err != nil {
		t.Fatal(err)
	}
	sub := w.dial(t, 1883)
	mqttSend(t, sub, mqttConnect("sub", 0, [2]string{}))
	if p := mqttRead(t, w, sub); p.first != 0x20 || !bytes.Equal(p.body, []byte{0, 0}) {
		t.Fatalf("CONNACK = %#x %v", p.first, p.body)
	}
	subscribe := append([]byte{0, 1}, append(mqttStr("a/#"), 1)...)
	mqttSend(t, sub, append(appendPacketHead(nil, 0x82, len(subscribe)), subscribe...))
	if p := mqttRead(t, w, sub); p.first != 0x90 || !bytes.Equal(p.body, []byte{0, 1, 1}) {
		t.Fatalf("SUBACK = %#x %v", p.first, p.body)
	}
	pub := w.dial(t, 1883)
	mqttSend(t, pub, mqttConnect("pub", 0, [2]string{"w/pub", "gone"}))
	mqttRead(t, w, pub)
	mqttSend(t, pub, encodePublish("a/r", []byte("keep"), 0, true, 0), encodePublish("a/b", []byte("hi"), 1, false, 7))
	if p := mqttRead(t, w, pub); p.first != 0x40 || !bytes.Equal(p.body, []byte{0, 7}) {
		t.Fatalf("PUBACK = %#x %v", p.first, p.body)
	}
	for _, want := range []struct {
		first byte
		topic string
	}{{0x30, "a/r"}, {0x32, "a/b"}} {
		p := mqttRead(t, w, sub)
		r := &mqttReader{b: p.body}
		if topic := string(r.bytes()); p.first != want.first || topic != want.topic {
			t.Errorf("delivered %#x %q, want %#x %q", p.first, topic, want.first, want.topic)
		}
	}
	pub.Reset() // gone without DISCONNECT: the will goes out
	late := w.dial(t, 1883)
	mqttSend(t, late, mqttConnect("late", 1, [2]string{"w/late", "silent"}))
	mqttRead(t, w, late)
	subscribe = append([]byte{0, 2}, append(mqttStr("a/r"), 0)...)
	mqttSend(t, late, append(appendPacketHead(nil, 0x82, len(subscribe)), subscribe...))
	mqttRead(t, w, late) // SUBACK
	if p := mqttRead(t, w, late); p.first != 0x31 {
		t.Errorf("retained delivery has first byte %#x, want 0x31 (retain set)", p.first)
	}
	start := w.now()
	late.SetReadDeadline(w.lan.Clock.Now().Add(10 * time.Second))
	if _, err := late.Read(make([]byte, 1)); err == nil {
		t.Error("a client silent past its keepalive was not dropped")
	}
	if d := w.now() - start; d < 1400*time.Millisecond || d > 2*time.Second {
		t.Errorf("dropped after %v, want about 1.5 s (keepalive 1 s)", d)
	}
	var got []string
	for _, m := range b.Published() {
		got = append(got, fmt.Sprintf("%s=%s will=%v", m.Topic, m.Payload, m.Will))
	}
	want := []string{"a/b=hi will=false", "a/r=keep will=false", "w/late=silent will=true", "w/pub=gone will=true"}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("broker received %v, want %v", got, want)
	}
}
