package netstack

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// AllowRule is one entry of a NAT allow-list: a destination boards may
// reach through the real network. Exactly one of Prefix and Name is set.
type AllowRule struct {
	// Prefix matches the real destination address ("203.0.113.0/24"; a
	// bare address is a /32).
	Prefix netip.Prefix
	// Name matches destinations the name resolved to for the boards (a
	// --resolve pin or an answer of the host's resolver).
	Name string
	// Port, when not zero, narrows the rule to one destination port.
	Port uint16
}

const allowSyntax = "CIDR, ADDR, ADDR:PORT or NAME:PORT (like 203.0.113.0/24, 127.0.0.2:8080 or api.example.com:443)"

// ParseAllow parses one allow-list entry.
func ParseAllow(s string) (AllowRule, error) {
	if s == "" {
		return AllowRule{}, fmt.Errorf("allow entry is empty; want %s", allowSyntax)
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		if !p.Addr().Is4() {
			return AllowRule{}, fmt.Errorf("allow %q: only IPv4 destinations are reachable; want %s", s, allowSyntax)
		}
		return AllowRule{Prefix: p.Masked()}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if !a.Is4() {
			return AllowRule{}, fmt.Errorf("allow %q: only IPv4 destinations are reachable; want %s", s, allowSyntax)
		}
		return AllowRule{Prefix: netip.PrefixFrom(a, 32)}, nil
	}
	host, portText, ok := strings.Cut(s, ":")
	if !ok || strings.Contains(portText, ":") {
		return AllowRule{}, fmt.Errorf("allow %q: a name needs a port; want %s", s, allowSyntax)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return AllowRule{}, fmt.Errorf("allow %q: port %q is not a port number (1-65535); want %s", s, portText, allowSyntax)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !a.Is4() {
			return AllowRule{}, fmt.Errorf("allow %q: only IPv4 destinations are reachable; want %s", s, allowSyntax)
		}
		return AllowRule{Prefix: netip.PrefixFrom(a, 32), Port: uint16(port)}, nil
	}
	if !validHostName(host) {
		return AllowRule{}, fmt.Errorf("allow %q: %q is not a host name; want %s", s, host, allowSyntax)
	}
	return AllowRule{Name: strings.ToLower(strings.TrimSuffix(host, ".")), Port: uint16(port)}, nil
}

// String renders the rule in ParseAllow's syntax.
func (r AllowRule) String() string {
	dst := r.Name
	if r.Prefix.IsValid() {
		dst = r.Prefix.String()
		if r.Prefix.Bits() == 32 {
			dst = r.Prefix.Addr().String()
		}
	}
	if r.Port != 0 {
		return fmt.Sprintf("%s:%d", dst, r.Port)
	}
	return dst
}

// Pin is a name pinned to an address, as curl's --resolve NAME:ADDR: the
// boards' DNS answers it with Addr, whatever the host's resolver says.
type Pin struct {
	Name string
	Addr netip.Addr
}

const pinSyntax = "NAME:ADDR (like api.test:127.0.0.2)"

// ParsePin parses a --resolve value. curl's NAME:PORT:ADDR form is
// accepted too; the port is ignored, since a board's DNS answer holds no
// port.
func ParsePin(s string) (Pin, error) {
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 2:
	case 3:
		if p, err := strconv.ParseUint(parts[1], 10, 16); err != nil || p == 0 {
			return Pin{}, fmt.Errorf("resolve %q: port %q is not a port number; want %s", s, parts[1], pinSyntax)
		}
		parts = []string{parts[0], parts[2]}
	default:
		return Pin{}, fmt.Errorf("resolve %q: want %s", s, pinSyntax)
	}
	if !validHostName(parts[0]) {
		return Pin{}, fmt.Errorf("resolve %q: %q is not a host name; want %s", s, parts[0], pinSyntax)
	}
	a, err := netip.ParseAddr(parts[1])
	if err != nil || !a.Is4() {
		return Pin{}, fmt.Errorf("resolve %q: %q is not an IPv4 address; want %s", s, parts[1], pinSyntax)
	}
	return Pin{Name: strings.ToLower(strings.TrimSuffix(parts[0], ".")), Addr: a}, nil
}

// String renders the pin in ParsePin's syntax.
func (p Pin) String() string { return p.Name + ":" + p.Addr.String() }

// validHostName accepts what DNS can carry: dot-separated labels of
// letters, digits, hyphens and underscores, 1-63 bytes each, 253 in all,
// not all digits (that would be an address).
func validHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	digits := true
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_':
				digits = false
			default:
				return false
			}
		}
	}
	return !digits
}
