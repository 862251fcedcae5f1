package netstack

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Identity is one NIC as a world declares it, for CheckIdentities.
type Identity struct {
	// Node names the node ("esp1").
	Node string
	// Medium names the network the NIC is on ("lan"); addresses must be
	// unique per medium.
	Medium string
	// MAC, if not empty, must be unique in the whole world.
	MAC net.HardwareAddr
	// Addr, if valid, must be unique on its medium.
	Addr netip.Addr
}

// CheckIdentities reports every duplicate MAC (anywhere) and duplicate IP
// address (on one medium), naming both nodes, and every malformed MAC.
func CheckIdentities(ids []Identity) error {
	var errs []error
	macs := make(map[string]string)
	type key struct {
		medium string
		addr   netip.Addr
	}
	addrs := make(map[key]string)
	for _, id := range ids {
		if len(id.MAC) > 0 {
			switch {
			case len(id.MAC) != 6:
				errs = append(errs, fmt.Errorf("%s: MAC %s has %d bytes, want 6", id.Node, id.MAC, len(id.MAC)))
			case id.MAC[0]&1 != 0:
				errs = append(errs, fmt.Errorf("%s: MAC %s is a multicast address; use a unicast one (first byte even)", id.Node, id.MAC))
			default:
				if other, ok := macs[id.MAC.String()]; ok {
					errs = append(errs, fmt.Errorf("%s: MAC %s is already used by %s", id.Node, id.MAC, other))
				} else {
					macs[id.MAC.String()] = id.Node
				}
			}
		}
		if id.Addr.IsValid() {
			k := key{id.Medium, id.Addr.Unmap()}
			if other, ok := addrs[k]; ok {
				errs = append(errs, fmt.Errorf("%s: IP address %s is already used by %s on %s", id.Node, id.Addr, other, id.Medium))
			} else {
				addrs[k] = id.Node
			}
		}
	}
	return errors.Join(errs...)
}

// Subnet is a named prefix, for CheckSubnets.
type Subnet struct {
	// Name says where the subnet comes from ("lan of ap1").
	Name   string
	Prefix netip.Prefix
}

// CheckSubnets reports every pair of overlapping subnets, naming both.
// Give it the subnets that must be routable from one another (the LANs
// behind one router and the internet hosts' addresses).
func CheckSubnets(subnets []Subnet) error {
	var errs []error
	for i, a := range subnets {
		if !a.Prefix.IsValid() {
			errs = append(errs, fmt.Errorf("%s: %q is not a valid subnet (like 192.168.1.0/24)", a.Name, a.Prefix))
			continue
		}
		for _, b := range subnets[:i] {
			if b.Prefix.IsValid() && a.Prefix.Overlaps(b.Prefix) {
				errs = append(errs, fmt.Errorf("%s: subnet %s overlaps %s of %s", a.Name, a.Prefix, b.Prefix, b.Name))
			}
		}
	}
	return errors.Join(errs...)
}
