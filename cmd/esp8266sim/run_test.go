package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/sim"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const joinScript = `import network, time
sta = network.WLAN(network.STA_IF)
sta.active(True)
sta.connect(%q, %q)
for i in range(100):
    if sta.isconnected():
        break
    time.sleep_ms(100)
print("status", sta.status(), sta.ifconfig()[0])
`

// An ad-hoc script joins the network --wifi names, in the default world.
func TestRunScriptInDefaultWorldWithWiFiFlag(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, wifi, ssid, pass, want string
	}{
		{"right password", "Lab:labpass99", "Lab", "labpass99", "status 5 192.168.1.100\n"},
		{"wrong password", "Lab:labpass99", "Lab", "wrongpass1", "status 2 0.0.0.0\n"},
		{"unknown network", "Lab:labpass99", "Elsewhere", "labpass99", "status 3 0.0.0.0\n"},
		{"open network", "Cafe", "Cafe", "", "status 5 192.168.1.100\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := writeFile(t, dir, "join.py", fmt.Sprintf(joinScript, tt.ssid, tt.pass))
			var stdout, stderr bytes.Buffer
			code := runWith([]string{"run", script, "--wifi", tt.wifi}, &stdout, &stderr)
			if code != 0 || stdout.String() != tt.want {
				t.Errorf("code %d stdout %q, want 0 %q; stderr:\n%s", code, stdout.String(), tt.want, stderr.String())
			}
		})
	}
}

// --expect-text and --fail-text decide the exit status of an ad-hoc run.
func TestQuickChecks(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, dir, "hello.py", "print('hello from the board')\nprint('all good')\n")
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"--expect-text", "all good"}, 0},
		{[]string{"--expect-text", "never printed"}, 1},
		{[]string{"--fail-text", "hello"}, 1},
		{[]string{"--fail-text", "Traceback"}, 0},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := runWith(append([]string{"run", script, "--quiet"}, tt.args...), &stdout, &stderr)
		if code != tt.code {
			t.Errorf("run %v: code %d, want %d; stderr:\n%s", tt.args, code, tt.code, stderr.String())
		}
	}
}

// --format junit writes one testcase per expectation, failures marked.
func TestRunJUnitReport(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := runWith([]string{"run", "tcp_client_pc_down", "--format", "junit"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("code %d; stderr:\n%s", code, stderr.String())
	}
	var suites struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(stdout.Bytes(), &suites); err != nil {
		t.Fatalf("JUnit output is not XML: %v\n%s", err, stdout.String())
	}
	if len(suites.Suites) != 1 || suites.Suites[0].Tests != 3 || suites.Suites[0].Failures != 0 {
		t.Errorf("suites = %+v, want one suite with 3 passing tests", suites.Suites)
	}
}

func TestValidateAndList(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "boards:\n  - name: esp1\n    heep: 20000\n")
	var stdout, stderr bytes.Buffer
	if code := runWith([]string{"validate", bad}, &stdout, &stderr); code != 2 {
		t.Errorf("validate bad: code %d, want 2", code)
	}
	if want := "bad.yaml:3: boards[0].heep: unknown key"; !strings.Contains(stderr.String(), want) {
		t.Errorf("validate bad: stderr %q, want it to contain %q", stderr.String(), want)
	}
	stdout.Reset()
	stderr.Reset()
	if code := runWith([]string{"validate", "../../scenarios/http_get.yaml"}, &stdout, &stderr); code != 0 {
		t.Errorf("validate good: code %d; stderr %s", code, stderr.String())
	}
	stdout.Reset()
	if code := runWith([]string{"list"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "http_get ") {
		t.Errorf("list: code %d stdout %q", code, stdout.String())
	}
}

// One board in fast mode runs on one CPU unless told otherwise; fleets and
// an explicit GOMAXPROCS are left alone; --cpus must be positive.
func TestCPUsPolicy(t *testing.T) {
	fw, err := board.DefaultFirmware()
	if err != nil {
		t.Fatal(err)
	}
	world := func(yaml string) *sim.World {
		sc, err := scenario.Parse("cpus.yaml", []byte(yaml), "yaml")
		if err != nil {
			t.Fatal(err)
		}
		w, err := sim.New(sc, sim.Options{Firmware: fw})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return w
	}
	one := world("boards: [{name: esp1, code: \"print(1)\"}]")
	fleet := world("boards: [{name: esp, replicas: 3, code: \"print(1)\"}]")
	realtime := world("time_mode: realtime\nboards: [{name: esp1, code: \"print(1)\"}]")
	tests := []struct {
		name   string
		w      *sim.World
		cpus   int
		envSet bool
		want   int
	}{
		{"one board", one, 0, false, 1},
		{"fleet: one board runs at a time in fast mode", fleet, 0, false, 1},
		{"realtime", realtime, 0, false, 0},
		{"--cpus wins", one, 3, false, 3},
		{"GOMAXPROCS wins over the suggestion", one, 0, true, 0},
		{"--cpus wins over GOMAXPROCS", fleet, 2, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.envSet {
				t.Setenv("GOMAXPROCS", "2")
			}
			f := worldFlags{cpus: tt.cpus}
			if got := f.procs(tt.w); got != tt.want {
				t.Errorf("procs = %d, want %d", got, tt.want)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := runWith([]string{"run", "--cpus", "-1"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "--cpus must be between 1 and") {
		t.Errorf("--cpus -1: code %d stderr %q, want 2 and a usage message", code, stderr.String())
	}
}
