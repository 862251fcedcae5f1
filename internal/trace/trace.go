// Package trace is the simulator's readable event log: timestamped lines in
// simulator time that anyone (the network medium, WiFi, boards, the runner)
// can add to, and a registry of names so lines say "esp1" and "router"
// instead of MAC and IP addresses.
//
// Use it in this order: make one Log per world with New, register node names
// with Log.Names() as nodes get addresses, then Add lines (or let the
// network medium add one per frame, decoded by DecodeFrame). Lines go to the
// optional writer as they arrive and are kept in memory (up to Config.Keep)
// for tests and reports.
//
// A nil *Log is valid and drops everything, so components can hold an
// optional log without checking.
package trace

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Line is one event.
type Line struct {
	// At is simulator time since the start of the world.
	At time.Duration
	// Source names who reported the event ("esp1", "wifi", "lan").
	Source string
	// Text is the event, one line, no trailing newline.
	Text string
}

// String renders the line as "12.004s source text". When the text already
// starts with the source (frame lines read "esp1 → router …"), the source is
// not repeated.
func (l Line) String() string {
	var b strings.Builder
	b.Grow(len(l.Source) + len(l.Text) + 12)
	b.WriteString(FormatTime(l.At))
	b.WriteByte(' ')
	if l.Source != "" && !strings.HasPrefix(l.Text, l.Source) {
		b.WriteString(l.Source)
		b.WriteByte(' ')
	}
	b.WriteString(l.Text)
	return b.String()
}

// FormatTime renders simulator time as seconds with millisecond precision,
// "12.004s".
func FormatTime(d time.Duration) string {
	ms := d.Milliseconds()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	return fmt.Sprintf("%s%d.%03ds", sign, ms/1000, ms%1000)
}

// Config describes a Log. The zero value keeps lines in memory only.
type Config struct {
	// Writer, if set, receives every line followed by a newline as it is
	// added. Write errors are remembered (see Err) and stop further writes.
	Writer io.Writer
	// Keep is how many of the most recent lines to keep in memory; zero
	// means 100 000, negative means none.
	Keep int
}

// Log is a sink of timestamped lines, safe for concurrent use.
type Log struct {
	names *Names

	mu struct {
		sync.Mutex
		w     io.Writer
		err   error
		keep  int
		lines []Line
		// start is the index of the oldest kept line once lines is full
		// (lines is then a ring).
		start int
		total uint64
		subs  []func(Line)
	}
}

// New returns a Log.
func New(cfg Config) *Log {
	l := &Log{names: NewNames()}
	l.mu.w = cfg.Writer
	l.mu.keep = cfg.Keep
	if l.mu.keep == 0 {
		l.mu.keep = 100_000
	}
	return l
}

// Names is the log's name registry. On a nil Log it returns nil, which is a
// valid, empty registry.
func (l *Log) Names() *Names {
	if l == nil {
		return nil
	}
	return l.names
}

// Add records a line. Text should be a single line; newlines in it are
// replaced by spaces.
func (l *Log) Add(at time.Duration, source, text string) {
	if l == nil {
		return
	}
	if strings.ContainsAny(text, "\r\n") {
		text = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(text)
	}
	line := Line{At: at, Source: source, Text: text}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.total++
	if l.mu.keep > 0 {
		if len(l.mu.lines) < l.mu.keep {
			l.mu.lines = append(l.mu.lines, line)
		} else {
			l.mu.lines[l.mu.start] = line
			l.mu.start = (l.mu.start + 1) % len(l.mu.lines)
		}
	}
	if l.mu.w != nil && l.mu.err == nil {
		_, l.mu.err = io.WriteString(l.mu.w, line.String()+"\n")
	}
	for _, f := range l.mu.subs {
		f(line)
	}
}

// Addf is Add with a format.
func (l *Log) Addf(at time.Duration, source, format string, args ...any) {
	if l == nil {
		return
	}
	l.Add(at, source, fmt.Sprintf(format, args...))
}

// Subscribe calls f for every line added from now on, in order, while the
// log's lock is held: f must be quick and must not call back into the log.
func (l *Log) Subscribe(f func(Line)) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.subs = append(l.mu.subs, f)
}

// Lines returns a copy of the kept lines, oldest first.
func (l *Log) Lines() []Line {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Line, 0, len(l.mu.lines))
	out = append(out, l.mu.lines[l.mu.start:]...)
	out = append(out, l.mu.lines[:l.mu.start]...)
	return out
}

// Total is the number of lines ever added, kept or not.
func (l *Log) Total() uint64 {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.total
}

// Err reports the first error writing to Config.Writer.
func (l *Log) Err() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.err
}

// String renders all kept lines, one per line.
func (l *Log) String() string {
	var b strings.Builder
	for _, line := range l.Lines() {
		b.WriteString(line.String())
		b.WriteByte('\n')
	}
	return b.String()
}
