package netstack

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ForwardSpec is one port forward from the host into a board, as the user
// writes it: [tcp:|udp:][HOSTADDR:]HOSTPORT:BOARD:PORT.
type ForwardSpec struct {
	// Proto is "tcp" (the default) or "udp".
	Proto string
	// HostAddr is where the host side listens; 127.0.0.1 unless given.
	HostAddr netip.Addr
	// HostPort is the host port; 0 picks a free one.
	HostPort uint16
	// Board names the board (a node) the forward reaches.
	Board string
	// BoardPort is the port on the board.
	BoardPort uint16
}

const forwardSyntax = "[tcp:|udp:][HOSTADDR:]HOSTPORT:BOARD:PORT (like 8080:esp1:80)"

// ParseForward parses a --forward value.
func ParseForward(s string) (ForwardSpec, error) {
	spec := ForwardSpec{Proto: "tcp", HostAddr: netip.AddrFrom4([4]byte{127, 0, 0, 1})}
	parts := strings.Split(s, ":")
	if len(parts) > 0 && (parts[0] == "tcp" || parts[0] == "udp") {
		spec.Proto = parts[0]
		parts = parts[1:]
	}
	switch len(parts) {
	case 3:
	case 4:
		a, err := netip.ParseAddr(parts[0])
		if err != nil || !a.Is4() {
			return ForwardSpec{}, fmt.Errorf("forward %q: host address %q is not an IPv4 address; want %s", s, parts[0], forwardSyntax)
		}
		spec.HostAddr = a
		parts = parts[1:]
	default:
		return ForwardSpec{}, fmt.Errorf("forward %q: want %s", s, forwardSyntax)
	}
	hp, err := strconv.ParseUint(parts[0], 10, 16)
	if err != nil {
		return ForwardSpec{}, fmt.Errorf("forward %q: host port %q is not a port number (0-65535); want %s", s, parts[0], forwardSyntax)
	}
	spec.HostPort = uint16(hp)
	if parts[1] == "" {
		return ForwardSpec{}, fmt.Errorf("forward %q: the board name is empty; want %s", s, forwardSyntax)
	}
	spec.Board = parts[1]
	bp, err := strconv.ParseUint(parts[2], 10, 16)
	if err != nil || bp == 0 {
		return ForwardSpec{}, fmt.Errorf("forward %q: board port %q is not a port number (1-65535); want %s", s, parts[2], forwardSyntax)
	}
	spec.BoardPort = uint16(bp)
	return spec, nil
}

// String renders the spec in ParseForward's syntax.
func (f ForwardSpec) String() string {
	return fmt.Sprintf("%s:%s:%d:%s:%d", f.Proto, f.HostAddr, f.HostPort, f.Board, f.BoardPort)
}
