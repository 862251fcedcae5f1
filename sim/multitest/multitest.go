// Package multitest runs MicroPython's multi-instance tests on simulated
// boards, compatible with tests/run-multitests.py of the MicroPython
// repository.
//
// A test file defines instance0(), instance1(), … Each instance runs on its
// own board (named instance0, instance1, …) in one world: the boards share
// the default access point and get their addresses by DHCP. Each board's
// flash holds the test file, a `multitest` helper module and a small
// main.py that joins the WiFi, waits for its turn and calls its instance
// function with the helper injected, as run-multitests.py does.
//
// The protocol is the real runner's: the helper prints control lines (NEXT,
// SET name = value, SKIP, BROADCAST msg, OUTPUT_METRIC data,
// WAIT_FOR_REBOOT resume delay) that the runner reads from each board's
// console; instances start in order, each one once the one before printed
// NEXT (or ended), and SET lines printed before NEXT become globals of the
// instances started after. A BROADCAST printed after NEXT is delivered to
// every other instance, where multitest.wait(msg) reads it (through the
// _multitest host module, where a real board reads its serial input).
// Everything else an instance prints is its output; the outputs are joined
// as
//
//	--- instance0 ---
//	…
//	--- instance1 ---
//	…
//
// and compared with FILE.py.exp. RunFile runs one file, Run several;
// WriteText and WriteJUnit report the results.
//
// Where it differs from run-multitests.py: a test without a .exp file is
// skipped (there is no CPython "truth" run); TIMEOUT means the test's whole
// simulated-time budget (Options.Timeout) ran out, not ten seconds of
// silence from one instance; tracebacks name main.py and the test module
// instead of <stdin>; the boards join the WiFi before the test starts, as
// boards that remember their network do; small data files next to the test
// (.der, .pem, …) are copied to every board's flash, where the runner's
// working directory would hold them.
package multitest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/sim"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// DefaultTimeout is the simulated time one test may take when
// Options.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// MaxInstances bounds the number of boards one test may ask for.
const MaxInstances = 16

// joinTimeout is how long a board's driver waits for the WiFi.
const joinTimeout = 30 * time.Second

// Options tune a run.
type Options struct {
	// Firmware is the MicroPython image the boards run. Required.
	Firmware *board.Firmware
	// Instances overrides the number of boards; zero means one per
	// instanceN function in the file (the highest N plus one).
	Instances int
	// Loss is the chance, in percent (0 to 100), that a frame a board sends
	// is lost.
	Loss float64
	// Latency is the one-way delay of every frame a board sends.
	Latency time.Duration
	// Seed seeds the world (loss, the boards' random numbers); zero means
	// the scenario default.
	Seed uint64
	// Timeout is the simulated time one test may take; instances still
	// running then print TIMEOUT. Zero means DefaultTimeout.
	Timeout time.Duration
	// WallTimeout bounds one test in wall-clock time (a safety net for a
	// simulator fault); zero means 5 minutes.
	WallTimeout time.Duration
	// Console, when set, receives every board's console line by line as
	// it is printed (the -c/--trace-output view of run-multitests.py),
	// control lines included. It is called from the boards' goroutines,
	// possibly at the same time for two boards.
	Console func(instance int, line string)
	// Trace, when set, receives the simulator's readable network trace
	// line by line.
	Trace func(line string)
}

// Status is a test's verdict.
type Status string

const (
	// Pass: the output equals FILE.py.exp.
	Pass Status = "pass"
	// Fail: the output differs from FILE.py.exp, or the test could not run.
	Fail Status = "fail"
	// Skip: an instance printed SKIP before NEXT, or there is no .exp file
	// to compare with.
	Skip Status = "skip"
)

// Result is the outcome of one test file.
type Result struct {
	// File is the test file as given.
	File string
	// Instances is the number of boards it ran on.
	Instances int
	// Status is pass, fail or skip.
	Status Status
	// Output is the combined output in run-multitests.py's format.
	Output string
	// Expected is the content of FILE.py.exp ("" when there is none).
	Expected string
	// ExpFile is the .exp file compared with ("" when there is none).
	ExpFile string
	// Diff is a unified diff from Expected to Output when they differ.
	Diff string
	// Error is set when an instance raised, timed out or could not start:
	// the runner stopped the test early, as run-multitests.py does.
	Error bool
	// Reason explains a fail or a skip in one sentence.
	Reason string
	// Metrics are the OUTPUT_METRIC lines' data.
	Metrics []string
	// EndReason is why the world stopped, in one sentence.
	EndReason string
	// SimTime is the simulated time the test took; WallTime the real time.
	SimTime  time.Duration
	WallTime time.Duration
}

