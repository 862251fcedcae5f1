package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"golang.org/x/term"

	"github.com/esp8266sim/esp8266sim/scenarios"
	"github.com/esp8266sim/esp8266sim/scripts"
	"github.com/esp8266sim/esp8266sim/sim"
	"github.com/esp8266sim/esp8266sim/sim/report"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// defaultScenario is what `esp8266sim run` runs without an argument.
const defaultScenario = "http_get"

// shippedFS holds the embedded scenarios and the scripts they use.
var shippedFS = scenario.MountFS(map[string]fs.FS{"scenarios": scenarios.FS, "scripts": scripts.FS})

// worldFlags are the flags of commands that build a world (run, repl).
type worldFlags struct {
	set         []string
	wifi        string
	seed        uint64
	realtime    bool
	timeout     time.Duration
	latency     time.Duration
	jitter      time.Duration
	loss        string
	duplicate   string
	reorder     string
	corrupt     string
	bandwidth   string
	forwards    []string
	allowHost   []int
	net         internetFlags
	boards      int
	pcap        string
	displayDir  string
	trace       bool
	report      string // run --report FILE.html (htmlreport.go)
	ui          int    // run --ui PORT (liveui.go)
	beacons     time.Duration
	format      string
	quiet       bool
	expectText  []string
	failText    []string
	watchdog    time.Duration
	consoleTail int
	cpus        int
	// desk makes "no argument" mean the default world with no script (a
	// board on a desk) instead of the default scenario; serve and repl.
	desk bool
	// cpu is --cpu: board or native (cputime.go).
	cpu string
}

func (f *worldFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.set, "set", nil, "override a scenario field, e.g. --set boards[0].heap=20000 (repeatable)")
	fl.StringVar(&f.wifi, "wifi", "", "the access point's network as SSID[:PASSWORD] (default SimNet:esp8266sim)")
	fl.Uint64Var(&f.seed, "seed", 0, "random seed for loss, jitter and the boards (default: the scenario's, else 1)")
	fl.BoolVar(&f.realtime, "realtime", false, "run the simulator clock at wall-clock speed instead of fast-forwarding")
	fl.DurationVar(&f.timeout, "timeout", 0, "end the run after this much simulated time (default: the scenario's duration, else 5m)")
	fl.DurationVar(&f.latency, "latency", 0, "one-way latency of every board's WiFi link, e.g. 200ms (a scenario's link for the board keeps its other fields)")
	fl.DurationVar(&f.jitter, "jitter", 0, "random variation of the latency, e.g. 20ms")
	fl.StringVar(&f.loss, "loss", "", "chance a frame on a board's link is lost, e.g. 10%")
	fl.StringVar(&f.duplicate, "duplicate", "", "chance a frame on a board's link is delivered twice, e.g. 1%")
	fl.StringVar(&f.reorder, "reorder", "", "chance a frame on a board's link overtakes earlier ones, e.g. 5%")
	fl.StringVar(&f.corrupt, "corrupt", "", "chance one bit of a frame on a board's link is flipped, e.g. 0.1%")
	fl.StringVar(&f.bandwidth, "bandwidth", "", "rate limit of every board's link, e.g. 1mbit")
	fl.StringArrayVar(&f.forwards, "forward", nil, "forward a host port to a board: [tcp:|udp:][HOSTADDR:]HOSTPORT:BOARD:PORT (repeatable; binds 127.0.0.1 by default)")
	fl.IntSliceVar(&f.allowHost, "allow-host-port", nil, "let boards reach this port of the host's loopback as host.sim.internal (repeatable)")
	f.net.register(fl)
	fl.IntVar(&f.boards, "boards", 0, "run N copies of the (first) board, with distinct names and MACs")
	fl.StringVar(&f.pcap, "pcap", "", "write every frame to this pcapng file (open it with Wireshark or tshark)")
	fl.DurationVar(&f.beacons, "beacons", 0, "record one beacon of each access point this often in the capture (default 1.024s, one in ten; 0 for none)")
	fl.BoolVar(&f.trace, "trace", false, "print the readable trace: 802.11 steps, DHCP, ARP, DNS, TCP, socket calls")
	fl.StringVar(&f.format, "format", "text", "report format: text, json or junit")
	fl.StringVar(&f.displayDir, "display-dir", "", "write each simulated display's panel at the end of the run as BOARD-DEVICE.png in this directory")
	fl.BoolVar(&f.quiet, "quiet", false, "print only the verdict and failures (no console, no progress)")
	fl.StringArrayVar(&f.expectText, "expect-text", nil, "pass once a board's console shows TEXT (repeatable)")
	fl.StringArrayVar(&f.failText, "fail-text", nil, "fail at once when a board's console shows TEXT (repeatable)")
	fl.DurationVar(&f.watchdog, "watchdog", 0, "wall-clock time Python code may run without waiting before it is stopped (default 20s)")
	fl.StringVar(&f.cpu, "cpu", "", "what the boards' code costs in simulated time: board (ESP8266 CPU time at 80/160 MHz, console output at the UART's baud; the default) or native (nothing)")
	fl.IntVar(&f.cpus, "cpus", 0, "CPUs the simulator may use (default: 1 in fast mode, where one board runs at a time and more only slow it down and may reorder frames sent at one simulated instant; all in realtime; GOMAXPROCS if set)")
}

