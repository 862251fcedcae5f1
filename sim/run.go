package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/board/sockets"
	"github.com/esp8266sim/esp8266sim/internal/simrand"
	"github.com/esp8266sim/esp8266sim/netstack"
	"github.com/esp8266sim/esp8266sim/sim/report"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
	"github.com/esp8266sim/esp8266sim/wifi"
)

// anyComputing reports whether a board is paying CPU time.
func (w *World) anyComputing() bool {
	for _, bn := range w.boards {
		bn.mu.Lock()
		b := bn.board
		bn.mu.Unlock()
		if b != nil && b.Computing() {
			return true
		}
	}
	return false
}

// boardStopTimeout bounds the wall time boards may take to stop once the
// run has ended.
const boardStopTimeout = 10 * time.Second

// boardStopGrace is how long the end of a run waits for the boards to stop
// by themselves before it closes them (reading their socket tables first).
const boardStopGrace = 2 * time.Second

// Result is what a run produced.
type Result struct {
	// Scenario is the scenario's name; File its file and Seed its seed.
	Scenario string
	File     string
	Seed     uint64
	// SimTime is the simulated time the run ended at.
	SimTime time.Duration
	// WallTime is how long the run took on the wall clock.
	WallTime time.Duration
	// Frames is the number of frames captured (0 without a capture).
	Frames uint64
	// Boards are the boards' outcomes, in scenario order.
	Boards []BoardResult
	// Expectations are the checks, in scenario order.
	Expectations []ExpectResult
	// EndReason says why the run stopped, in one sentence.
	EndReason string
	// Cancelled is set when the caller cancelled the run (Ctrl-C) before
	// it ended by itself: nothing was decided.
	Cancelled bool
	// Internet is set when the run used the host's real network, with its
	// NAT flows.
	Internet *report.Internet
}

// Passed reports whether the run passed: it was not cancelled, every
// expectation held and every board's program ended as expected (see
// BoardResult.EndedAsExpected).
func (r *Result) Passed() bool {
	if r.Cancelled {
		return false
	}
	for _, e := range r.Expectations {
		if !e.Passed {
			return false
		}
	}
	for _, b := range r.Boards {
		if !b.EndedAsExpected() {
			return false
		}
	}
	return true
}

// BoardResult is one board's outcome.
type BoardResult struct {
	Name string
	// Outcome is how its program ended ("running" when the run stopped it;
	// "error" when the firmware itself failed).
	Outcome string
	// EndedAt is the simulated time the program ended; 0 while running.
	EndedAt time.Duration
	// ExitExpected is set when an exit expectation covers this board: its
	// verdict, not the outcome, says whether the ending was right.
	ExitExpected bool
	// ExceptionType and Traceback describe an uncaught exception.
	ExceptionType string
	Traceback     string
	// Message explains a watchdog stop or a reset loop.
	Message string
	// Console is everything the board printed.
	Console string
	// ConsoleTail is the last lines of it.
	ConsoleTail []string
	// WiFi is the station's status at the end ("STAT_GOT_IP 192.168.1.100").
	WiFi string
	// WiFiReport is the same, structured for reports.
	WiFiReport report.WiFi
	// Sockets is the board's socket table at the end, one line a socket.
	Sockets []string
	// SocketRows is the same, structured for reports.
	SocketRows []report.Socket
	// Devices are its wired parts and their state at the end (devices.go).
	Devices []report.Device
	// Displays are its ssd1306 panels at the end as PNG, by device name.
	Displays map[string][]byte
}

// EndedAsExpected reports whether the board's program ended in a way the
// scenario allows: as an exit expectation says, or else cleanly or still
// running when the run stopped. An uncaught exception, the watchdog, a
// reset loop or a firmware failure nobody expected fails the run.
func (b BoardResult) EndedAsExpected() bool {
	if b.ExitExpected {
		return true
	}
	// A board whose power-on came after the end of the run never ran.
	return b.Outcome == "clean" || b.Outcome == "running" || b.Outcome == "not started"
}

// ExpectResult is one expectation's verdict.
type ExpectResult struct {
	Description string
	Passed      bool
	// Reason says why it failed, or what satisfied it.
	Reason string
}

// Progress is a snapshot for a progress display.
type Progress struct {
	SimTime  time.Duration
	WallTime time.Duration
	Boards   int
	Running  int
	Frames   uint64
}

// RunOptions tune one run.
type RunOptions struct {
	// Progress, when set, is called about every ProgressEvery of wall time.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// UntilCancelled ignores the scenario's duration: the run lasts until
	// ctx ends (or every board's program ended), as a bench does.
	UntilCancelled bool
}