var instanceFunc = regexp.MustCompile(`(?m)^def instance([0-9]+)\(\):`)

// CountInstances returns the number of instances a test file defines: the
// highest N of its `def instanceN():` lines plus one (0 when there is none).
func CountInstances(src []byte) int {
	n := 0
	for _, m := range instanceFunc.FindAllSubmatch(src, -1) {
		i, err := strconv.Atoi(string(m[1]))
		if err != nil || i >= 1<<20 {
			continue
		}
		n = max(n, i+1)
	}
	return n
}

// Run runs test files one after the other, sorted by name like
// run-multitests.py. It stops early only when ctx ends.
func Run(ctx context.Context, files []string, opts Options) ([]*Result, error) {
	files = append([]string(nil), files...)
	sort.Strings(files)
	var out []*Result
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r, err := RunFile(ctx, f, opts)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// RunFile runs one test file and compares its output with FILE.py.exp.
// Problems of the file itself (unreadable, no instance functions) are
// reported as a failed Result; the error is for simulator faults and a
// missing firmware.
func RunFile(ctx context.Context, file string, opts Options) (*Result, error) {
	if opts.Firmware == nil {
		return nil, errors.New("multitest: no firmware")
	}
	res := &Result{File: file}
	src, err := os.ReadFile(file)
	if err != nil {
		res.Status, res.Error = Fail, true
		res.Reason = fmt.Sprintf("cannot read the test: %v", err)
		return res, nil
	}
	n := opts.Instances
	if n == 0 {
		n = CountInstances(src)
	}
	res.Instances = n
	switch {
	case n <= 0:
		res.Status, res.Error = Fail, true
		res.Reason = fmt.Sprintf("%s defines no instance functions (def instance0(): …)", file)
		return res, nil
	case n > MaxInstances:
		res.Status, res.Error = Fail, true
		res.Reason = fmt.Sprintf("%s asks for %d instances; at most %d are supported", file, n, MaxInstances)
		return res, nil
	}
	if exp, err := os.ReadFile(file + ".exp"); err == nil {
		res.ExpFile = file + ".exp"
		// Read in text mode, as run-multitests.py does: universal newlines.
		res.Expected = strings.ReplaceAll(strings.ReplaceAll(string(exp), "\r\n", "\n"), "\r", "\n")
	}

	if err := runOnBoards(ctx, file, src, n, opts, res); err != nil {
		return nil, err
	}
	judge(res)
	return res, nil
}

// judge sets Status, Reason and Diff from the output.
func judge(res *Result) {
	switch {
	case res.Status == Skip:
	case res.ExpFile == "":
		res.Status = Skip
		if res.Reason == "" {
			res.Reason = fmt.Sprintf("no %s to compare the output with", filepath.Base(res.File)+".exp")
		}
	case res.Output == res.Expected:
		res.Status = Pass
	default:
		res.Status = Fail
		res.Diff = UnifiedDiff(res.Expected, res.Output, filepath.Base(res.ExpFile), filepath.Base(res.File)+".out")
		if res.Reason == "" {
			res.Reason = "the output differs from " + filepath.Base(res.ExpFile)
		}
	}
}

// Summary is the closing line: "N passed, N failed" plus ", N skipped"
// when any were.
func Summary(results []*Result) string {
	var p, f, s int
	for _, r := range results {
		switch r.Status {
		case Pass:
			p++
		case Fail:
			f++
		case Skip:
			s++
		}
	}
	line := fmt.Sprintf("%d passed, %d failed", p, f)
	if s > 0 {
		line += fmt.Sprintf(", %d skipped", s)
	}
	return line
}

// ignoreOutput are console texts run-multitests.py drops (ports' own
// debug chatter).
var ignoreOutput = []string{
	"libusb: error ",
	"hci_transport_h2_libusb.c",
	"USB Path: ",
	"hci_number_completed_packet",
	"lld_pdu_get_tx_flush_nb HCI packet count mismatch (",
	" ets_task(",
}

// runIDs numbers runs so the boards' host calls find theirs.
var runIDs atomic.Int64

// runs maps a run id to its state, for the _multitest host module.
var runs sync.Map // int64 → *runState

// runState is one test run's protocol state, shared by the console reader
// (board goroutines printing) and the host calls (board goroutines
// waiting).
type runState struct {
	n int
	// consoleHook is Options.Console.
	consoleHook func(int, string)

	mu sync.Mutex
	// boards are the instances' boards, known from their first host call.
	boards []*board.Board
	// started: the instance's function was called; released: the next
	// instance may start (it printed NEXT or ended); next: it printed
	// NEXT; done: its function returned.
	started, released, next, done []bool
	// globals are the SET lines gathered so far, as Python source.
	globals strings.Builder
	// output holds each instance's lines.
	output [][]string
	// inbox holds the BROADCAST lines waiting for each instance's wait().
	inbox [][]string
	// resume is the function a rebooting instance resumes with.
	resume []string
	// joinFailed records the boards that did not get onto the WiFi.
	joinFailed []bool
	// release ends the hold on the world's clock (see runOnBoards) once
	// every board has made its first host call; registered counts them.
	release    func()
	registered int
	// stopped: the test ended early (an error, a SKIP); output is no
	// longer read.
	stopped bool
	skip    bool
	errored bool
	reasons []string
	metrics []string
}

func newRunState(n int) *runState {
	return &runState{
		n:          n,
		boards:     make([]*board.Board, n),
		started:    make([]bool, n),
		released:   make([]bool, n),
		next:       make([]bool, n),
		done:       make([]bool, n),
		output:     make([][]string, n),
		inbox:      make([][]string, n),
		resume:     make([]string, n),
		joinFailed: make([]bool, n),
	}
}

// failLocked records an error that ends the test, like run-multitests.py's
// error flag, and stops the world; guarded by mu.
func (rs *runState) failLocked(format string, args ...any) {
	if rs.stopped {
		return
	}
	rs.errored = true
	rs.reasons = append(rs.reasons, fmt.Sprintf(format, args...))
	rs.stopLocked()
}

// stopLocked ends the test early (an error, a SKIP): like
// run-multitests.py, which sends Ctrl-C to every instance, it interrupts
// every board (a wait in progress ends with KeyboardInterrupt, which the
// driver catches) and stops reading their output. The boards then end on
// their own; guarded by mu.
func (rs *runState) stopLocked() {
	rs.stopped = true
	for _, b := range rs.boards {
		if b != nil {
			b.Interrupt()
			b.Wake()
		}
	}
}

// registerLocked remembers instance i's board so the runner can wake it,
// and wakes it when the world closes it so a wait in a host call ends
// (board.Park then reports the stop); guarded by mu.
func (rs *runState) registerLocked(i int, b *board.Board) {
	if rs.boards[i] == b {
		return
	}
	if rs.boards[i] == nil {
		rs.registered++
		if rs.registered == rs.n && rs.release != nil {
			rs.release()
		}
	}
	rs.boards[i] = b
	b.OnClose(b.Wake)
}

// allDoneLocked reports whether every instance's function returned;
// guarded by mu.
func (rs *runState) allDoneLocked() bool {
	for _, d := range rs.done {
		if !d {
			return false
		}
	}
	return true
}

// wake makes instance i's board re-check what it waits for; guarded by mu.
func (rs *runState) wakeLocked(i int) {
	if i >= 0 && i < rs.n && rs.boards[i] != nil {
		rs.boards[i].Wake()
	}
}

// releaseLocked lets the instance after i start.
func (rs *runState) releaseLocked(i int) {
	if !rs.released[i] {
		rs.released[i] = true
		rs.wakeLocked(i + 1)
	}
}

// line handles one line an instance printed.
func (rs *runState) line(i int, text string) {
	text = strings.TrimRight(asciiEscape(text), pyWhitespace)
	if rs.consoleHook != nil {
		rs.consoleHook(i, text)
	}
	for _, m := range ignoreOutput {
		if strings.Contains(text, m) {
			return
		}
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.stopped {
		return
	}
	if !rs.next[i] {
		// Starting: run-multitests.py's first loop.
		switch {
		case strings.HasPrefix(text, "SET "):
			rs.globals.WriteString(text[4:] + "\n")
		case text == "SKIP":
			rs.skip = true
			rs.reasons = append(rs.reasons, fmt.Sprintf("instance%d printed SKIP", i))
			rs.stopLocked()
		case text == "NEXT":
			rs.next[i] = true
			rs.releaseLocked(i)
		default:
			rs.output[i] = append(rs.output[i], text)
		}
		return
	}
	// Running: the second loop.
	if strings.HasPrefix(text, "WAIT_FOR_REBOOT") {
		f := strings.Fields(text)
		prefix := fmt.Sprintf("instance%d", i)
		switch {
		case len(f) != 3:
			rs.failLocked("instance%d printed a malformed %q", i, text)
		case !strings.HasPrefix(f[1], prefix):
			rs.failLocked("resume function must start with %q", prefix)
		default:
			rs.resume[i] = f[1]
		}
	}
	switch {
	case strings.HasPrefix(text, "BROADCAST "):
		for j := range rs.n {
			if j != i {
				rs.inbox[j] = append(rs.inbox[j], text)
				rs.wakeLocked(j)
			}
		}
	case strings.HasPrefix(text, "OUTPUT_METRIC "):
		rs.metrics = append(rs.metrics, text[len("OUTPUT_METRIC "):])
	default:
		rs.output[i] = append(rs.output[i], text)
	}
}

// pyWhitespace is what Python's str.rstrip() removes from an ASCII line.
const pyWhitespace = " \t\n\r\v\f\x1c\x1d\x1e\x1f"

// asciiEscape decodes console bytes as run-multitests.py does
// (str(out, "ascii", "backslashreplace")): every byte above 0x7f becomes
// \xNN.
func asciiEscape(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 3*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 {
			fmt.Fprintf(&b, "\\x%02x", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// combined is the output in run-multitests.py's format.
func (rs *runState) combined() string {
	var b strings.Builder
	for i, lines := range rs.output {
		fmt.Fprintf(&b, "--- instance%d ---\n", i)
		b.WriteString(strings.Join(lines, "\n"))
		b.WriteString("\n")
	}
	return b.String()
}

// consoleSink splits the world's live console view ("<time> <board> |
// <text>") into the instances' lines.
type consoleSink struct {
	rs *runState
}

func (c consoleSink) Write(p []byte) (int, error) {
	for _, l := range strings.SplitAfter(string(p), "\n") {
		if l == "" {
			continue
		}
		l = strings.TrimSuffix(l, "\n")
		head, text, ok := strings.Cut(l, " | ")
		if !ok {
			continue
		}
		_, name, ok := strings.Cut(head, " ")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(name, "instance"))
		if err != nil || !strings.HasPrefix(name, "instance") || i < 0 || i >= c.rs.n {
			continue
		}
		c.rs.line(i, text)
	}
	return len(p), nil
}

// traceSink passes trace lines to Options.Trace.
type traceSink func(string)

func (t traceSink) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimSuffix(string(p), "\n"), "\n") {
		t(l)
	}
	return len(p), nil
}

// runOnBoards builds the world, runs it and fills res.Output, Error,
// Reason, Metrics and the times.
func runOnBoards(ctx context.Context, file string, src []byte, n int, opts Options, res *Result) error {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	wall := opts.WallTimeout
	if wall <= 0 {
		wall = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, wall)
	defer cancel()

	id := runIDs.Add(1)
	rs := newRunState(n)
	rs.consoleHook = opts.Console
	runs.Store(id, rs)
	defer runs.Delete(id)

	sc, err := buildScenario(file, src, n, id, timeout, opts)
	if err != nil {
		return err
	}
	so := sim.Options{Firmware: opts.Firmware, Console: consoleSink{rs}}
	if opts.Trace != nil {
		so.Trace = traceSink(opts.Trace)
	}
	w, err := sim.New(sc, so)
	if err != nil {
		return fmt.Errorf("multitest: building the world for %s: %w", file, err)
	}
	defer w.Close()
	// No hold on simulated time: the world creates its first board before
	// its clock runs and each later one on the clock's goroutine at its
	// power-on instant (holding time until every board ran its driver
	// would keep the later boards from ever powering on).
	out, err := w.Run(ctx, sim.RunOptions{})
	if err != nil {
		return fmt.Errorf("multitest: running %s: %w", file, err)
	}
	res.SimTime, res.WallTime, res.EndReason = out.SimTime, out.WallTime, out.EndReason

	rs.mu.Lock()
	defer rs.mu.Unlock()
	stopped := rs.skip || rs.errored
	var notes []string
	for i, br := range out.Boards {
		if i >= n {
			break
		}
		if rs.joinFailed[i] {
			notes = append(notes, fmt.Sprintf("instance%d did not get onto the WiFi within %v (%s)", i, joinTimeout, br.WiFi))
		}
		switch br.Outcome {
		case "exception":
			if stopped {
				// Interrupted by the runner outside the driver's try.
				break
			}
			rs.errored = true
			notes = append(notes, fmt.Sprintf("instance%d: the driver raised %s", i, br.ExceptionType))
		case "watchdog", "reset loop":
			rs.errored = true
			notes = append(notes, fmt.Sprintf("instance%d: %s", i, br.Message))
		case "error":
			// A board stopped by the runner (SKIP, an error elsewhere)
			// ends with its context cancelled: not a fault of its own.
			if !stopped {
				rs.errored = true
				notes = append(notes, fmt.Sprintf("instance%d: %s", i, br.Message))
			}
		}
		if !stopped && !rs.started[i] {
			notes = append(notes, fmt.Sprintf("instance%d never started its function (board %s, WiFi %s)", i, br.Outcome, br.WiFi))
		}
		if !stopped && rs.started[i] && !rs.done[i] && (br.Outcome == "running" || br.Outcome == "error") {
			rs.output[i] = append(rs.output[i], "TIMEOUT")
			rs.errored = true
			notes = append(notes, fmt.Sprintf("instance%d was still running after %v of simulated time", i, timeout))
		}
	}
	if !stopped && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		rs.errored = true
		notes = append(notes, fmt.Sprintf("the test took more than %v of wall-clock time", wall))
	}
	rs.reasons = append(notes, rs.reasons...)
	res.Output = rs.combined()
	res.Error = rs.errored
	res.Metrics = append([]string(nil), rs.metrics...)
	if rs.skip {
		res.Status = Skip
	}
	res.Reason = strings.Join(rs.reasons, "; ")
	return nil
}

// buildScenario makes the world: one board per instance on the default
// access point, impairments on every board's sending link.
func buildScenario(file string, src []byte, n int, id int64, timeout time.Duration, opts Options) (*scenario.Scenario, error) {
	if opts.Loss < 0 || opts.Loss > 100 {
		return nil, fmt.Errorf("multitest: loss %v%% is outside 0 to 100", opts.Loss)
	}
	if opts.Latency < 0 {
		return nil, fmt.Errorf("multitest: latency %v is negative", opts.Latency)
	}
	module := moduleName(file)
	files, err := dataFiles(filepath.Dir(file), filepath.Base(file))
	if err != nil {
		return nil, err
	}
	sc := &scenario.Scenario{
		Name:     "multitest " + filepath.Base(file),
		Seed:     opts.Seed,
		Duration: scenario.Duration(timeout),
	}
	for i := range n {
		name := fmt.Sprintf("instance%d", i)
		b := scenario.Board{
			Name: name,
			Code: driverSource(id, i, module),
			Files: []scenario.FlashFile{
				{Path: "/multitest.py", Content: helperSource},
				{Path: "/" + module + ".py", Content: string(src)},
			},
		}
		for _, f := range files {
			b.Files = append(b.Files, scenario.FlashFile{Path: "/" + f.name, Content: string(f.data)})
		}
		sc.Boards = append(sc.Boards, b)
		if opts.Loss > 0 || opts.Latency > 0 {
			sc.Links = append(sc.Links, scenario.Link{
				Node:      name,
				Direction: scenario.Out,
				Impairment: scenario.Impairment{
					Latency: scenario.Duration(opts.Latency),
					Loss:    scenario.Percent(opts.Loss),
				},
			})
		}
	}
	sc.ApplyDefaults()
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("multitest: the world for %s is not valid: %w", file, err)
	}
	return sc, nil
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// moduleName is the name the test is imported by on the boards: its own
// when that is a Python identifier that does not hide a board module.
func moduleName(file string) string {
	base := strings.TrimSuffix(filepath.Base(file), ".py")
	switch base {
	case "main", "boot", "multitest", "network", "socket", "select", "ssl", "tls", "time", "sys", "os", "asyncio", "machine", "esp", "gc":
		return "mt_test"
	}
	if !identifier.MatchString(base) {
		return "mt_test"
	}
	return base
}

type dataFile struct {
	name string
	data []byte
}

// Data files next to a test (certificates and keys the MicroPython tests
// open by name) are copied to the boards' flash when they are small.
const (
	maxDataFile  = 16 << 10
	maxDataTotal = 64 << 10
)

// dataFiles lists the small files next to the test that are not tests.
func dataFiles(dir, self string) ([]dataFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("multitest: listing %s: %w", dir, err)
	}
	var out []dataFile
	total := 0
	for _, e := range ents {
		name := e.Name()
		ext := filepath.Ext(name)
		if !e.Type().IsRegular() || ext == ".py" || ext == ".exp" || ext == ".out" || strings.HasPrefix(name, ".") {
			continue
		}
		switch ext {
		case ".der", ".pem", ".crt", ".key", ".bin", ".txt", ".json", ".dat":
		default:
			continue
		}
		info, err := e.Info()
		if err != nil || info.Size() > maxDataFile || total+int(info.Size()) > maxDataTotal {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		total += len(data)
		out = append(out, dataFile{name: name, data: data})
	}
	return out, nil
}

func driverSource(id int64, idx int, module string) string {
	return strings.NewReplacer(
		"{run}", strconv.FormatInt(id, 10),
		"{idx}", strconv.Itoa(idx),
		"{module}", module,
	).Replace(driverTemplate)
}
