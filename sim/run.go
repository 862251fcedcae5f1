package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/netstack"
	"github.com/esp8266sim/esp8266sim/sim/report"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// boardStopTimeout bounds the wall time boards may take to stop once the
// run has ended.
const boardStopTimeout = 10 * time.Second

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
}

// Passed reports whether every expectation held.
func (r *Result) Passed() bool {
	for _, e := range r.Expectations {
		if !e.Passed {
			return false
		}
	}
	return true
}

// BoardResult is one board's outcome.
type BoardResult struct {
	Name string
	// Outcome is how its program ended ("running" when the run stopped it).
	Outcome string
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
	endReason := make(chan string, 1)
	end := func(reason string) {
		select {
		case endReason <- reason:
		default:
		}
	}
	checks.onDecided = func() {
		if checks.allDecided() {
			end(checks.decidedReason())
		}
	}

	deadline := w.clock.AfterFunc(w.sc.Duration.D(), func() {
		end(fmt.Sprintf("the scenario's duration (%s) of simulated time was reached", w.sc.Duration.D()))
	})
	defer deadline.Stop()

	if err := w.scheduleFaults(); err != nil {
		return nil, err
	}
	inputs := w.scheduleConsoleInput()

	// The boards get their own context so that the end of the run can stop
	// them while the clock still runs (a board may be waiting in simulated
	// time for its stop to be noticed).
	boardCtx, stopBoards := context.WithCancel(ctx)
	defer stopBoards()
	boardsDone := make(chan struct{})
	var boardsWG sync.WaitGroup
	// Every board (and its clock actor) exists before time starts to pass,
	// so fast mode cannot jump ahead of a board that has not started yet.
	boards := make([]*board.Board, len(w.boards))
	for i, bn := range w.boards {
		b, err := w.startBoard(bn, inputs[bn.inst.Name])
		if err != nil {
			return nil, fmt.Errorf("starting board %s: %w", bn.inst.Name, err)
		}
		boards[i] = b
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		clockDone <- w.clock.Run(ctx)
	}()
	for i, bn := range w.boards {
		b := boards[i]
		boardsWG.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer boardsWG.Done()
			res, err := b.Run(boardCtx)
			bn.console.flush()
			bn.mu.Lock()
			bn.result, bn.err = &res, err
			bn.mu.Unlock()
			close(bn.done)
			checks.boardEnded(bn)
		}()
	}
	go func() {
		boardsWG.Wait()
		close(boardsDone)
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
	select {
	case reason = <-endReason:
	case <-boardsDone:
		reason = "every board's program ended"
	case err := <-clockDone:
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("the simulator clock stopped: %w", err)
		}
		reason = "the run was cancelled"
	case <-ctx.Done():
		reason = "the run was cancelled"
	}
	simEnd := w.clock.Elapsed()

	// Stop the boards, then the clock; what happened is now fixed.
	stopBoards()
	for _, bn := range w.boards {
		if bn.board != nil {
			bn.board.Close()
		}
	}
	select {
	case <-boardsDone:
	case <-time.After(boardStopTimeout):
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
	}
	res.Frames = w.frames()
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
	b, err := board.New(cfg, w.opts.Firmware, w.clock)
	if err != nil {
		return nil, err
	}
	bn.board = b
	if stdin != nil {
		stdin.attach(b)
	}
	return b, nil
}

func (w *World) boardResult(bn *boardNode) BoardResult {
	br := BoardResult{Name: bn.inst.Name, Console: bn.console.Text(), ConsoleTail: bn.console.Tail(10)}
	bn.mu.Lock()
	r, err := bn.result, bn.err
	bn.mu.Unlock()
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
	if bn.board != nil {
		for _, s := range bn.board.Sockets() {
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