// maxCPUs bounds --cpus: far above any machine this runs on, far below the
// Go runtime's 10,000-thread limit.
const maxCPUs = 1024

// procs is the GOMAXPROCS the run should use, 0 to leave it alone: --cpus,
// else the GOMAXPROCS environment variable wins over the world's suggestion.
func (f *worldFlags) procs(w interface{ SuggestedProcs() int }) int {
	switch {
	case f.cpus > 0:
		return f.cpus
	case os.Getenv("GOMAXPROCS") != "":
		return 0
	}
	return w.SuggestedProcs()
}

// overrides turns the flags into scenario overrides: --set first, then the
// dedicated flags, which win. Environment variables ESP8266SIM_* are read by
// the scenario loader through viper.
func (f *worldFlags) overrides(cmd *cobra.Command) (scenario.Overrides, error) {
	o := scenario.Overrides{Env: true}
	o.Set = append(o.Set, f.set...)
	fl := cmd.Flags()
	if fl.Changed("seed") {
		o.Set = append(o.Set, fmt.Sprintf("seed=%d", f.seed))
	}
	if f.realtime {
		o.Set = append(o.Set, "time_mode=realtime")
	}
	switch f.cpu {
	case "":
	case "board", "native":
		o.Set = append(o.Set, "cpu="+f.cpu)
	default:
		return o, usagef("--cpu must be board or native, e.g. --cpu native")
	}
	// A value the flag's default (0) stands for must still be refused when
	// given: --cpus 0 or --watchdog -1s silently meant "the default" or
	// "no watchdog", and --cpus 100000 ended in Go's thread exhaustion.
	if fl.Changed("cpus") && (f.cpus < 1 || f.cpus > maxCPUs) {
		return o, usagef("--cpus must be between 1 and %d, e.g. --cpus 2", maxCPUs)
	}
	if fl.Changed("watchdog") && f.watchdog <= 0 {
		return o, usagef("--watchdog must be positive, e.g. --watchdog 20s")
	}
	if fl.Changed("timeout") {
		if f.timeout <= 0 {
			return o, usagef("--timeout must be positive, e.g. --timeout 2m")
		}
		o.Set = append(o.Set, "duration="+f.timeout.String())
	}
	if f.wifi != "" {
		ssid, pass, hasPass := strings.Cut(f.wifi, ":")
		if ssid == "" {
			return o, usagef("--wifi needs an SSID, e.g. --wifi MyNet:secret123")
		}
		o.Set = append(o.Set, "wifi.access_points[0].ssid="+yamlQuote(ssid))
		if hasPass && pass != "" {
			o.Set = append(o.Set, "wifi.access_points[0].passphrase="+yamlQuote(pass), "wifi.access_points[0].security=wpa2-psk")
		} else {
			o.Set = append(o.Set, "wifi.access_points[0].passphrase=''", "wifi.access_points[0].security=open")
		}
	}
	if fl.Changed("boards") {
		if f.boards < 1 {
			return o, usagef("--boards must be at least 1")
		}
		o.Set = append(o.Set, fmt.Sprintf("boards[0].replicas=%d", f.boards))
	}
	for _, fw := range f.forwards {
		o.Set = append(o.Set, "forwards[+]="+yamlQuote(fw))
	}
	for _, p := range f.allowHost {
		o.Set = append(o.Set, fmt.Sprintf("allow_host_ports[+]=%d", p))
	}
	o.Set = append(o.Set, f.net.sets()...)
	return o, nil
}

