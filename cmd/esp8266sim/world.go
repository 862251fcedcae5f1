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
	boards      int
	pcap        string
	trace       bool
	format      string
	quiet       bool
	expectText  []string
	failText    []string
	watchdog    time.Duration
	consoleTail int
	cpus        int
	cpu         string
}

func (f *worldFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.set, "set", nil, "override a scenario field, e.g. --set boards[0].heap=20000 (repeatable)")
	fl.StringVar(&f.wifi, "wifi", "", "the access point's network as SSID[:PASSWORD] (default SimNet:esp8266sim)")
	fl.Uint64Var(&f.seed, "seed", 0, "random seed for loss, jitter and the boards (default: the scenario's, else 1)")
	fl.BoolVar(&f.realtime, "realtime", false, "run the simulator clock at wall-clock speed instead of fast-forwarding")
	fl.DurationVar(&f.timeout, "timeout", 0, "end the run after this much simulated time (default: the scenario's duration, else 5m)")
	fl.DurationVar(&f.latency, "latency", 0, "one-way latency added to every board's WiFi link, e.g. 200ms")
	fl.DurationVar(&f.jitter, "jitter", 0, "random variation of the latency, e.g. 20ms")
	fl.StringVar(&f.loss, "loss", "", "chance a frame on a board's link is lost, e.g. 10%")
	fl.StringVar(&f.duplicate, "duplicate", "", "chance a frame on a board's link is delivered twice, e.g. 1%")
	fl.StringVar(&f.reorder, "reorder", "", "chance a frame on a board's link overtakes earlier ones, e.g. 5%")
	fl.StringVar(&f.corrupt, "corrupt", "", "chance one bit of a frame on a board's link is flipped, e.g. 0.1%")
	fl.StringVar(&f.bandwidth, "bandwidth", "", "rate limit of every board's link, e.g. 1mbit")
	fl.StringArrayVar(&f.forwards, "forward", nil, "forward a host port to a board: [tcp:|udp:][HOSTADDR:]HOSTPORT:BOARD:PORT (repeatable; binds 127.0.0.1 by default)")
	fl.IntSliceVar(&f.allowHost, "allow-host-port", nil, "let boards reach this port of the host's loopback as host.sim.internal (repeatable)")
	fl.IntVar(&f.boards, "boards", 0, "run N copies of the (first) board, with distinct names and MACs")
	fl.StringVar(&f.pcap, "pcap", "", "write every frame to this pcapng file (open it with Wireshark or tshark)")
	fl.BoolVar(&f.trace, "trace", false, "print the readable trace: 802.11 steps, DHCP, ARP, DNS, TCP, socket calls")
	fl.StringVar(&f.format, "format", "text", "report format: text, json or junit")
	fl.BoolVar(&f.quiet, "quiet", false, "print only the verdict and failures (no console, no progress)")
	fl.StringArrayVar(&f.expectText, "expect-text", nil, "pass once a board's console shows TEXT (repeatable)")
	fl.StringArrayVar(&f.failText, "fail-text", nil, "fail at once when a board's console shows TEXT (repeatable)")
	fl.DurationVar(&f.watchdog, "watchdog", 0, "wall-clock time Python code may run without waiting before it is stopped (default 20s)")
	fl.StringVar(&f.cpu, "cpu", "", "what the boards' code costs in simulated time: board (ESP8266 CPU time at 80/160 MHz, the default) or native (nothing)")
	fl.IntVar(&f.cpus, "cpus", 0, "CPUs the simulator may use (default: 1 for one board in fast mode, where more only slow it down; all for fleets; GOMAXPROCS if set)")
}

// procs is the GOMAXPROCS the run should use, 0 to leave it alone: --cpus,
// else the GOMAXPROCS environment variable wins over the world's suggestion.
func (f *worldFlags) procs(w *sim.World) int {
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
	if f.cpus < 0 {
		return o, usagef("--cpus must be positive, e.g. --cpus 2")
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
	if f.boards != 0 {
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
	for _, b := range sc.Boards {
		name := yamlQuote(b.Name)
		if hasImp {
			fields := []string{"node: " + name}
			for k, v := range imp {
				fields = append(fields, fmt.Sprintf("%s: %s", k, yamlQuote(v)))
			}
			sets = append(sets, "links[+]={"+strings.Join(fields, ", ")+"}")
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
	if f.trace {
		opts.Trace = stdout
	}
	var pcap *os.File
	if f.pcap != "" {
		pcap, err = os.Create(f.pcap)
		if err != nil {
			return usagef("cannot write the capture: %v", unwrap(err))
		}
		defer pcap.Close()
		opts.Pcap = pcap
	}
	w, err := sim.New(sc, opts)
	if err != nil {
		if strings.Contains(err.Error(), "in use") {
			return &usageError{err.Error()}
		}
		return err
	}
	defer w.Close()
	if n := f.procs(w); n > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	}
	for _, line := range w.Announcements() {
		fmt.Fprintln(stderr, line)
	}

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
	rep := res.Report()
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
