package services

import (
	"bufio"
	"bytes"
	"testing"
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