// impairment returns the link impairment the --latency … flags ask for, and
// whether any was given.
func (f *worldFlags) impairment(cmd *cobra.Command) (map[string]string, bool) {
	m := map[string]string{}
	fl := cmd.Flags()
	if fl.Changed("latency") {
		m["latency"] = f.latency.String()
	}
	if fl.Changed("jitter") {
		m["jitter"] = f.jitter.String()
	}
	for key, v := range map[string]string{"loss": f.loss, "duplicate": f.duplicate, "reorder": f.reorder, "corrupt": f.corrupt, "bandwidth": f.bandwidth} {
		if v != "" {
			m[key] = v
		}
	}
	return m, len(m) > 0
}

func yamlQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// loadScenario resolves what `run` was given: nothing (the default
// scenario), a .py script (the default world), a scenario file, or the name
// of an embedded scenario. Flags that apply to every board (impairments,
// --expect-text, --fail-text) need the board names, so the scenario is read
// once to learn them and once more with those overrides.
func loadScenario(cmd *cobra.Command, f *worldFlags, arg string) (*scenario.Scenario, error) {
	o, err := f.overrides(cmd)
	if err != nil {
		return nil, err
	}
	if st, statErr := os.Stat(arg); arg != "" && statErr == nil && st.IsDir() {
		return nil, usagef("%s is a directory; give a .py script or a scenario file, e.g. %s", arg, filepath.Join(arg, "main.py"))
	}
	var script []byte
	if strings.HasSuffix(arg, ".py") {
		if script, err = readScript(arg); err != nil {
			return nil, err
		}
	}
	load := func(o scenario.Overrides) (*scenario.Scenario, error) {
		switch {
		case arg == "" && f.desk:
			return adhocScenario(o, "desk", nil)
		case arg == "":
			return o.ParseFS(shippedFS, "scenarios/"+defaultScenario+".yaml")
		case strings.HasSuffix(arg, ".py"):
			return adhocScenario(o, arg, script)
		case isScenarioFile(arg):
			if _, statErr := os.Stat(arg); statErr != nil {
				return nil, usagef("scenario %s does not exist", arg)
			}
			return o.Load(arg)
		}
		name := strings.TrimSuffix(arg, ".yaml")
		if _, statErr := fs.Stat(scenarios.FS, name+".yaml"); statErr != nil {
			return nil, usagef("%q is neither a .py script, a scenario file (.yaml, .toml, .json) nor a built-in scenario; see `esp8266sim list`", arg)
		}
		return o.ParseFS(shippedFS, "scenarios/"+name+".yaml")
	}
	sc, err := load(o)
	if err == nil {
		if extra := f.perBoardSets(cmd, sc); len(extra) > 0 {
			o.Set = append(o.Set, extra...)
			sc, err = load(o)
		}
	}
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return nil, err
		}
		return nil, &usageError{err.Error()}
	}
	return sc, nil
}

// perBoardSets are the overrides that apply the impairment flags and the
// quick console checks to every board entry of sc.
func (f *worldFlags) perBoardSets(cmd *cobra.Command, sc *scenario.Scenario) []string {
	var sets []string
	imp, hasImp := f.impairment(cmd)
	keys := make([]string, 0, len(imp))
	for k := range imp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, b := range sc.Boards {
		name := yamlQuote(b.Name)
		if hasImp {
			sets = append(sets, linkSets(sc, b.Name, imp, keys)...)
		}
		for _, t := range f.expectText {
			sets = append(sets, fmt.Sprintf("expect[+]={console_contains: %s, board: %s}", yamlQuote(t), name))
		}
		for _, t := range f.failText {
			sets = append(sets, fmt.Sprintf("expect[+]={console_not_contains: %s, board: %s}", yamlQuote(t), name))
		}
	}
	return sets
}

