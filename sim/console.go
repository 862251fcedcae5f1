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

	mu       sync.Mutex
	all      bytes.Buffer
	lines    []consoleLine
	partial  bytes.Buffer
	partAt   time.Duration
	watchers []func(text string, at time.Duration)
}

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
	c.all.Write(p)
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
	c.trim()
	// Building the whole text costs a copy per write: only for watchers.
	var text string
	watchers := c.watchers
	if len(watchers) > 0 {
		text = c.all.String()
	}
	c.mu.Unlock()

	if c.live != nil && c.raw {
		c.live.Write(p)
	} else if c.live != nil {
		for _, l := range done {
			fmt.Fprintf(c.live, "%s %s | %s\n", trace.FormatTime(l.At), c.board, l.Text)
		}
	}
	for _, w := range watchers {
		w(text, at)
	}
	return len(p), nil
}

// trim drops the oldest text and lines beyond keep, in amortised steps
// (only once twice the bound is reached). Caller holds mu.
func (c *console) trim() {
	if c.keep <= 0 {
		return
	}
	if c.all.Len() > 2*c.keep {
		rest := c.all.Bytes()[c.all.Len()-c.keep:]
		var b bytes.Buffer
		b.Write(rest)
		c.all = b
	}
	if len(c.lines) > 2*c.keep/64+16 {
		c.lines = append([]consoleLine(nil), c.lines[len(c.lines)-c.keep/64:]...)
	}
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

// watch calls f with the whole console text after every write.
func (c *console) watch(f func(text string, at time.Duration)) {
	c.mu.Lock()
	c.watchers = append(c.watchers, f)
	c.mu.Unlock()
}

// Text is everything printed so far.
func (c *console) Text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.all.String()
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
