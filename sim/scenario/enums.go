package scenario

import "reflect"

// EnumValues lists the values the file may give a field of type t (a
// FaultKind, a HostFaultKind, …), and false when t is not an enum. Tests
// use it to hold a table of every value to its test, so a kind added to
// the model cannot land without one.
func EnumValues(t reflect.Type) ([]string, bool) {
	e, ok := reflect.Zero(t).Interface().(enum)
	if !ok {
		return nil, false
	}
	return e.enumValues(), true
}