// linkSets applies the impairment flags to board's link: a board without a
// link in the scenario gets one; a board with one keeps it and the flags
// set the fields they name (a scenario link for one direction gets a
// second entry for the other, carrying only the flags).
func linkSets(sc *scenario.Scenario, board string, imp map[string]string, keys []string) []string {
	var sets []string
	covered := map[scenario.LinkDirection]bool{}
	for i, l := range sc.Links {
		if l.Node != board {
			continue
		}
		covered[l.Direction] = true
		for _, k := range keys {
			sets = append(sets, fmt.Sprintf("links[%d].%s=%s", i, k, yamlQuote(imp[k])))
		}
	}
	add := func(dir string) {
		fields := []string{"node: " + yamlQuote(board)}
		if dir != "" {
			fields = append(fields, "direction: "+dir)
		}
		for _, k := range keys {
			fields = append(fields, fmt.Sprintf("%s: %s", k, yamlQuote(imp[k])))
		}
		sets = append(sets, "links[+]={"+strings.Join(fields, ", ")+"}")
	}
	switch {
	case covered[scenario.Both] || covered[""] || covered[scenario.Out] && covered[scenario.In]:
	case covered[scenario.Out]:
		add(string(scenario.In))
	case covered[scenario.In]:
		add(string(scenario.Out))
	default:
		add("")
	}
	return sets
}

func isScenarioFile(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".yaml", ".yml", ".toml", ".json":
		return true
	}
	return false
}

// adhocScenario is the default world with the script as esp1's main.py.
func adhocScenario(o scenario.Overrides, path string, code []byte) (*scenario.Scenario, error) {
	o.Set = append([]string{"name=" + yamlQuote(filepath.Base(path))}, o.Set...)
	sc, err := o.Parse("default world", sim.DefaultWorld(), "yaml")
	if err != nil {
		return nil, err
	}
	for i := range sc.Boards {
		sc.Boards[i].Code = string(code)
		sc.Boards[i].Script = ""
	}
	return sc, nil
}

