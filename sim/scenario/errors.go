package scenario

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// FieldError is one problem with a scenario: where it is, which field, what
// is wrong and how to fix it. Every error Load, Parse and Validate return is
// an Errors list of FieldError values.
type FieldError struct {
	// File is the scenario file as it was named to the loader, or the
	// override the value came from ("--set seed=x", "$ESP8266SIM_SEED");
	// empty for a scenario built in Go.
	File string
	// Line is the 1-based line in File, 0 when unknown (TOML files,
	// overrides, scenarios built in Go, defaults).
	Line int
	// Field is the path of the field, e.g. "boards[0].heap"; empty when the
	// problem concerns the whole document.
	Field string
	// Msg says what is wrong and, where there is one, the fix.
	Msg string
	// Err is the underlying cause (an os or parser error), if any.
	Err error
}

// Error formats the problem as "file:line: field: message".
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *FieldError) Unwrap() error { return e.Err }

// Errors is every problem found in one scenario, in file order. It is
// returned as an error only when it is not empty.
type Errors []*FieldError

// Error joins the problems, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// AsErrors returns the problem list inside err, or nil if err holds none.
func AsErrors(err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return Errors{fe}
	}
	return nil
}

// sortErrors orders problems by file, then line, keeping the order of
// discovery for equal positions.
func sortErrors(es Errors) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].File != es[j].File {
			// Problems in the scenario file itself come before those from
			// overrides, which are named by "--set"/"$" and never by a path.
			return fileRank(es[i].File) < fileRank(es[j].File)
		}
		return es[i].Line < es[j].Line
	})
}

func fileRank(f string) int {
	switch {
	case strings.HasPrefix(f, "$"):
		return 1
	case strings.HasPrefix(f, "--set"):
		return 2
	}
	return 0
}

// errorsOrNil returns es as an error, or nil when there are none.
func errorsOrNil(es Errors) error {
	if len(es) == 0 {
		return nil
	}
	sortErrors(es)
	return es
}
