package sim

import (
	"fmt"
	"net/netip"

	"github.com/esp8266sim/esp8266sim/netstack"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// HostName is the name boards use to reach the real host's allow-listed
// loopback ports, and HostIP its address inside the world.
const HostName = "host.sim.internal"

// HostIP is host.sim.internal's address (in the benchmarking range, which no
// real network routes).
var HostIP = netip.MustParseAddr("198.18.0.1")

// buildHostNode adds host.sim.internal to the simulated internet when the
// scenario allows host ports. It runs before the DNS servers are built so
// the name resolves.
func (w *World) buildHostNode() error {
	if len(w.sc.AllowHostPorts) == 0 {
		return nil
	}
	h := scenario.Host{Name: HostName, IP: HostIP.String()}
	if err := w.buildHost(h, false); err != nil {
		return err
	}
	w.sc.DNS.Records = append(w.sc.DNS.Records, scenario.DNSRecord{Name: HostName, A: HostIP.String()})
	return nil
}

// openBridges opens the forwards and the host access. Both need realtime.
func (w *World) openBridges() error {
	if len(w.sc.AllowHostPorts) > 0 {
		var ports []uint16
		for _, p := range w.sc.AllowHostPorts {
			ports = append(ports, uint16(p))
		}
		ha, err := netstack.StartHostAccess(netstack.HostAccessConfig{Node: w.hosts[HostName].node, TCPPorts: ports, Trace: w.trace})
		if err != nil {
			return err
		}
		w.onClose(func() { ha.Close() })
		for _, p := range ports {
			w.announcements = append(w.announcements, fmt.Sprintf("boards reach 127.0.0.1:%d as %s:%d", p, HostName, p))
		}
	}
	for i, f := range w.sc.Forwards {
		names, ok := w.sc.InstancesOf(f.Board)
		if !ok {
			return fmt.Errorf("forwards[%d]: unknown board %q", i, f.Board)
		}
		bn := w.byName[names[0]]
		hostAddr, err := netip.ParseAddr(f.HostAddr)
		if err != nil {
			return fmt.Errorf("forwards[%d].host_addr: %w", i, err)
		}
		spec := netstack.ForwardSpec{Proto: string(f.Proto), HostAddr: hostAddr, HostPort: uint16(f.HostPort), Board: bn.inst.Name, BoardPort: uint16(f.BoardPort)}
		// The forwarded connection comes from the router of the access point
		// the board is on, so the board's accept() sees a LAN peer.
		from := w.aps[0].router
		fw, err := netstack.StartForward(netstack.ForwardConfig{
			Spec:  spec,
			From:  from,
			Trace: w.trace,
			Target: func() (netip.Addr, error) {
				ip := bn.station.IPConfig().IP
				if !ip.IsValid() || ip.IsUnspecified() {
					return netip.Addr{}, fmt.Errorf("%s has no address yet", bn.inst.Name)
				}
				return ip, nil
			},
		})
		if err != nil {
			return fmt.Errorf("forwards[%d]: %w", i, err)
		}
		w.onClose(func() { fw.Close() })
		w.announcements = append(w.announcements, fmt.Sprintf("%s → %s:%d", fw.URL(), bn.inst.Name, f.BoardPort))
	}
	return nil
}

// Announcements are lines for the user about the bridges: each forward as a
// clickable URL, each allowed host port.
func (w *World) Announcements() []string { return w.announcements }
