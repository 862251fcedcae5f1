package scenario

import (
	"testing"
)

func TestDescriptions(t *testing.T) {
	s, err := Load("testdata/good/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`esp1 console contains "<html>" within 30s`,
		`esp1 console matches /got \d+ bytes/`,
		`esp2 console never shows "Traceback"`,
		`pc received "Hello"`,
		`esp1 exits cleanly`,
		`esp2 ends with OSError "ECONNRESET"`,
		`esp1 has no sockets at the end`,
		`capture shows a TCP handshake esp1 → micropython.org:80`,
		`capture shows DHCP DISCOVER, OFFER, REQUEST, ACK for esp1`,
		`capture shows a DNS query for micropython.org`,
		`finishes in time`,
	}
	for i, e := range s.Expect {
		if got := e.String(); i >= len(want) || got != want[i] {
			t.Errorf("expect[%d].String() = %q, want %q", i, got, want[min(i, len(want)-1)])
		}
	}
	faults := []string{
		"ap_down HomeNet for 5s",
		"link esp1",
		"dns_fail HomeNet servfail for micropython.org for 10s",
		"host_fault micropython.org reset_after",
		"host_ok micropython.org",
		"deauth esp2-1",
		"board_reset esp1",
	}
	for i, f := range s.Faults {
		if got := f.String(); got != faults[i] {
			t.Errorf("faults[%d].String() = %q, want %q", i, got, faults[i])
		}
	}
	if got := (Expect{SimTime: &TimeBounds{Min: Duration(10e9), Max: Duration(60e9)}}).String(); got != "run ends between 10s and 1m0s" {
		t.Errorf("sim_time: %q", got)
	}
}