// Run runs the world once. It returns an error only when the run could not
// be carried out; failed expectations are in the result.
func (w *World) Run(ctx context.Context, ro RunOptions) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wallStart := time.Now()

	var wg sync.WaitGroup
	defer wg.Wait()
	clockDone := make(chan error, 1)

	checks := newChecker(w)
	// The boards get their own context so that the end of the run can stop
	// them while the clock still runs (a board may be waiting in simulated
	// time for its stop to be noticed).
	boardCtx, stopBoards := context.WithCancel(ctx)
	defer stopBoards()

	// The run ends on the clock's goroutine at one instant of simulated
	// time: finish stops the boards, the capture and the frame count
	// there, so nothing that happens while the run winds down (a
	// retransmission, a board's last line) depends on how fast the host
	// noticed. end asks for that instant: the next step of simulated time,
	// which fast mode takes only once every board waits, so a board's
	// program runs up to its next wait whatever the goroutine schedule.
	endReason := make(chan string, 1)
	var (
		finishOnce sync.Once
		simEnd     time.Duration
		frames     uint64
	)
	finish := func(reason string) {
		finishOnce.Do(func() {
			simEnd = w.clock.Elapsed()
			w.ended.Store(true)
			stopBoards()
			if w.capture != nil {
				w.capture.Close()
			}
			frames = w.frames()
			endReason <- reason
		})
	}
	// A board paying CPU time (board/cputime.go) is computing, not
	// waiting: the end waits for it to reach its next real wait, as it
	// does for a board whose code runs between two instants.
	var tryEnd func(reason string)
	tryEnd = func(reason string) {
		if w.anyComputing() {
			w.clock.AfterFunc(time.Millisecond, func() { tryEnd(reason) })
			return
		}
		finish(reason)
	}
	end := func(reason string) {
		w.clock.AfterFunc(time.Nanosecond, func() { tryEnd(reason) })
	}
	checks.onDecided = func() {
		if checks.allDecided() {
			end(checks.decidedReason())
		}
	}

	if !ro.UntilCancelled {
		deadline := w.clock.AfterFunc(w.sc.Duration.D(), func() {
			finish(fmt.Sprintf("the scenario's duration (%s) of simulated time was reached", w.sc.Duration.D()))
		})
		defer deadline.Stop()
	}

	if err := w.scheduleFaults(); err != nil {
		return nil, err
	}
	inputs := w.scheduleConsoleInput()

	boardsDone := make(chan struct{})
	var boardsWG sync.WaitGroup
	boardsWG.Add(len(w.boards))
	// ended records how a board's run ended (or why it never started).
	ended := func(bn *boardNode, res *board.Result, err error) {
		endedAt := w.clock.Elapsed()
		bn.console.flush()
		bn.mu.Lock()
		bn.result, bn.err, bn.endedAt = res, err, endedAt
		bn.mu.Unlock()
		close(bn.done)
		checks.boardEnded(bn)
		boardsWG.Done()
	}
	// launch powers a board on and runs it; false when the run is over and
	// the board will never start.
	var startMu sync.Mutex
	startsClosed := false
	launch := func(bn *boardNode) (*board.Board, error) {
		startMu.Lock()
		defer startMu.Unlock()
		if startsClosed {
			return nil, nil
		}
		bn.launched = true
		b, err := w.startBoard(bn, inputs[bn.inst.Name])
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := w.runBoard(boardCtx, b, bn, ro.UntilCancelled)
			ended(bn, &res, err)
		}()
		return b, nil
	}
	// Boards power on in a seeded order, a fraction of a millisecond apart
	// (bootOffsets), each from a clock callback: its clock actor exists
	// before time can pass its power-on, and no two boards' steps ever
	// share an instant whose order the goroutine schedule would decide.
	// The first board starts at 0, before time starts to pass.
	offsets := w.bootOffsets()
	for i, bn := range w.boards {
		if offsets[i] == 0 {
			if _, err := launch(bn); err != nil {
				return nil, fmt.Errorf("starting board %s: %w", bn.inst.Name, err)
			}
			continue
		}
		w.clock.AfterFunc(offsets[i], func() {
			if _, err := launch(bn); err != nil {
				ended(bn, nil, fmt.Errorf("starting board %s: %w", bn.inst.Name, err))
			}
		})
	}
	// abandonStarts makes the boards still waiting for their power-on
	// count as never started.
	abandonStarts := func() {
		startMu.Lock()
		startsClosed = true
		var never []*boardNode
		for _, bn := range w.boards {
			if !bn.launched {
				bn.launched = true
				never = append(never, bn)
			}
		}
		startMu.Unlock()
		for _, bn := range never {
			ended(bn, nil, nil)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		clockDone <- w.clock.Run(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		boardsWG.Wait()
		close(boardsDone)
		end("every board's program ended")
	}()

	if ro.Progress != nil {
		every := ro.ProgressEvery
		if every <= 0 {
			every = 250 * time.Millisecond
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					ro.Progress(w.progress(wallStart))
				}
			}
		}()
	}

	var reason string
	cancelled := false
	select {
	case reason = <-endReason:
	case err := <-clockDone:
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("the simulator clock stopped: %w", err)
		}
		reason, cancelled = "the run was cancelled", true
	case <-ctx.Done():
		reason, cancelled = "the run was cancelled", true
	}
	if cancelled {
		finish(reason)
		<-endReason
		if ro.UntilCancelled {
			// A run that lasts until it is stopped ended as asked: its
			// verdict is the expectations' and the boards'.
			reason, cancelled = "the run was stopped (Ctrl-C or SIGTERM), as asked", false
		}
	}

	// Stop the boards, then the clock; what happened is now fixed. The
	// socket tables are read once the boards' Python has stopped and
	// before Close releases their sockets: the table at the end of the run.
	stopBoards()
	abandonStarts()
	stopDeadline := time.After(boardStopTimeout)
	select {
	case <-boardsDone:
	case <-time.After(boardStopGrace):
	}
	for _, bn := range w.boards {
		if bn.board != nil {
			snap := bn.board.Sockets()
			if snap == nil {
				snap = []sockets.SocketInfo{}
			}
			bn.mu.Lock()
			bn.sockets = snap
			bn.mu.Unlock()
		}
	}
	for _, bn := range w.boards {
		if bn.board != nil {
			bn.board.Close()
		}
	}
	select {
	case <-boardsDone:
	case <-stopDeadline:
		cancel()
		return nil, fmt.Errorf("a board did not stop within %s of the end of the run; this is a simulator bug", boardStopTimeout)
	}
	cancel()
	wg.Wait()
	if w.capture != nil {
		w.capture.Flush()
	}

	res := &Result{
		Scenario:  w.sc.Name,
		File:      w.sc.File,
		Seed:      w.sc.Seed,
		SimTime:   simEnd,
		WallTime:  time.Since(wallStart),
		EndReason: reason,
		Cancelled: cancelled,
	}
	res.Frames = frames
	res.Internet = w.internetReport()
	for _, bn := range w.boards {
		res.Boards = append(res.Boards, w.boardResult(bn))
	}
	res.Expectations = checks.final(simEnd)
	return res, nil
}

