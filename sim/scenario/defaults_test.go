package scenario

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestApplyDefaultsIsIdempotent(t *testing.T) {
	s, err := Load("testdata/good/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	before := canonical(t, s)
	s.ApplyDefaults()
	if diff := cmp.Diff(string(before), string(canonical(t, s))); diff != "" {
		t.Errorf("second ApplyDefaults changed the scenario (-first +second):\n%s", diff)
	}
}

func TestGoBuiltScenario(t *testing.T) {
	s := &Scenario{Boards: []Board{{Name: "esp1", Code: "print(1)"}}}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	ap := s.WiFi.AccessPoints[0]
	if ap.SSID != DefaultSSID || ap.Passphrase != DefaultPassphrase || ap.Security != SecWPA2 || ap.Subnet != "192.168.1.0/24" {
		t.Errorf("default access point = %+v", ap)
	}
	if s.Name != "scenario" || s.TimeMode != Fast || s.Seed != 1 {
		t.Errorf("name %q mode %q seed %d", s.Name, s.TimeMode, s.Seed)
	}
	// Errors of a Go-built scenario name the field only.
	s.Boards[0].Heap = 10
	if err := s.Validate(); err == nil || err.Error() != "boards[0].heap: 10 bytes is out of range; use 8192 to 4194304, or leave it out for the board's 38 KiB" {
		t.Errorf("Validate = %v", err)
	}
}

func TestExplicitEmptyWiFi(t *testing.T) {
	s, err := Parse("w.yaml", []byte("wifi: {access_points: []}\nboards: [{name: e}]\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.WiFi.AccessPoints) != 0 {
		t.Errorf("access points = %+v, want none", s.WiFi.AccessPoints)
	}
}

func TestInstances(t *testing.T) {
	s := &Scenario{Boards: []Board{
		{Name: "solo"},
		{Name: "n", Replicas: 3, MAC: "5c:cf:7f:00:00:fe"},
		{Name: "m", Replicas: 2},
	}}
	s.ApplyDefaults()
	var got []string
	for _, in := range s.Instances() {
		got = append(got, in.Name+" "+in.MAC)
	}
	want := []string{
		"solo 5c:cf:7f:a0:00:01",
		"n-1 5c:cf:7f:00:00:fe",
		"n-2 5c:cf:7f:00:00:ff",
		"n-3 5c:cf:7f:00:01:00",
		"m-1 5c:cf:7f:a0:00:05",
		"m-2 5c:cf:7f:a0:00:06",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Instances (-want +got):\n%s", diff)
	}
	names, ok := s.InstancesOf("n")
	if !ok || len(names) != 3 {
		t.Errorf("InstancesOf(n) = %v, %v", names, ok)
	}
	if names, ok := s.InstancesOf("m-2"); !ok || len(names) != 1 {
		t.Errorf("InstancesOf(m-2) = %v, %v", names, ok)
	}
	if _, ok := s.InstancesOf("x"); ok {
		t.Error("InstancesOf(x) found something")
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestDefaultSubnetsAvoidExplicitOnes(t *testing.T) {
	s := &Scenario{
		WiFi: WiFi{AccessPoints: []AccessPoint{
			{SSID: "a"},
			{SSID: "b", Subnet: "192.168.1.0/24"},
		}},
		Boards: []Board{{Name: "e"}},
	}
	s.ApplyDefaults()
	if got := s.WiFi.AccessPoints[0].Subnet; got != "192.168.2.0/24" {
		t.Errorf("default subnet = %s, want 192.168.2.0/24 (192.168.1.0/24 is taken)", got)
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
}

func TestErrorf(t *testing.T) {
	s, err := Load("testdata/good/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := s.Errorf("forwards[0].host_port", "port %d is already in use; pick another", 8080).Error()
	if want := "testdata/good/full.yaml:87: forwards[0].host_port: port 8080 is already in use; pick another"; got != want {
		t.Errorf("Errorf = %q, want %q", got, want)
	}
}

// TestFastWithBridges: an explicit fast time_mode contradicts forwards;
// the default mode becomes realtime.
func TestFastWithBridges(t *testing.T) {
	_, err := Parse("f.yaml", []byte("time_mode: fast\nboards: [{name: e}]\nallow_host_ports: [8888]\n"), "")
	want := "f.yaml:1: time_mode: fast time cannot be used with forwards or allow_host_ports (real programs run in real time); remove time_mode or set realtime"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	s, err := Parse("f.yaml", []byte("boards: [{name: e}]\nallow_host_ports: [8888]\n"), "")
	if err != nil || s.TimeMode != Realtime {
		t.Errorf("time mode %q, %v; want realtime", s.TimeMode, err)
	}
}
