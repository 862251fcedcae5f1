package board

import (
	"bytes"
	"strings"
)

// On the ESP8266 the socket, select, ssl and lwip modules are C (modlwip.c,
// modselect.c, modtls_axtls.c): a traceback through them shows only the
// script's frames. Here they are the board's /lib Python wrappers, whose
// frames MicroPython records as the exception passes through; the console
// leaves those lines out, so an error reads as on the board:
//
//	Traceback (most recent call last):
//	  File "main.py", line 4, in <module>
//	OSError: [Errno 110] ETIMEDOUT
//
// The firmware prints a traceback line in pieces ("  File \"", the file,
// "\", line ", ...), so the filter works on the byte stream: at the start of
// a line it holds back bytes while they could still begin one of these
// frame lines, and drops the line once they do.

// cModuleFrames are the opening bytes of a traceback line in a wrapper of a
// C module.
var cModuleFrames = func() [][]byte {
	var out [][]byte
	for _, f := range []string{"socket", "usocket", "select", "uselect", "ssl", "tls", "lwip", "_hostcall"} {
		out = append(out, []byte(`  File "/lib/`+f+`.py"`))
	}
	return out
}()

// cFrameFilter is the console's filter state.
type cFrameFilter struct {
	midLine  bool   // not at the start of a line
	held     []byte // bytes at a line start that may open a frame line
	dropping bool   // inside a frame line, up to its newline
}

type cFrameKey struct{}

func (b *Board) cFrames() *cFrameFilter {
	f, _ := b.Value(cFrameKey{}).(*cFrameFilter)
	if f == nil {
		f = &cFrameFilter{}
		b.SetValue(cFrameKey{}, f)
	}
	return f
}

// filter returns p without the C-module frame lines (bytes may be held
// back for the next call).
func (f *cFrameFilter) filter(p []byte) []byte {
	if !f.dropping && len(f.held) == 0 && bytes.IndexByte(p, ' ') < 0 {
		// No space: nothing here can open a frame line.
		if len(p) > 0 {
			f.midLine = p[len(p)-1] != '\n'
		}
		return p
	}
	out := make([]byte, 0, len(p)+len(f.held))
	for _, c := range p {
		switch {
		case f.dropping:
			if c == '\n' {
				f.dropping, f.midLine = false, false
			}
		case len(f.held) > 0 || (!f.midLine && c == ' '):
			f.held = append(f.held, c)
			switch frameMatch(f.held) {
			case matchFull:
				f.held, f.dropping = f.held[:0], true
			case matchNone:
				out = append(out, f.held...)
				f.held = f.held[:0]
				f.midLine = c != '\n'
			}
		default:
			out = append(out, c)
			f.midLine = c != '\n'
		}
	}
	return out
}

type frameMatchKind int

const (
	matchNone frameMatchKind = iota
	matchPrefix
	matchFull
)

func frameMatch(b []byte) frameMatchKind {
	kind := matchNone
	for _, f := range cModuleFrames {
		switch {
		case bytes.Equal(b, f):
			return matchFull
		case bytes.HasPrefix(f, b):
			kind = matchPrefix
		}
	}
	return kind
}

// dropCModuleFrames removes C-module frame lines from a whole traceback.
func dropCModuleFrames(text string) string {
	lines := strings.SplitAfter(text, "\n")
	out := lines[:0]
	for _, l := range lines {
		if !isFrameLine(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

func isFrameLine(l string) bool {
	for _, f := range cModuleFrames {
		if strings.HasPrefix(l, string(f)) {
			return true
		}
	}
	return false
}
