package board

import (
	"bytes"
	"strings"
)

// The board's /lib modules are Python here but C (or frozen bytecode with
// no visible frames in the firmware's builtins) on the ESP8266: a
// KeyboardInterrupt in time.sleep or an OSError from socket.connect shows
// only the script's own frames on the board. frameFilter removes the
// traceback lines of the board's own modules from what reaches the UART,
// whoever prints the traceback (the REPL, sys.print_exception, the host).

// framePrefix starts a traceback line of a /lib module.
const framePrefix = `  File "/lib/`

// maxHeldLine bounds a held line; longer ones are not traceback lines.
const maxHeldLine = 256

// frameFilter is the console's line filter; board goroutine only.
type frameFilter struct {
	// midLine is set when the last byte passed on was not "\n".
	midLine bool
	held    []byte
}

// filter returns what of p goes to the console now.
func (f *frameFilter) filter(p []byte, isBoardFrame func(line []byte) bool) []byte {
	if len(f.held) == 0 && bytes.IndexByte(p, ' ') < 0 {
		if len(p) > 0 {
			f.midLine = p[len(p)-1] != '\n'
		}
		return p
	}
	out := make([]byte, 0, len(p)+len(f.held))
	for _, c := range p {
		if len(f.held) == 0 && (f.midLine || c != framePrefix[0]) {
			out = append(out, c)
			f.midLine = c != '\n'
			continue
		}
		f.held = append(f.held, c)
		n := len(f.held)
		switch {
		case n <= len(framePrefix) && c != framePrefix[n-1], n > maxHeldLine:
			out = append(out, f.held...)
			f.held = f.held[:0]
			f.midLine = c != '\n'
		case c == '\n':
			if !isBoardFrame(f.held) {
				out = append(out, f.held...)
			}
			f.held = f.held[:0]
			f.midLine = false
		}
	}
	return out
}

// flush returns what is held.
func (f *frameFilter) flush() []byte {
	p := f.held
	f.held = nil
	f.midLine = len(p) > 0 && p[len(p)-1] != '\n'
	return p
}

// isBoardFrame reports whether a traceback line names one of the board's
// own /lib modules (a user's file in /lib keeps its frames).
func (b *Board) isBoardFrame(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte(framePrefix))
	if !ok {
		return false
	}
	name, _, ok := bytes.Cut(rest, []byte(`", line `))
	if !ok {
		return false
	}
	return b.isBoardModule(string(name))
}

func (b *Board) isBoardModule(file string) bool {
	if strings.Contains(file, "/") || !strings.HasSuffix(file, ".py") {
		return false
	}
	if _, user := b.cfg.Files["lib/"+file]; user {
		return false
	}
	_, err := libFS.Open("lib/" + file)
	return err == nil
}