func (w *World) progress(wallStart time.Time) Progress {
	p := Progress{SimTime: w.clock.Elapsed(), WallTime: time.Since(wallStart), Boards: len(w.boards)}
	for _, bn := range w.boards {
		select {
		case <-bn.done:
		default:
			p.Running++
		}
	}
	p.Frames = w.frames()
	return p
}

// bootSpread is the interval within which each board after the first
// powers on after the one before it.
const bootSpread = time.Millisecond

// bootOffsets are the boards' power-on times: the first at 0, each next
// one 0.5 to 1.5 bootSpread after the one before, drawn from the seed. Real
// boards never power on within the same nanosecond; in the simulator the
// spread keeps every board's events at instants of their own, so the order
// of DHCP exchanges and joins follows the seed, not the goroutine schedule.
func (w *World) bootOffsets() []time.Duration {
	rng := simrand.New(w.sc.Seed, "sim/boot-order")
	out := make([]time.Duration, len(w.boards))
	for i := 1; i < len(out); i++ {
		out[i] = out[i-1] + bootSpread/2 + time.Duration(rng.Int64N(int64(bootSpread)))
	}
	return out
}

// startBoard creates the board's MicroPython instance.
func (w *World) startBoard(bn *boardNode, stdin *consoleInput) (*board.Board, error) {
	cfg := board.Config{
		Name:     bn.inst.Name,
		MAC:      [6]byte(bn.mac),
		Files:    bn.files,
		Seed:     w.sc.Seed,
		Console:  bn.console,
		Watchdog: w.opts.Watchdog,
		Env:      w.boardEnv(bn),
	}
	if w.sc.CPU == scenario.CPUNative {
		cfg.CPU = board.CPUNative
	}
	if h := bn.inst.Board.Heap; h > 0 {
		cfg.HeapBytes = int(h)
	}
	if stdin != nil {
		cfg.Stdin = stdin
	}
	cfg.MaxResets = w.opts.MaxResets
	if s, ok := w.opts.Serial[bn.inst.Name]; ok {
		bn.serialIn = newSerialIn(s.In, w.ctx.Done())
		cfg.Console, cfg.Stdin = serialConsole(bn.console, s.Out), bn.serialIn
	}
	b, err := board.New(cfg, w.opts.Firmware, w.clock)
	if err != nil {
		return nil, err
	}
	if rw := bn.inst.Board.WiFi; rw != nil {
		// Powered on with a network in flash: the SDK joins it at once.
		if err := bn.station.Connect(&wifi.JoinConfig{SSID: rw.SSID, Key: rw.Password}); err != nil {
			b.Close()
			return nil, fmt.Errorf("joining the remembered network %q: %w", rw.SSID, err)
		}
	}
	bn.mu.Lock()
	bn.board = b
	bn.mu.Unlock()
	var hwTrace func(time.Duration, string)
	if w.trace != nil {
		name := bn.inst.Name
		hwTrace = func(at time.Duration, s string) { w.trace.Add(at, name, s) }
	}
	wireDevices(b.Hardware(), bn.inst.Board.Devices, hwTrace)
	if stdin != nil {
		stdin.attach(b)
	}
	return b, nil
}

