package sim

import (
	"strings"

	"github.com/esp8266sim/esp8266sim/sim/report"
)

// Report converts the result into the report model the text, JSON and JUnit
// renderers take.
func (r *Result) Report() *report.Run {
	out := &report.Run{
		Scenario:  r.Scenario,
		File:      r.File,
		Seed:      r.Seed,
		SimTime:   r.SimTime,
		WallTime:  r.WallTime,
		Frames:    r.Frames,
		EndReason: r.EndReason,
		Cancelled: r.Cancelled,
		Internet:  r.Internet,
	}
	for _, b := range r.Boards {
		rb := report.Board{
			Name:         b.Name,
			WiFi:         b.WiFiReport,
			Console:      b.ConsoleTail,
			ConsoleLines: strings.Count(b.Console, "\n"),
			Sockets:      b.SocketRows,
			ExitExpected: b.ExitExpected,
			Devices:      b.Devices,
			Exit: report.Exit{
				At:        b.EndedAt,
				Kind:      exitKind(b.Outcome),
				Exception: b.ExceptionType,
				Message:   b.Message,
				Traceback: b.Traceback,
			},
		}
		if b.ExceptionType != "" {
			rb.Exit.Message = strings.TrimPrefix(strings.TrimPrefix(lastLine(b.Traceback), b.ExceptionType), ": ")
		}
		out.Boards = append(out.Boards, rb)
	}
	for _, e := range r.Expectations {
		out.Expectations = append(out.Expectations, report.Expectation{Description: e.Description, Passed: e.Passed, Reason: e.Reason})
	}
	return out
}

func exitKind(outcome string) string {
	switch outcome {
	case "clean":
		return report.ExitClean
	case "exception":
		return report.ExitException
	case "running":
		return report.ExitRunning
	case "watchdog":
		return report.ExitWatchdog
	case "error":
		return report.ExitError
	case "not started":
		return report.ExitNotStarted
	}
	return outcome
}
