package report

import (
	"bytes"
	"strings"
	"testing"
)

// A run that used the real network says so in every text report (quiet
// too) and in JSON, with its flows; other runs do not mention it.
func TestReportSaysTheRunUsedTheRealNetwork(t *testing.T) {
	flow := "tcp 192.168.1.100:4000 → api.test (198.19.0.1:80) via host 127.0.0.2:80: 46 B out, 7578 B in, closed"
	r := &Run{Scenario: "s", Internet: &Internet{Flows: []string{flow}, More: 2}}
	for _, quiet := range []bool{false, true} {
		var b bytes.Buffer
		if err := WriteText(&b, r, TextOptions{Quiet: quiet}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, "this run used the real network (internet passthrough); flows through the NAT: 3\n") {
			t.Errorf("quiet=%v: text report does not say the run used the real network:\n%s", quiet, out)
		}
		if listed := strings.Contains(out, "  "+flow+"\n  … and 2 more\n"); listed == quiet {
			t.Errorf("quiet=%v: flows listed %v:\n%s", quiet, listed, out)
		}
	}
	var j bytes.Buffer
	if err := WriteJSON(&j, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(j.String(), `"internet": {`) || !strings.Contains(j.String(), `"real_network": true`) || !strings.Contains(j.String(), `"more_flows": 2`) {
		t.Errorf("JSON report:\n%s", j.String())
	}
	var plain bytes.Buffer
	WriteText(&plain, &Run{Scenario: "s"}, TextOptions{})
	WriteJSON(&plain, &Run{Scenario: "s"})
	if strings.Contains(plain.String(), "real network") || strings.Contains(plain.String(), "internet") {
		t.Errorf("a sandboxed run's reports mention the real network:\n%s", plain.String())
	}
}