func (w *World) boardResult(bn *boardNode) BoardResult {
	br := BoardResult{Name: bn.inst.Name, Console: bn.console.Text(), ConsoleTail: bn.console.Tail(10)}
	bn.mu.Lock()
	r, err, endedAt := bn.result, bn.err, bn.endedAt
	bn.mu.Unlock()
	for _, e := range w.sc.Expect {
		if e.Exit == nil {
			continue
		}
		if names, _ := w.sc.InstancesOf(e.Board); slices.Contains(names, bn.inst.Name) || (e.Board == "" && len(w.boards) == 1) {
			br.ExitExpected = true
		}
	}
	switch {
	case err != nil:
		br.Outcome = "error"
		br.Message = err.Error()
	case r == nil:
		br.Outcome = "not started"
	default:
		br.Outcome = outcomeName(r.Outcome)
		br.ExceptionType = r.ExceptionType
		br.Traceback = r.Traceback
		br.Message = r.Message
		if r.Outcome != board.Stopped {
			br.EndedAt = endedAt
		}
	}
	if err != nil {
		br.EndedAt = endedAt
	}
	if bn.reboots > 0 {
		br.Message = strings.TrimSpace(fmt.Sprintf("%s (rebooted %d time(s) after its program ended; last: %s)", br.Message, bn.reboots, bn.lastEnd))
	}
	st := bn.station
	status := st.Status()
	br.WiFi = status.String()
	br.WiFiReport.Status = strings.ToLower(strings.TrimPrefix(status.String(), "STAT_"))
	if saved, ok := st.Saved(); ok {
		br.WiFiReport.SSID = saved.SSID
	}
	if ip := st.IPConfig().IP; ip.IsValid() && !ip.IsUnspecified() {
		br.WiFi += " " + ip.String()
		br.WiFiReport.IP = ip.String()
		br.WiFiReport.RSSI = st.RSSI()
	}
	br.Sockets = w.socketLines(bn)
	br.Devices, br.Displays = w.deviceRows(bn)
	if bn.board != nil {
		for _, s := range w.socketsOf(bn) {
			row := report.Socket{Proto: strings.ToLower(s.Proto), State: s.State, Local: s.Local.String()}
			if s.Remote.IsValid() {
				row.Remote = s.Remote.String()
			}
			br.SocketRows = append(br.SocketRows, row)
		}
	}
	return br
}

func outcomeName(o board.Outcome) string {
	switch o {
	case board.Finished:
		return "clean"
	case board.Exception:
		return "exception"
	case board.WatchdogExpired:
		return "watchdog"
	case board.ResetLoop:
		return "reset loop"
	case board.Stopped:
		return "running"
	}
	return o.String()
}

// frames counts the frames sent onto the world's media (the LANs and the
// internet segment), whether or not they are captured.
func (w *World) frames() uint64 {
	var n uint64
	media := []*netstack.Medium{w.internet}
	for _, a := range w.aps {
		media = append(media, a.lan)
	}
	for _, m := range media {
		for _, att := range m.Attachments() {
			egress, _ := att.Stats()
			n += egress.Frames
		}
	}
	return n
}