// runWorld builds and runs sc, prints what the user asked for, and returns
// the exit status error.
func runWorld(cmd *cobra.Command, g *globalFlags, f *worldFlags, sc *scenario.Scenario) error {
	fw, err := g.loadFirmware()
	if err != nil {
		return err
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	textReport := f.format == "text"
	opts := sim.Options{Firmware: fw, Watchdog: f.watchdog}
	if textReport && !f.quiet {
		opts.Console = stdout
		opts.RawConsole = len(sc.Instances()) == 1
	}
	bw, err := buildWorld(cmd, f, sc, opts)
	if err != nil {
		return err
	}
	defer bw.close()
	w := bw.w

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	ro := sim.RunOptions{}
	if !f.quiet && isTerminal(stderr) {
		p := &progressLine{w: stderr}
		ro.Progress = p.show
		defer p.clear()
	}
	res, err := w.Run(ctx, ro)
	if err != nil {
		return err
	}
	return bw.report(res)
}

// builtWorld is a world built from a scenario and the world flags, with
// what those flags ask for around it: the capture file, the HTML report,
// the live view and the displays' PNGs. run and serve share it, so every
// world flag means the same in both.
type builtWorld struct {
	w      *sim.World
	f      *worldFlags
	sc     *scenario.Scenario
	html   *htmlReport
	ui     *liveUI
	stdout io.Writer
	stderr io.Writer
	// closers run in reverse order on close.
	closers []func()
}

// buildWorld completes opts from the world flags (beacons, trace, capture,
// report, live view), builds the world and starts what watches it.
func buildWorld(cmd *cobra.Command, f *worldFlags, sc *scenario.Scenario, opts sim.Options) (*builtWorld, error) {
	bw := &builtWorld{f: f, sc: sc, stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr()}
	built := false
	defer func() {
		if !built {
			bw.close()
		}
	}()
	var err error
	opts.BeaconEvery = f.beacons
	if cmd.Flags().Changed("beacons") && f.beacons <= 0 {
		opts.BeaconEvery = -1
	}
	if f.trace {
		opts.Trace = bw.stdout
	}
	if f.pcap != "" {
		pcap, err := os.Create(f.pcap)
		if err != nil {
			return nil, usagef("cannot write the capture: %v", unwrap(err))
		}
		bw.closers = append(bw.closers, func() { pcap.Close() })
		opts.Pcap = pcap
	}
	if bw.html, err = newHTMLReport(f.report, &opts); err != nil {
		return nil, err
	}
	bw.closers = append(bw.closers, bw.html.close)
	if bw.ui, err = newLiveUI(f.ui, &opts); err != nil {
		return nil, err
	}
	// Before New: gVisor sizes each stack's TCP processors by GOMAXPROCS
	// (sim.SuggestedProcsFor).
	if n := f.procs(scenarioProcs{sc}); n > 0 {
		prev := runtime.GOMAXPROCS(n)
		bw.closers = append(bw.closers, func() { runtime.GOMAXPROCS(prev) })
	}
	w, err := sim.New(sc, opts)
	if err != nil {
		if strings.Contains(err.Error(), "in use") {
			return nil, &usageError{err.Error()}
		}
		return nil, err
	}
	bw.w = w
	bw.closers = append(bw.closers, func() { w.Close() })
	for _, line := range w.Announcements() {
		fmt.Fprintln(bw.stderr, line)
	}
	bw.html.attach(w)
	if err := bw.ui.start(w, sc, bw.stderr); err != nil {
		return nil, err
	}
	bw.closers = append(bw.closers, bw.ui.close)
	built = true
	return bw, nil
}

// close stops and releases what buildWorld made, last first.
func (bw *builtWorld) close() {
	for i := len(bw.closers) - 1; i >= 0; i-- {
		bw.closers[i]()
	}
	bw.closers = nil
}

// report writes what the flags ask for after the run (the HTML report,
// the displays, the report in the chosen format) and turns the verdict
// into the exit status.
func (bw *builtWorld) report(res *sim.Result) error {
	f, stdout, stderr := bw.f, bw.stdout, bw.stderr
	if err := bw.html.write(bw.sc, res); err != nil {
		return err
	}
	if err := writeDisplays(f.displayDir, res); err != nil {
		return err
	}
	rep := res.Report()
	var err error
	switch f.format {
	case "json":
		err = report.WriteJSON(stdout, rep)
	case "junit":
		err = report.WriteJUnit(stdout, rep)
	default:
		// The console was shown live; the summary (on stderr, so stdout is
		// exactly what the board printed) shows only the verdicts.
		err = report.WriteText(stderr, rep, report.TextOptions{Quiet: f.quiet, ConsoleLines: -1})
	}
	if err != nil {
		return err
	}
	if f.pcap != "" && !f.quiet {
		fmt.Fprintf(stderr, "capture written to %s (%d frames): open it with Wireshark or `tshark -r %s`\n", f.pcap, res.Frames, f.pcap)
	}
	if res.Cancelled {
		return &exitError{code: exitCancelled}
	}
	if !rep.Passed() {
		return &exitError{code: exitScriptErr}
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressLine shows simulated time, boards and frames on one terminal line.
type progressLine struct {
	w     io.Writer
	shown bool
}

func (p *progressLine) show(pr sim.Progress) {
	fmt.Fprintf(p.w, "\r\x1b[K[sim %s | wall %s | boards %d running %d | frames %d]",
		pr.SimTime.Truncate(time.Millisecond), pr.WallTime.Truncate(time.Millisecond), pr.Boards, pr.Running, pr.Frames)
	p.shown = true
}

func (p *progressLine) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// envViper exposes ESP8266SIM_* variables for flags that have no scenario
// field (the format and quiet mode), so CI can set them once.
func envViper(cmd *cobra.Command) *viper.Viper {
	v := viper.New()
	v.SetEnvPrefix("ESP8266SIM")
	v.AutomaticEnv()
	v.BindPFlags(cmd.Flags())
	return v
}

// scenarioProcs is the CPU suggestion of the world a scenario builds, known
// before the world is.
type scenarioProcs struct{ sc *scenario.Scenario }

func (s scenarioProcs) SuggestedProcs() int { return sim.SuggestedProcsFor(s.sc) }
