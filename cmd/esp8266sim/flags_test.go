package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/esp8266sim/esp8266sim/internal/testnames"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// flagCoverage maps every command-line flag ("command --flag"; "--flag"
// for the global ones) to a test that shows it taking effect. A flag added
// without an entry fails TestEveryFlagIsCovered, so a new flag cannot land
// untested.
var flagCoverage = map[string]string{
	"--firmware":               "TestRunExitCodes",
	"run --set":                "TestRunFlagsSetTheScenario",
	"run --wifi":               "TestRunScriptInDefaultWorldWithWiFiFlag",
	"run --seed":               "TestRunFlagsSetTheScenario",
	"run --realtime":           "TestRunFlagsSetTheScenario",
	"run --timeout":            "TestRunFlagsSetTheScenario",
	"run --latency":            "TestImpairmentFlagsCombineWithScenarioLinks",
	"run --jitter":             "TestRunFlagsSetTheScenario",
	"run --loss":               "TestImpairmentFlagsCombineWithScenarioLinks",
	"run --duplicate":          "TestRunFlagsSetTheScenario",
	"run --reorder":            "TestRunFlagsSetTheScenario",
	"run --corrupt":            "TestRunFlagsSetTheScenario",
	"run --bandwidth":          "TestRunFlagsSetTheScenario",
	"run --forward":            "TestForwardServesCurl",
	"run --allow-host-port":    "TestHostAccessWithNetcat",
	"run --internet":           "TestInternetHTTPGetTutorial",
	"run --resolve":            "TestInternetHTTPGetTutorial",
	"run --boards":             "TestRunFlagsSetTheScenario",
	"run --pcap":               "TestRunOutputFlags",
	"run --trace":              "TestRunOutputFlags",
	"run --format":             "TestRunJUnitReport",
	"run --quiet":              "TestQuickChecks",
	"run --expect-text":        "TestQuickChecks",
	"run --fail-text":          "TestQuickChecks",
	"run --watchdog":           "TestRunOutputFlags",
	"run --cpus":               "TestCPUsPolicy",
	"run --cpu":                "TestCPUFlag",
	"run --beacons":            "TestBeaconsFlag",
	"run --display-dir":        "TestDisplayDirFlag",
	"run --report":             "TestHTMLReportInBrowser",
	"run --ui":                 "TestLiveView",
	"repl --seed":              "TestReplFlags",
	"repl --heap":              "TestReplFlags",
	"repl --wifi":              "TestReplWiFiFlag",
	"serve --serial-dir":       "TestServe",
	"serve --ui":               "TestServeLiveView",
	"serve --serial-tcp":       "TestServe",
	"validate --set":           "TestRunFlagsSetTheScenario",
	"multitest --format":       "TestMultitestCommand",
	"multitest --loss":         "TestMultitestFlags",
	"multitest --latency":      "TestMultitestFlags",
	"multitest --seed":         "TestMultitestOutputFlags",
	"multitest --timeout":      "TestMultitestFlags",
	"multitest --instances":    "TestMultitestFlags",
	"multitest --show-output":  "TestMultitestOutputFlags",
	"multitest --trace-output": "TestMultitestOutputFlags",
	"multitest --trace":        "TestMultitestOutputFlags",
}

// repoTests is every Test function name in the repository's test files.
func repoTests(t *testing.T) map[string]bool {
	t.Helper()
	names, err := testnames.In("../..")
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// Every flag of every command has a test showing its effect.
func TestEveryFlagIsCovered(t *testing.T) {
	tests := repoTests(t)
	flags := map[string]bool{}
	check := func(key string) {
		flags[key] = true
		test, ok := flagCoverage[key]
		switch {
		case !ok:
			t.Errorf("flag %s has no test: write one that fails without the flag's effect and list it in flagCoverage", key)
		case !tests[test]:
			t.Errorf("flagCoverage[%q] names %s, which is not a test in this repository", key, test)
		}
	}
	root := newRootCmd()
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) { check("--" + f.Name) })
	// serve's world flags are run's (worldFlags.register, the same code
	// builds both worlds): run's entry covers them, once the two are shown
	// to be the same flags.
	runFlags := map[string]*pflag.Flag{}
	for _, c := range root.Commands() {
		if c.Name() == "run" {
			c.LocalFlags().VisitAll(func(f *pflag.Flag) { runFlags[f.Name] = f })
		}
	}
	for _, c := range root.Commands() {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			// A serve flag that differs from run's (serve --ui: the same
			// name, serve's own wiring) needs its own entry and test.
			if rf := runFlags[f.Name]; c.Name() == "serve" && rf != nil && rf.Usage == f.Usage && rf.Value.Type() == f.Value.Type() {
				return
			}
			check(c.Name() + " --" + f.Name)
		})
	}
	for key := range flagCoverage {
		if !flags[key] {
			t.Errorf("flagCoverage lists %s, which is no longer a flag", key)
		}
	}
}

