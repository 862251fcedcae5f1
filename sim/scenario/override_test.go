package scenario

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const baseYAML = `
name: base
boards:
  - name: esp1
    heap: 30000
links:
  - {node: esp1, loss: 5}
`

func TestOverrides(t *testing.T) {
	tests := []struct {
		name string
		set  []string
		env  map[string]string
		// check returns what it found, compared with want.
		check func(s *Scenario) any
		want  any
	}{
		{
			name:  "index into a list",
			set:   []string{"boards[0].heap=20000"},
			check: func(s *Scenario) any { return s.Boards[0].Heap },
			want:  ByteSize(20000),
		},
		{
			name:  "top-level scalar",
			set:   []string{"seed=7", "duration=30s"},
			check: func(s *Scenario) any { return []any{s.Seed, s.Duration} },
			want:  []any{uint64(7), Duration(30e9)},
		},
		{
			name:  "later wins",
			set:   []string{"seed=7", "seed=8"},
			check: func(s *Scenario) any { return s.Seed },
			want:  uint64(8),
		},
		{
			name:  "append with index len",
			set:   []string{"boards[1].name=esp2", "boards[1].replicas=2"},
			check: func(s *Scenario) any { return []any{len(s.Boards), s.Boards[1].Name, s.Boards[1].Replicas} },
			want:  []any{2, "esp2", 2},
		},
		{
			name:  "YAML flow value",
			set:   []string{"links[0]={node: esp1, latency: 200ms, loss: 10%}"},
			check: func(s *Scenario) any { return []any{s.Links[0].Latency, s.Links[0].Loss} },
			want:  []any{Duration(200e6), Percent(10)},
		},
		{
			name:  "create a missing section",
			set:   []string{"dns.fail=servfail", "allow_host_ports=[8888]", "time_mode=realtime"},
			check: func(s *Scenario) any { return []any{s.DNS.Fail, s.AllowHostPorts} },
			want:  []any{DNSServfail, []int{8888}},
		},
		{
			name:  "number into a string field keeps its digits",
			set:   []string{"wifi.access_points[0].ssid=Net", "wifi.access_points[0].passphrase=01234567"},
			check: func(s *Scenario) any { return s.WiFi.AccessPoints[0].Passphrase },
			want:  "01234567",
		},
		{
			name:  "append with [+]",
			set:   []string{"forwards[+]=8080:esp1:80", "forwards[+]=udp:5005:esp1:5005"},
			check: func(s *Scenario) any { return []any{len(s.Forwards), s.Forwards[1].Proto, s.TimeMode} },
			want:  []any{2, UDP, Realtime},
		},
		{
			name:  "environment",
			env:   map[string]string{"ESP8266SIM_SEED": "99", "ESP8266SIM_TIME_MODE": "realtime", "ESP8266SIM_DURATION": "1h"},
			check: func(s *Scenario) any { return []any{s.Seed, s.TimeMode, s.Duration} },
			want:  []any{uint64(99), Realtime, Duration(3600e9)},
		},
		{
			name:  "--set beats the environment",
			env:   map[string]string{"ESP8266SIM_SEED": "99"},
			set:   []string{"seed=5"},
			check: func(s *Scenario) any { return s.Seed },
			want:  uint64(5),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			s, err := Overrides{Set: tt.set, Env: tt.env != nil}.Parse("base.yaml", []byte(baseYAML), "")
			if err != nil {
				t.Fatalf("Parse with %v: %v", tt.set, err)
			}
			if diff := cmp.Diff(tt.want, tt.check(s)); diff != "" {
				t.Errorf("after %v (-want +got):\n%s", tt.set, diff)
			}
		})
	}
}

// TestEnvIgnoredUnlessAsked checks that the environment changes nothing
// when Overrides.Env is false.
func TestEnvIgnoredUnlessAsked(t *testing.T) {
	t.Setenv("ESP8266SIM_SEED", "99")
	s, err := Parse("base.yaml", []byte(baseYAML), "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Seed != DefaultSeed {
		t.Errorf("Seed = %d, want the default %d", s.Seed, DefaultSeed)
	}
}

func TestOverrideErrors(t *testing.T) {
	tests := []struct {
		name string
		set  []string
		env  map[string]string
		want string
	}{
		{"unknown key", []string{"boards[0].heep=1"}, nil,
			`--set boards[0].heep=1: boards[0].heep: unknown key "heep" (did you mean "heap"?)`},
		{"wrong type", []string{"seed=lots"}, nil,
			`--set seed=lots: seed: want a whole number (0 or more), got string "lots"`},
		{"invalid value is validated", []string{"links[0].loss=150"}, nil,
			`--set links[0].loss=150: links[0].loss: 150% is out of range; use 0 to 100`},
		{"index out of range", []string{"boards[3].heap=1"}, nil,
			`--set boards[3].heap=1: boards[3]: index 3 is out of range: the list has 1 entries (use index 1 to append)`},
		{"no equals sign", []string{"seed"}, nil,
			`--set seed: an override is key=value, e.g. "boards[0].heap=20000"`},
		{"bad key", []string{"boards[x].heap=1"}, nil,
			`--set boards[x].heap=1: boards[x].heap: bad key "boards[x].heap": write field names separated by dots, with list indexes in brackets, e.g. "boards[0].heap"`},
		{"index into a mapping", []string{"boards[0][1]=1"}, nil,
			`--set boards[0][1]=1: boards[0][1]: the parent is a mapping, not a list`},
		{"key into a scalar", []string{"name.first=x"}, nil,
			`--set name.first=x: name: is a value, not a mapping; cannot set "first" in it`},
		{"environment", nil, map[string]string{"ESP8266SIM_DURATION": "soon"},
			`$ESP8266SIM_DURATION: duration: bad duration "soon": write a duration like "10s", "250ms" or "1h"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := Overrides{Set: tt.set, Env: tt.env != nil}.Parse("base.yaml", []byte(baseYAML), "")
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse with %v:\n got %v\nwant %s", tt.set, err, tt.want)
			}
		})
	}
}

func TestParseKeyPath(t *testing.T) {
	tests := []struct {
		in   string
		want []keyStep
		ok   bool
	}{
		{"seed", []keyStep{{key: "seed"}}, true},
		{"boards[0].heap", []keyStep{{key: "boards"}, {index: 0}, {key: "heap"}}, true},
		{"a[1][2].b", []keyStep{{key: "a"}, {index: 1}, {index: 2}, {key: "b"}}, true},
		{"", nil, false},
		{"a.", nil, false},
		{".a", nil, false},
		{"a[", nil, false},
		{"a[-1]", nil, false},
		{"a[+].b", []keyStep{{key: "a"}, {index: appendIndex}, {key: "b"}}, true},
		{"a]b", nil, false},
	}
	for _, tt := range tests {
		got, err := parseKeyPath(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseKeyPath(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(keyStep{})); diff != "" {
			t.Errorf("parseKeyPath(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestOverrideErrorsSortAfterFileErrors(t *testing.T) {
	src := "boards:\n  - name: esp1\n    heep: 1\n"
	_, err := Overrides{Set: []string{"seed=x"}}.Parse("f.yaml", []byte(src), "")
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "f.yaml:3:") || !strings.HasPrefix(lines[1], "--set seed=x:") {
		t.Errorf("errors not in order file, then overrides:\n%v", err)
	}
}
