package hostabi

import (
	"fmt"
	"sort"
	"sync"
)

// Value is a value crossing between Python and Go in a host call.
//
// Python → Go (arguments): None → nil, bool → bool, int → int64 (values
// outside 32 bits are truncated by the firmware: pass big numbers as str),
// float → float64, str → string, any other object → PyObject (an opaque
// handle, valid during the call).
//
// Go → Python (results): nil → None, bool, int/int64/uint32/... → int when
// it fits in 32 bits (else float: return big numbers as strings), float64 →
// float, string → str, Undefined → the firmware's `undefined` marker,
// PyObject → that same Python object.
type Value = any

// PyObject is a Python object passed to a host function, for handing back.
type PyObject struct{ ref uint32 }

// NewPyObject wraps the firmware's handle (proxy_c_ref) of a Python object.
func NewPyObject(ref uint32) PyObject { return PyObject{ref: ref} }

// Ref is the firmware's handle of the object.
func (o PyObject) Ref() uint32 { return o.ref }

// UndefinedT is the type of Undefined (the proxy encoder switches on it).
type UndefinedT struct{}

// Undefined is the firmware's `undefined` value. Host calls return it to
// signal a pending Python exception (see PyError); /lib wrappers test for it.
var Undefined Value = UndefinedT{}

// HostFunc is the Go side of a Python-callable function in a host module.
// It runs on the board's goroutine while the interpreter waits. It may block
// (use Host.Sleep, Host.Park or Host.PollYield so simulator time and the
// watchdog account for it) and may read and write guest memory with
// Host.Mem (zero-copy byte buffers: Python passes uctypes.addressof(buf)
// and len(buf)). Returning a *PyError (see OSError, ValueError, …) makes the
// /lib wrapper raise that exception at the user's line.
type HostFunc func(h Host, args []Value) (Value, error)

// PyError is an error a host function returns to have Python raise an
// exception of class Type (a builtin exception name: "OSError",
// "ValueError", "TypeError", "MemoryError", "KeyboardInterrupt", …) built
// from Arg (nil for no argument, an int errno for OSError, a message str).
type PyError struct {
	Type string
	Arg  Value
}

func (e *PyError) Error() string {
	if e.Arg == nil {
		return e.Type
	}
	return fmt.Sprintf("%s(%v)", e.Type, e.Arg)
}

// OSError returns the error that raises OSError(errno), printed by
// MicroPython as "[Errno 110] ETIMEDOUT" for known codes.
func OSError(errno int) error { return &PyError{Type: "OSError", Arg: int64(errno)} }

// OSErrorMsg returns the error that raises OSError(msg), as the ESP8266
// network driver does ("STA must be active").
func OSErrorMsg(msg string) error { return &PyError{Type: "OSError", Arg: msg} }

// ValueError returns the error that raises ValueError(msg).
func ValueError(msg string) error { return &PyError{Type: "ValueError", Arg: msg} }

// TypeError returns the error that raises TypeError(msg).
func TypeError(msg string) error { return &PyError{Type: "TypeError", Arg: msg} }

// RuntimeError returns the error that raises RuntimeError(msg).
func RuntimeError(msg string) error { return &PyError{Type: "RuntimeError", Arg: msg} }

// ErrInterrupted is returned by Board.Sleep, Park and PollYield when the
// user pressed Ctrl-C (or the watchdog fired) during the wait; host
// functions should return it as is: the wrapper then raises
// KeyboardInterrupt.
var ErrInterrupted = &PyError{Type: "KeyboardInterrupt"}

// hostModule is a named set of host functions and constants.
type hostModule struct {
	name   string
	funcs  map[string]HostFunc
	consts map[string]Value
}

var registry = struct {
	sync.Mutex
	modules map[string]*hostModule
}{modules: map[string]*hostModule{}}

func moduleLocked(name string) *hostModule {
	m := registry.modules[name]
	if m == nil {
		m = &hostModule{name: name, funcs: map[string]HostFunc{}, consts: map[string]Value{}}
		registry.modules[name] = m
	}
	return m
}

// RegisterFunc adds a host function reachable from Python as
// `import module; module.name(...)`. Call it from an init function of the
// file that implements the layer. Registering the same name twice panics
// (a programming error caught by any test).
func RegisterFunc(module, name string, f HostFunc) {
	if f == nil {
		panic("hostabi.RegisterFunc: nil function for " + module + "." + name)
	}
	registry.Lock()
	defer registry.Unlock()
	m := moduleLocked(module)
	if _, dup := m.funcs[name]; dup {
		panic("hostabi.RegisterFunc: " + module + "." + name + " registered twice")
	}
	if _, dup := m.consts[name]; dup {
		panic("hostabi.RegisterFunc: " + module + "." + name + " registered twice")
	}
	m.funcs[name] = f
}

// RegisterConst adds a constant attribute to a host module.
func RegisterConst(module, name string, v Value) {
	registry.Lock()
	defer registry.Unlock()
	m := moduleLocked(module)
	if _, dup := m.funcs[name]; dup {
		panic("hostabi.RegisterConst: " + module + "." + name + " registered twice")
	}
	m.consts[name] = v
}

// Modules lists the registered host modules, sorted.
func Modules() []string {
	registry.Lock()
	defer registry.Unlock()
	names := make([]string, 0, len(registry.modules))
	for n := range registry.modules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup finds module.name: a function, or else a constant.
func Lookup(module, name string) (HostFunc, Value, bool) {
	registry.Lock()
	defer registry.Unlock()
	m := registry.modules[module]
	if m == nil {
		return nil, nil, false
	}
	if f, ok := m.funcs[name]; ok {
		return f, nil, true
	}
	if v, ok := m.consts[name]; ok {
		return nil, v, true
	}
	return nil, nil, false
}

// Argument helpers for host functions: each returns a *PyError (TypeError)
// worded like MicroPython's own when the argument has the wrong type.

// ArgInt returns args[i] as an int.
func ArgInt(args []Value, i int) (int, error) {
	if i >= len(args) {
		return 0, TypeError("function missing required positional argument")
	}
	switch v := args[i].(type) {
	case int64:
		return int(v), nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	}
	return 0, TypeError(fmt.Sprintf("can't convert %s to int", TypeName(args[i])))
}

// ArgStr returns args[i] as a string.
func ArgStr(args []Value, i int) (string, error) {
	if i >= len(args) {
		return "", TypeError("function missing required positional argument")
	}
	if s, ok := args[i].(string); ok {
		return s, nil
	}
	return "", TypeError(fmt.Sprintf("can't convert '%s' object to str implicitly", TypeName(args[i])))
}

// ArgFloat returns args[i] (int or float) as a float64.
func ArgFloat(args []Value, i int) (float64, error) {
	if i >= len(args) {
		return 0, TypeError("function missing required positional argument")
	}
	switch v := args[i].(type) {
	case int64:
		return float64(v), nil
	case float64:
		return v, nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	}
	return 0, TypeError(fmt.Sprintf("can't convert %s to float", TypeName(args[i])))
}

// TypeName is the Python type name of a Value, for messages.
func TypeName(v Value) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case UndefinedT:
		return "undefined"
	}
	return "object"
}

// Funcs lists the functions of a host module, sorted.
func Funcs(module string) []string {
	registry.Lock()
	defer registry.Unlock()
	var names []string
	if m := registry.modules[module]; m != nil {
		for n := range m.funcs {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}
