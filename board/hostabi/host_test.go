package hostabi

import (
	"errors"
	"testing"
)

// The argument helpers word their TypeErrors like MicroPython's own.
func TestArgHelpers(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  func() (any, error)
		want any
		err  string
	}{
		{"int", func() (any, error) { return ArgInt([]Value{int64(7)}, 0) }, 7, ""},
		{"bool as int", func() (any, error) { return ArgInt([]Value{true}, 0) }, 1, ""},
		{"str as int", func() (any, error) { return ArgInt([]Value{"x"}, 0) }, 0, "TypeError(can't convert str to int)"},
		{"missing", func() (any, error) { return ArgStr(nil, 0) }, "", "TypeError(function missing required positional argument)"},
		{"int as str", func() (any, error) { return ArgStr([]Value{int64(1)}, 0) }, "", "TypeError(can't convert 'int' object to str implicitly)"},
		{"int as float", func() (any, error) { return ArgFloat([]Value{int64(2)}, 0) }, 2.0, ""},
		{"undefined as float", func() (any, error) { return ArgFloat([]Value{Undefined}, 0) }, 0.0, "TypeError(can't convert undefined to float)"},
	} {
		got, err := tc.got()
		if got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		var pe *PyError
		if tc.err == "" && err != nil || tc.err != "" && (!errors.As(err, &pe) || err.Error() != tc.err) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
		}
	}
}

// A module's functions and constants are found by name; a name registered
// twice is a programming error.
func TestRegistry(t *testing.T) {
	RegisterFunc("_abitest", "f", func(Host, []Value) (Value, error) { return int64(1), nil })
	RegisterConst("_abitest", "C", int64(3))
	if f, _, ok := Lookup("_abitest", "f"); !ok || f == nil {
		t.Error("function not found")
	}
	if f, v, ok := Lookup("_abitest", "C"); !ok || f != nil || v != int64(3) {
		t.Errorf("constant: %v %v %v", f, v, ok)
	}
	if _, _, ok := Lookup("_abitest", "nope"); ok {
		t.Error("found a name never registered")
	}
	if got := Funcs("_abitest"); len(got) != 1 || got[0] != "f" {
		t.Errorf("Funcs = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering _abitest.C twice did not panic")
		}
	}()
	RegisterFunc("_abitest", "C", func(Host, []Value) (Value, error) { return nil, nil })
}
