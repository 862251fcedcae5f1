package net

import (
	"testing"

	"github.com/esp8266sim/esp8266sim/board/hostabi"
)

// The network module's host functions decode values a script passes:
// addresses, tagged bytes and tuples. None of it may panic.

func FuzzParseIPv4(f *testing.F) {
	for _, s := range []string{"", "192.168.4.1", "1.2.3", "1.2.3.4.5", "999.1.1.1x", "...", "\x01ff", "\x02a\x1eb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseIPv4(s)
		if err == nil && !a.Is4() {
			t.Fatalf("parseIPv4(%q) = %v without error, want an IPv4 address", s, a)
		}
	})
}

func FuzzNetValues(f *testing.F) {
	for _, s := range []string{"", "abc", "\x01", "\x01zz", "\x0100ff", "\x02", "\x021.2.3.4\x1e\x0424", "\x04x", "\x05float"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		strData(s)
		qstrOf(s)
		intOf(s)
		truthy(s)
		if its, err := items(s, 4); err == nil {
			for _, it := range its {
				parseIPv4(item(it))
			}
		}
		items(s, 2)
		splitArgs([]hostabi.Value{int64(0), int64(len(s) % 3), s, s})
	})
}

func TestParseIPv4LikeNetutils(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "192.168.4.1", want: "192.168.4.1"},
		{in: "", want: "0.0.0.0"},
		{in: "10.0.0.1 trailing", want: "10.0.0.1"},
		{in: "1..2.3", want: "1.0.2.3"},
		{in: "256.1.1.1", want: "0.1.1.1"},
		{in: "1.2.3", bad: true},
		{in: "1.2.3.4.5", bad: true},
		{in: "\x01c0a80401"},                                    // raw bytes, not ASCII digits
		{in: "\x013139322e3136382e342e31", want: "192.168.4.1"}, // b"192.168.4.1"
	} {
		a, err := parseIPv4(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parseIPv4(%q) = %v, want ValueError", tc.in, a)
			}
			continue
		}
		if tc.in == "\x01c0a80401" {
			// Raw bytes that are not ASCII digits parse as an empty prefix.
			if err == nil {
				t.Errorf("parseIPv4(bytes c0a80401) = %v, want ValueError", a)
			}
			continue
		}
		if err != nil || a.String() != tc.want {
			t.Errorf("parseIPv4(%q) = %v, %v; want %s", tc.in, a, err, tc.want)
		}
	}
}
