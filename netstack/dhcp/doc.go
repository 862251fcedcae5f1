// Package dhcp is the simulator's DHCPv4 server (the router's and the
// soft-AP's) and the board's DHCP client. Both exchange real messages built
// and parsed with gopacket's layers.DHCPv4 over a gVisor stack, so every
// DISCOVER/OFFER/REQUEST/ACK is a frame on the medium, in the capture and in
// the trace.
//
// Use:
//
//	srv, err := dhcp.NewServer(dhcp.ServerConfig{Stack: s, NIC: 1, ServerIP: gw,
//		Subnet: lan, Router: gw, DNS: []netip.Addr{gw}, PoolStart: a, PoolEnd: b,
//		LeaseTime: time.Hour, Clock: clock, Seed: seed, Trace: log})
//	err = srv.Start(ctx) // … srv.SetSilent(true), srv.SetNAK(true) while running
//	defer srv.Close()
//
//	c, err := dhcp.NewClient(dhcp.ClientConfig{Stack: s, NIC: 1,
//		Hostname: "ESP-A1B2C3", Clock: clock, Seed: seed, OnBound: f, OnLost: g,
//		Addresses: nic}) // nic: the *netstack.NIC, so it answers ARP for the lease
//	err = c.Start(ctx) // … c.Stop() or c.Release()
//
// Both run one goroutine each, registered as an actor of the simulator
// clock: it parks while waiting (for a datagram or for its next timer) and
// is woken by gVisor's waiter callback, so in fast mode time cannot jump
// between a packet's arrival and the answer to it.
//
// How the gVisor stack is used (and why):
//
//   - Receiving: a UDP endpoint bound to 0.0.0.0:67 (server) or :68
//     (client) with SO_BINDTODEVICE set to the NIC. gVisor's IPv4 endpoint
//     owns 255.255.255.255 on every NIC, with or without an address, and
//     accepts source 0.0.0.0, so broadcasts arrive with no extra option.
//   - Sending from 0.0.0.0, or to a client that has no address yet: UDP
//     endpoints cannot (a route needs a local address and an ARP-resolvable
//     neighbour), so the IPv4/UDP headers are built with gopacket and the
//     datagram goes out with Stack.WritePacketToRemote to an explicit MAC
//     (ff:ff:ff:ff:ff:ff, or the client's chaddr). This needs no NIC option
//     and no packet endpoint.
//   - Broadcasting through an endpoint would need SO_BROADCAST
//     (SocketOptions().SetBroadcast(true)); gVisor refuses a write to
//     255.255.255.255 with ErrBroadcastDisabled otherwise. The sockets here
//     set it.
//   - Unicast to a client with an address (renewals) goes through the
//     endpoint and gVisor's ARP as usual.
//   - The client, like lwIP, leaves the broadcast flag clear and must accept
//     an OFFER/ACK unicast to an address it does not have yet. gVisor drops
//     such a packet unless the NIC is promiscuous, so the client switches
//     promiscuous mode on from DISCOVER until it is bound (with no address
//     on the NIC nothing can be answered from it meanwhile).
//
// Once bound, the client announces its address with a gratuitous ARP (as
// lwIP's netif_set_up does) and resolves the server's MAC with ARP: lwIP
// 1.4 learns it from the unicast ACK (ETHARP_TRUST_IP_MAC), which gVisor's
// UDP endpoints cannot see, and renewals and RELEASE are unicast to it. The
// capture therefore shows one ARP exchange a real board would not make.
//
// The server follows RFC 2131 section 4.1 for replies: to ciaddr when the
// client has one, broadcast when the client set the broadcast flag or for a
// NAK, otherwise unicast to yiaddr at chaddr.
package dhcp
