// Package report renders the outcome of scenario runs for people and for
// machines: a text summary (per board: exit, WiFi status, console tail,
// socket table; per expectation: pass or fail with the reason), JSON, and
// JUnit XML for CI (one testsuite per run, one testcase per expectation).
//
// The runner fills a Run; the renderers only read it, so the same Run
// always renders to the same bytes:
//
//	r := &report.Run{Scenario: "http-get", SimTime: 12 * time.Second, …}
//	report.WriteText(os.Stdout, r, report.TextOptions{})
//	report.WriteJUnit(f, r)
package report

import (
	"time"
)

// Run is the outcome of one scenario run.
type Run struct {
	// Scenario is the scenario's name.
	Scenario string
	// File is the scenario file, if it came from one.
	File string
	// Seed is the seed the run used.
	Seed uint64
	// Started is when the run started on the wall clock; zero leaves it out
	// of the reports (golden tests, reproducible output).
	Started time.Time
	// SimTime is the simulated time the run took.
	SimTime time.Duration
	// WallTime is the real time the run took.
	WallTime time.Duration
	// Frames is the number of frames that crossed the medium.
	Frames uint64
	// EndReason says why the run stopped, in one sentence ("every program
	// ended", "the scenario's duration 5m0s was reached").
	EndReason string
	// Boards are the boards, in scenario order.
	Boards []Board
	// Expectations are the scenario's expectations, in scenario order.
	Expectations []Expectation
	// Error is set when the run itself failed (the world could not be
	// built, the simulator stopped); the run then fails.
	Error string
	// Cancelled is set when the run was interrupted (Ctrl-C) before it
	// ended by itself; a cancelled run never passes.
	Cancelled bool
	// Internet is set when the run used the host's real network.
	Internet *Internet
}

// Board is the state of one board at the end of a run.
type Board struct {
	// Name is the board's (instance) name.
	Name string
	// WiFi is the station's connection at the end.
	WiFi WiFi
	// Exit is how the board's program ended.
	Exit Exit
	// Console is the tail of the board's console output, one entry per
	// line, oldest first, without line ends.
	Console []string
	// ConsoleLines is the number of lines the console printed in all
	// (Console may hold only the last of them).
	ConsoleLines int
	// Sockets are the rows of the board's socket table at the end.
	Sockets []Socket
	// ExitExpected is set when an exit expectation covers the board; its
	// verdict then decides whether the ending was right.
	ExitExpected bool
	// Devices are the parts wired to the board, with their state at the
	// end.
	Devices []Device
}

// Device is one simulated part on a board and its state at the end.
type Device struct {
	// Name is the device's label ("button@0").
	Name string
	// Kind is the scenario's kind (button, led, dht22, …).
	Kind string
	// Pin is its GPIO, -1 for the ADC input.
	Pin int
	// State is what it shows: "level 1", "21.5 °C 45 %RH", "A0 512".
	State string
}

// WiFi is a station's connection status.
type WiFi struct {
	// Status is the network.WLAN status name: "idle", "connecting",
	// "wrong_password", "no_ap_found", "connect_fail" or "got_ip".
	Status string
	// SSID is the network the station is (or was trying to be) on.
	SSID string
	// IP is the station's address, empty without one.
	IP string
	// RSSI is the signal strength in dBm, 0 when unknown.
	RSSI int
}

// Exit kinds.
const (
	// ExitClean: the program returned.
	ExitClean = "clean"
	// ExitException: the program ended with an uncaught exception.
	ExitException = "exception"
	// ExitRunning: the program was still running when the run ended.
	ExitRunning = "running"
	// ExitWatchdog: the program was stopped by the watchdog.
	ExitWatchdog = "watchdog"
	// ExitError: the firmware itself failed (a trap), not the script.
	ExitError = "error"
	// ExitNotStarted: the run ended before the board powered on.
	ExitNotStarted = "not started"
)

// Exit is how a board's program ended.
type Exit struct {
	// Kind is one of the Exit* constants.
	Kind string
	// Exception is the exception's type name ("OSError") for ExitException.
	Exception string
	// Message is the exception's message ("[Errno 104] ECONNRESET").
	Message string
	// Traceback is the traceback as the board printed it.
	Traceback string
	// At is the simulated time of the end; 0 for ExitRunning.
	At time.Duration
}

// Socket is one row of a board's socket table.
type Socket struct {
	// Proto is "tcp" or "udp".
	Proto string
	// State is the lwIP-style state ("LISTEN", "ESTABLISHED", "TIME_WAIT").
	State string
	// Local and Remote are "ip:port" ("" when unbound/unconnected).
	Local, Remote string
}

// Expectation is the verdict on one expectation.
type Expectation struct {
	// Description says what was expected, e.g. `esp1 console contains
	// "Hello" within 10s`.
	Description string
	// Passed is the verdict.
	Passed bool
	// Reason says why it failed, or what satisfied it.
	Reason string
	// At is the simulated time of the verdict.
	At time.Duration
}

// Passed reports whether the run passed: it was not cancelled, no run
// error, every expectation holds, and every board's program ended as
// expected: as its exit expectation says, or else cleanly or still running
// when the run stopped. An uncaught exception, the watchdog or a firmware
// failure that no expectation asked for fails the run, expectations or
// not.
func (r *Run) Passed() bool {
	if r.Error != "" || r.Cancelled {
		return false
	}
	for _, e := range r.Expectations {
		if !e.Passed {
			return false
		}
	}
	for _, b := range r.Boards {
		if !b.endedAsExpected() {
			return false
		}
	}
	return true
}

func (b *Board) endedAsExpected() bool {
	switch {
	case b.ExitExpected:
		return true
	case b.Exit.Kind == ExitClean, b.Exit.Kind == ExitRunning, b.Exit.Kind == ExitNotStarted, b.Exit.Kind == "":
		return true
	}
	return false
}

// Failures counts the failed expectations.
func (r *Run) Failures() int {
	n := 0
	for _, e := range r.Expectations {
		if !e.Passed {
			n++
		}
	}
	return n
}
