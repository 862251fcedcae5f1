package scenario

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseForward parses the port forward syntax shared by the --forward flag
// and the scenario's short form:
//
//	[tcp:|udp:][HOSTADDR:]HOSTPORT:BOARD:PORT
//
// for example "8080:esp1:80", "udp:127.0.0.1:5005:esp1:5005". Ranges and
// names are checked by Validate.
func ParseForward(s string) (Forward, error) {
	var f Forward
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) > 0 && (parts[0] == string(TCP) || parts[0] == string(UDP)) {
		f.Proto = Proto(parts[0])
		parts = parts[1:]
	}
	const syntax = `write [tcp:|udp:][HOSTADDR:]HOSTPORT:BOARD:PORT, e.g. "8080:esp1:80"`
	switch len(parts) {
	case 3:
	case 4:
		f.HostAddr, parts = parts[0], parts[1:]
	default:
		return Forward{}, fmt.Errorf("bad forward %q: %s", s, syntax)
	}
	hp, err1 := strconv.Atoi(parts[0])
	bp, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || parts[1] == "" {
		return Forward{}, fmt.Errorf("bad forward %q: %s", s, syntax)
	}
	f.HostPort, f.Board, f.BoardPort = hp, parts[1], bp
	return f, nil
}

// String formats the forward in ParseForward's syntax.
func (f Forward) String() string {
	var b strings.Builder
	if f.Proto != "" {
		b.WriteString(string(f.Proto) + ":")
	}
	if f.HostAddr != "" {
		b.WriteString(f.HostAddr + ":")
	}
	fmt.Fprintf(&b, "%d:%s:%d", f.HostPort, f.Board, f.BoardPort)
	return b.String()
}

func (f *Forward) fromScalar(s scalar) error {
	if s.tag != "str" {
		return fmt.Errorf("want a forward like \"8080:esp1:80\" or a mapping, got %s", s.describe())
	}
	v, err := ParseForward(s.text)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

func (e *ExitExpect) fromScalar(s scalar) error {
	var k ExitKind
	if err := k.decodeScalar(s); err != nil {
		return err
	}
	*e = ExitExpect{Kind: k}
	return nil
}
