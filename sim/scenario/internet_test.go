package scenario

import (
	"strings"
	"testing"
)

// Each mistake in the internet section gets one clear sentence naming the
// field.
func TestInternetSectionProblems(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		want       []string
	}{
		{
			name: "enumeration and entries",
			yaml: `
internet:
  mode: on
  allow: [api.test, "::1"]
  resolve: [api.test, "b.test:1.2.3.4", "b.test:5.6.7.8"]
  udp_timeout: -1s
  max_flows: -3
`,
			want: []string{
				`internet.mode: string "on" is not one of "off" or "passthrough"`,
			},
		},
		{
			name: "entries",
			yaml: `
internet_hosts: [{name: www.sim, ip: 203.0.113.10}]
internet:
  mode: passthrough
  allow: [api.test, "::1"]
  resolve: [api.test, "b.test:1.2.3.4", "b.test:5.6.7.8", "www.sim:1.2.3.4"]
  udp_timeout: -1s
  max_flows: -3
`,
			want: []string{
				`internet.allow[0]: allow "api.test": a name needs a port`,
				`internet.allow[1]: allow "::1": only IPv4 destinations are reachable`,
				`internet.resolve[0]: resolve "api.test": want NAME:ADDR (like api.test:127.0.0.2)`,
				`internet.resolve[2]: b.test is already pinned by internet.resolve[1]`,
				`internet.resolve[3]: www.sim is a name the scenario declares (an internet host or DNS record), and declared names win; pin another name`,
				`internet.udp_timeout: must not be negative, got -1s`,
				`internet.max_flows: must not be negative, got -3`,
			},
		},
		{
			name: "off with passthrough's settings",
			yaml: `
internet:
  allow: [10.0.0.0/8]
  resolve: [api.test:127.0.0.2]
`,
			want: []string{
				`internet.allow: restricts the real network, which is off; add internet.mode: passthrough (--internet)`,
				`internet.resolve[0]: api.test:127.0.0.2 points at the host's loopback, which boards reach only through the real network; add internet.mode: passthrough (--internet)`,
			},
		},
		{
			name: "fast time",
			yaml: `
time_mode: fast
internet: {mode: passthrough}
`,
			want: []string{
				`time_mode: fast time cannot be used with internet passthrough (the real network runs in real time); remove time_mode or set realtime`,
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.yaml+"boards: [{name: esp1, code: 'pass'}]\n"), "yaml")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
	// Passthrough without a time mode runs in realtime.
	s, err := Parse("t.yaml", []byte("internet: {mode: passthrough}\nboards: [{name: esp1, code: 'pass'}]\n"), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.TimeMode != Realtime {
		t.Errorf("passthrough runs in time mode %q; want realtime", s.TimeMode)
	}
}