// The flags that set scenario fields set them.
func TestRunFlagsSetTheScenario(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "s.yaml", "boards:\n  - {name: esp1, code: 'print(1)'}\n")
	sc, err := loadWithFlags(t, path, "--seed", "7", "--realtime", "--timeout", "90s", "--boards", "3",
		"--set", "boards[0].heap=20000", "--jitter", "3ms", "--duplicate", "1%", "--reorder", "2%", "--corrupt", "0.5%", "--bandwidth", "2mbit")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Seed != 7 || sc.TimeMode != scenario.Realtime || sc.Duration.D() != 90*time.Second || len(sc.Instances()) != 3 || sc.Boards[0].Heap != 20000 {
		t.Errorf("seed %d, mode %s, duration %v, %d instances, heap %d", sc.Seed, sc.TimeMode, sc.Duration.D(), len(sc.Instances()), sc.Boards[0].Heap)
	}
	if len(sc.Links) != 1 {
		t.Fatalf("links %+v", sc.Links)
	}
	l := sc.Links[0]
	if l.Jitter.D() != 3*time.Millisecond || l.Duplicate != 1 || l.Reorder != 2 || l.Corrupt != 0.5 || l.Bandwidth.BitsPerSecond() != 2e6 {
		t.Errorf("link %+v", l)
	}
	// validate takes --set too: an override that breaks the scenario is
	// reported.
	var stdout, stderr bytes.Buffer
	if code := runWith([]string{"validate", path, "--set", "boards[0].heap=-5"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String()+stdout.String(), "heap") {
		t.Errorf("validate --set: exit %d, output %s%s", code, stdout.String(), stderr.String())
	}
}

// --pcap writes a pcapng file, --trace prints the trace, --watchdog stops
// a script that computes too long.
func TestRunOutputFlags(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "c.pcapng")
	var stdout, stderr bytes.Buffer
	if code := runWith([]string{"run", "connect", "--pcap", pcap, "--trace"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(pcap)
	if err != nil || len(data) < 4 || !bytes.Equal(data[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		t.Errorf("--pcap: %v, %d bytes, want a pcapng file", err, len(data))
	}
	if !strings.Contains(stdout.String(), "DHCP DISCOVER") {
		t.Errorf("--trace: no DHCP in the trace:\n%s", stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	busy := writeFile(t, dir, "busy.py", "while True:\n    pass\n")
	start := time.Now()
	code := runWith([]string{"run", busy, "--watchdog", "300ms"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "watchdog") || time.Since(start) > time.Minute {
		t.Errorf("--watchdog: exit %d after %v:\n%s", code, time.Since(start), stderr.String())
	}
}

// repl --heap sets the board's heap, repl --seed its random numbers.
func TestReplFlags(t *testing.T) {
	repl := func(args ...string) string {
		t.Helper()
		stdout, stderr := replTyped(t, "import gc, random\r"+
			"print('heap', gc.mem_free() + gc.mem_alloc() < 40000, 'rand', random.getrandbits(30))\r", 2*time.Second, args...)
		m := regexp.MustCompile(`heap \w+ rand \d+`).FindString(stdout)
		if m == "" {
			t.Fatalf("repl %v printed %q (stderr %q)", args, stdout, stderr)
		}
		return m
	}
	small, big := repl("--heap", "30000", "--seed", "1"), repl("--seed", "1", "--heap", "60000")
	if !strings.HasPrefix(small, "heap True") || !strings.HasPrefix(big, "heap False") {
		t.Errorf("--heap: %q with 30000, %q with 60000", small, big)
	}
	other := repl("--heap", "30000", "--seed", "2")
	if other == small || repl("--heap", "30000", "--seed", "1") != small {
		t.Errorf("--seed: seed 1 %q, seed 2 %q; want the same numbers for the same seed only", small, other)
	}
}

// multitest -s shows a passing test's output, -c the consoles as they
// print, --trace the network trace; --seed is the world's seed.
func TestMultitestOutputFlags(t *testing.T) {
	const file = "../../sim/multitest/testdata/metric/globals.py"
	var stdout, stderr bytes.Buffer
	code := runWith([]string{"multitest", "-s", "-c", "--trace", "--seed", "3", file}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "### TEST ###\n--- instance0 ---\nzero before next") {
		t.Errorf("-s: no test output shown:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "zero before next") {
		t.Errorf("-c: no console lines on stderr:\n%s", clip(stderr.String()))
	}
	if !strings.Contains(stderr.String(), "DHCP") {
		t.Errorf("--trace: no trace on stderr:\n%s", clip(stderr.String()))
	}
	// The seed draws the DHCP transaction ids: another seed, other ids.
	xids := func(seed string) string {
		var stdout, stderr bytes.Buffer
		runWith([]string{"multitest", "--trace", "--seed", seed, file}, &stdout, &stderr)
		return strings.Join(regexp.MustCompile(`DISCOVER xid=0x[0-9a-f]+`).FindAllString(stderr.String(), -1), " ")
	}
	three, four := xids("3"), xids("4")
	if three == "" || three == four || xids("3") != three {
		t.Errorf("--seed: xids %q with 3, %q with 4; want the same for one seed only", three, four)
	}
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

// repl --wifi names the access point of the REPL's world.
func TestReplWiFiFlag(t *testing.T) {
	stdout, stderr := replTyped(t, "import network\r"+
		"sta = network.WLAN(network.STA_IF); sta.active(True)\r"+
		"print('seen', [n[0] for n in sta.scan()])\r", 3*time.Second, "--wifi", "ClassNet:secret123")
	if !strings.Contains(stdout, "seen [b'ClassNet']") {
		t.Errorf("repl --wifi ClassNet: scan printed %q (stderr %q)", stdout, stderr)
	}
}

// replTyped runs `esp8266sim repl args...` with typed on its standard
// input, which stays open for hold after it (the REPL's session).
func replTyped(t *testing.T, typed string, hold time.Duration, args ...string) (stdout, stderr string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	go func() {
		w.WriteString(typed)
		time.Sleep(hold)
		w.Close()
	}()
	var out, errOut bytes.Buffer
	runWith(append([]string{"repl"}, args...), &out, &errOut)
	return out.String(), errOut.String()
}
