package sim

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// console records everything one board prints, with the simulator time of
// each line, and tells watchers as text arrives (expectations that pass "once
// the console shows" something, --fail-text).
type console struct {
	board string
	clock *vclock.Clock
	// live, when set, receives each completed line prefixed with the time and
	// the board's name (the CLI's console view).
	live io.Writer
	// raw sends bytes to live as they come instead of prefixed lines.
	raw bool
	// keep, when positive, bounds the recorded text to about its last keep
	// bytes (and as many lines), for runs that last until signalled.
	keep int

	mu sync.Mutex
	// all is append-only: a prefix handed to a watcher is never changed
	// by later writes, so watchers get it without a copy.
	all      []byte
	lines    []consoleLine
	partial  bytes.Buffer
	partAt   time.Duration
	watchers []consoleWatcher
}

// consoleWatcher is told after each write: text is the whole console so far
// (read-only, valid after the call) and from where this write's bytes
// begin, so a watcher can look at just the new part and stay linear.
type consoleWatcher func(text []byte, from int, at time.Duration)

type consoleLine struct {
	At   time.Duration
	Text string
}

func newConsole(board string, clock *vclock.Clock, live io.Writer, raw bool) *console {
	return &console{board: board, clock: clock, live: live, raw: raw}
}

// Write implements io.Writer for the board's UART.
func (c *console) Write(p []byte) (int, error) {
	at := c.clock.Elapsed()
	c.mu.Lock()
	from := len(c.all)
	c.all = append(c.all, p...)
	var done []consoleLine
	rest := p
	for len(rest) > 0 {
		if c.partial.Len() == 0 {
			c.partAt = at
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			c.partial.Write(rest)
			break
		}
		c.partial.Write(rest[:i])
		line := consoleLine{At: c.partAt, Text: strings.TrimSuffix(c.partial.String(), "\r")}
		c.partial.Reset()
		c.lines = append(c.lines, line)
		done = append(done, line)
		rest = rest[i+1:]
	}
	if c.trim() {
		from = max(len(c.all)-len(p), 0)
	}
	text := c.all[:len(c.all):len(c.all)]
	watchers := c.watchers
	c.mu.Unlock()

	if c.live != nil && c.raw {
		c.live.Write(p)
	} else if c.live != nil {
		for _, l := range done {
			fmt.Fprintf(c.live, "%s %s | %s\n", trace.FormatTime(l.At), c.board, l.Text)
		}
	}
	for _, w := range watchers {
		w(text, from, at)
	}
	return len(p), nil
}

// trim drops the oldest text and lines beyond keep, in amortised steps
// (only once twice the bound is reached), and reports whether the text was
// cut. The kept text goes to a new array: a prefix already handed to a
// watcher stays as it was. Caller holds mu.
func (c *console) trim() bool {
	if c.keep <= 0 {
		return false
	}
	if len(c.lines) > 2*c.keep/64+16 {
		c.lines = append([]consoleLine(nil), c.lines[len(c.lines)-c.keep/64:]...)
	}
	if len(c.all) <= 2*c.keep {
		return false
	}
	c.all = append([]byte(nil), c.all[len(c.all)-c.keep:]...)
	return true
}

// flush emits a last line without a newline to the live view.
func (c *console) flush() {
	c.mu.Lock()
	if c.partial.Len() == 0 {
		c.mu.Unlock()
		return
	}
	line := consoleLine{At: c.partAt, Text: c.partial.String()}
	c.partial.Reset()
	c.lines = append(c.lines, line)
	c.mu.Unlock()
	if c.live != nil && !c.raw {
		fmt.Fprintf(c.live, "%s %s | %s\n", trace.FormatTime(line.At), c.board, line.Text)
	}
}

// watch calls f after every write.
func (c *console) watch(f consoleWatcher) {
	c.mu.Lock()
	c.watchers = append(c.watchers, f)
	c.mu.Unlock()
}

// Text is everything printed so far.
func (c *console) Text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.all)
}

// Tail is the last n lines.
func (c *console) Tail(n int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	lines := c.lines
	if c.partial.Len() > 0 {
		lines = append(lines[:len(lines):len(lines)], consoleLine{Text: c.partial.String()})
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.Text
	}
	return out
}
