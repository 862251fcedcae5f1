package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// TextOptions shape the text summary.
type TextOptions struct {
	// ConsoleLines is how many console lines to show per board; 0 means 10,
	// a negative value hides the console.
	ConsoleLines int
	// Quiet prints only the verdict line and the failed expectations.
	Quiet bool
}

// WriteText writes a human summary of the run.
func WriteText(w io.Writer, r *Run, opts TextOptions) error {
	ew := &errWriter{w: w}
	verdict := "PASS"
	switch {
	case r.Cancelled:
		verdict = "CANCELLED"
	case !r.Passed():
		verdict = "FAIL"
	}
	passed := len(r.Expectations) - r.Failures()
	ew.printf("%s %s: %d/%d expectations passed", verdict, r.Scenario, passed, len(r.Expectations))
	ew.printf(" (sim %s, wall %s, %d frames, seed %d)\n", secs(r.SimTime), secs(r.WallTime), r.Frames, r.Seed)
	for _, b := range r.Boards {
		if !b.endedAsExpected() {
			ew.printf("board %s's program ended unexpectedly: %s\n", b.Name, exitText(b.Exit))
		}
	}
	if r.EndReason != "" && !opts.Quiet {
		ew.printf("ended: %s\n", r.EndReason)
	}
	if r.Error != "" {
		ew.printf("error: %s\n", r.Error)
	}
	writeInternet(ew, r.Internet, opts.Quiet)
	if !opts.Quiet {
		tail := opts.ConsoleLines
		if tail == 0 {
			tail = 10
		}
		for _, b := range r.Boards {
			ew.printf("\n")
			writeBoard(ew, &b, tail)
		}
		if len(r.Expectations) > 0 {
			ew.printf("\nexpectations:\n")
		}
	}
	for _, e := range r.Expectations {
		if opts.Quiet && e.Passed {
			continue
		}
		mark := "pass"
		if !e.Passed {
			mark = "FAIL"
		}
		ew.printf("  %s  %s", mark, printable(e.Description))
		if e.Reason != "" {
			// Continuation lines of a long reason stay under the description.
			ew.printf(": %s", strings.ReplaceAll(printable(strings.TrimRight(e.Reason, "\n")), "\n", "\n        "))
		}
		if e.At > 0 {
			ew.printf(" (at %s)", secs(e.At))
		}
		ew.printf("\n")
	}
	return ew.err
}

func writeBoard(ew *errWriter, b *Board, tail int) {
	ew.printf("board %s: %s; wifi %s\n", b.Name, exitText(b.Exit), wifiText(b.WiFi))
	if b.Exit.Kind == ExitException && b.Exit.Traceback != "" {
		for _, l := range strings.Split(strings.TrimRight(b.Exit.Traceback, "\n"), "\n") {
			ew.printf("  ! %s\n", printable(l))
		}
	}
	if tail > 0 {
		lines := b.Console
		if len(lines) > tail {
			lines = lines[len(lines)-tail:]
		}
		total := max(b.ConsoleLines, len(b.Console))
		switch {
		case total == 0:
			ew.printf("  console: (empty)\n")
		case len(lines) < total:
			ew.printf("  console (last %d of %d lines):\n", len(lines), total)
		default:
			ew.printf("  console:\n")
		}
		for _, l := range lines {
			ew.printf("  | %s\n", printable(l))
		}
	}
	if len(b.Sockets) == 0 {
		ew.printf("  sockets: none\n")
		return
	}
	ew.printf("  sockets:\n")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "    PROTO\tSTATE\tLOCAL\tREMOTE\n")
	for _, s := range b.Sockets {
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", s.Proto, s.State, dash(s.Local), dash(s.Remote))
	}
	tw.Flush()
}

func exitText(e Exit) string {
	switch e.Kind {
	case ExitException:
		s := "exception " + e.Exception
		if e.Message != "" {
			s += ": " + e.Message
		}
		return s + " at " + secs(e.At)
	case ExitRunning, "":
		return "still running"
	case ExitClean:
		return "exited cleanly at " + secs(e.At)
	case ExitNotStarted:
		return "never powered on (the run ended first)"
	case ExitError:
		s := "firmware failure at " + secs(e.At)
		if e.Message != "" {
			s += ": " + e.Message
		}
		return s
	}
	return e.Kind + " at " + secs(e.At)
}

func wifiText(w WiFi) string {
	if w.Status == "" {
		return "unused"
	}
	s := w.Status
	if w.SSID != "" {
		s += " " + w.SSID
	}
	if w.IP != "" {
		s += " " + w.IP
	}
	if w.RSSI != 0 {
		s += fmt.Sprintf(" (%d dBm)", w.RSSI)
	}
	return s
}

// printable shows control characters (other than tab and newline) as \xNN
// escapes, so console bytes such as Ctrl-C or terminal escape sequences
// cannot garble the reader's terminal.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r < 0x20 && r != '\t' && r != '\n' || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// secs formats a duration as seconds with millisecond precision, the way
// the trace prints simulator time ("12.004s").
func secs(d time.Duration) string {
	return fmt.Sprintf("%.3fs", d.Seconds())
}

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
