package sim

import (
	"bytes"
	"regexp"
	"regexp/syntax"
)

// Console expectations look only at what a write added (plus the little
// before it a match could start in), so checking a console of n lines costs
// O(n), not O(n²) as rescanning the whole text after every write did.

// containsNew reports whether needle occurs in text in a place that
// overlaps text[from:] (earlier occurrences were seen by earlier calls).
func containsNew(text []byte, from int, needle string) bool {
	start := max(0, from-len(needle)+1)
	return bytes.Contains(text[start:], []byte(needle))
}

// consoleRegexp is a console_matches pattern with the knowledge of whether a
// match can cross a line break.
type consoleRegexp struct {
	re *regexp.Regexp
	// oneLine: no match spans a '\n', so only the lines a write touched
	// need looking at.
	oneLine bool
}

func newConsoleRegexp(pattern string) *consoleRegexp {
	re := regexp.MustCompile("(?m)" + pattern)
	oneLine := false
	if t, err := syntax.Parse("(?m)"+pattern, syntax.Perl); err == nil {
		oneLine = !matchesNewline(t)
	}
	return &consoleRegexp{re: re, oneLine: oneLine}
}

// matchNew reports whether the pattern matches text somewhere not already
// looked at: for a one-line pattern, in the lines text[from:] touches.
func (c *consoleRegexp) matchNew(text []byte, from int) bool {
	if !c.oneLine {
		return c.re.Match(text)
	}
	start := bytes.LastIndexByte(text[:from], '\n') + 1
	return c.re.Match(text[start:])
}

// matchesNewline reports whether any part of the pattern can consume '\n'.
func matchesNewline(t *syntax.Regexp) bool {
	switch t.Op {
	case syntax.OpAnyChar:
		return true
	case syntax.OpLiteral:
		for _, r := range t.Rune {
			if r == '\n' {
				return true
			}
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(t.Rune); i += 2 {
			if t.Rune[i] <= '\n' && '\n' <= t.Rune[i+1] {
				return true
			}
		}
	}
	for _, s := range t.Sub {
		if matchesNewline(s) {
			return true
		}
	}
	return false
}
