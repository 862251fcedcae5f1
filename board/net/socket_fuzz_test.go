package net

import "testing"

// FuzzPollSpec feeds the poll specification select.py builds from a
// script's registrations ("fd:events;fd:events").
func FuzzPollSpec(f *testing.F) {
	f.Add("3:1;4:5")
	f.Add("")
	f.Add(";;:")
	f.Add("99999999999999999999:1")
	f.Fuzz(func(t *testing.T, spec string) {
		reqs, err := parsePollSpec(spec)
		if err != nil {
			return
		}
		if spec != "" && len(reqs) == 0 {
			t.Fatalf("parsePollSpec(%q) = no requests, no error", spec)
		}
	})
}
