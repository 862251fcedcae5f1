package wifi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/netstack"
	"github.com/esp8266sim/esp8266sim/netstack/dhcp"
)

// Interface numbers, as network.STA_IF and network.AP_IF.
const (
	IfSTA = 0
	IfAP  = 1
)

// DefaultSoftAPSubnet is the soft-AP's LAN on an ESP8266: 192.168.4.1/24,
// the board at .1, its DHCP server leasing from .2.
var DefaultSoftAPSubnet = netip.MustParsePrefix("192.168.4.1/24")

// RadioConfig describes one board's WiFi hardware.
type RadioConfig struct {
	// Ctx bounds the soft-AP's DHCP server (the world's lifetime).
	Ctx context.Context
	// Air is the world's radio medium. Required.
	Air *Air
	// Station is the board's station interface. Required.
	Station *Station
	// Node is the board's network node. When set, activating the soft-AP
	// gives the node a second NIC on a LAN of its own (at SoftAPAddr) with a
	// DHCP server, as the SDK does; when nil the soft-AP only exists on the
	// air.
	Node *netstack.Node
	// LANs, when set, learns the soft-AP's LAN so stations can join it.
	LANs *LANs
	// OnSoftAPLAN, when set, is told the soft-AP's LAN when it is created
	// (for a sim layer that keeps its own map of access points to media).
	OnSoftAPLAN func(ap *AccessPoint, lan *netstack.Medium)
	// Trace receives the soft-AP's DHCP server lines.
	Trace *trace.Log
	// Seed is the world's seed.
	Seed uint64
	// SoftAPActive switches the soft-AP on at once (a freshly flashed
	// ESP8266 starts with it on).
	SoftAPActive bool
	// SoftAPAddr is the soft-AP's address and subnet; zero means
	// DefaultSoftAPSubnet.
	SoftAPAddr netip.Prefix
}

// Radio is one board's WiFi hardware: the station interface and the soft-AP
// sharing one radio, with the state the ESP8266 SDK keeps for the network
// module (interface modes, the soft-AP's IP configuration, the DNS server).
// Its methods take and return only standard types so the board package can
// use it through an interface of its own (board/net.WLAN) without importing
// wifi. Methods may be called from any goroutine.
type Radio struct {
	cfg RadioConfig
	sta *Station
	ap  *AccessPoint

	mu sync.Mutex
	// Guarded by mu.
	apActive bool
	apAddr   IPConfig // the soft-AP interface's ifconfig
	apDHCP   bool     // the soft-AP's DHCP server enabled
	apLAN    *netstack.Medium
	apNIC    *netstack.NIC
	apServer *dhcp.Server
	dns      netip.Addr // set by ifconfig/ipconfig(dns=); zero: from the lease
	dnsLease uint64     // the station's lease count when dns was set
}

// NewRadio builds a board's radio around its station and adds its soft-AP
// (SSID MicroPython-xxxxxx, key micropythoN) to the air.
func NewRadio(cfg RadioConfig) (*Radio, error) {
	if cfg.Air == nil || cfg.Station == nil {
		return nil, errors.New("wifi: RadioConfig needs Air and Station")
	}
	if cfg.Ctx == nil {
		cfg.Ctx = context.Background()
	}
	if !cfg.SoftAPAddr.IsValid() {
		cfg.SoftAPAddr = DefaultSoftAPSubnet
	}
	if !cfg.SoftAPAddr.Addr().Is4() {
		return nil, fmt.Errorf("wifi: soft-AP address %v is not IPv4", cfg.SoftAPAddr)
	}
	ap, err := cfg.Air.AddAP(DefaultSoftAP(cfg.Station.Name(), cfg.Station.MAC()))
	if err != nil {
		return nil, fmt.Errorf("soft-AP of %s: %w", cfg.Station.Name(), err)
	}
	r := &Radio{cfg: cfg, sta: cfg.Station, ap: ap, apDHCP: true}
	cfg.Station.SetSoftAP(ap, r.followChannel)
	gw := cfg.SoftAPAddr.Addr()
	r.apAddr = IPConfig{IP: gw, Mask: maskAddr(cfg.SoftAPAddr.Bits()), Gateway: gw}
	if cfg.SoftAPActive {
		if err := r.SetActive(IfAP, true); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// followChannel moves an active soft-AP to the channel the station just
// joined on: the ESP8266 has one radio, so both interfaces share a channel
// (the soft-AP's own stations lose it and must find it again).
func (r *Radio) followChannel(ch int) {
	if !r.Active(IfAP) {
		return
	}
	c := r.ap.Config()
	if c.Channel == ch {
		return
	}
	c.Channel = ch
	r.ap.Reconfigure(c)
}

// SDKHostname is the ESP8266 SDK's own default DHCP hostname, "ESP_"
// followed by the last three bytes of the station MAC in upper-case hex. A
// board that rejoins its network by itself after a reset sends it, since
// MicroPython copies network.hostname() into the SDK only in connect().
func SDKHostname(mac net.HardwareAddr) string {
	if len(mac) < 6 {
		return "ESP_"
	}
	return fmt.Sprintf("ESP_%02X%02X%02X", mac[3], mac[4], mac[5])
}

// Station returns the station interface.
func (r *Radio) Station() *Station { return r.sta }

// SoftAP returns the soft-AP.
func (r *Radio) SoftAP() *AccessPoint { return r.ap }

// Close stops the soft-AP's DHCP server.
func (r *Radio) Close() {
	r.mu.Lock()
	srv := r.apServer
	r.apServer = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Active reports whether interface iface is on (WLAN.active()).
func (r *Radio) Active(iface int) bool {
	if iface == IfAP {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.apActive
	}
	return r.sta.Active()
}

// SetActive switches interface iface on or off (WLAN.active(bool)).
func (r *Radio) SetActive(iface int, on bool) error {
	if iface != IfAP {
		r.sta.SetActive(on)
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.apActive == on {
		return nil
	}
	if on {
		if err := r.startAPNetLocked(); err != nil {
			return err
		}
	}
	r.apActive = on
	r.ap.SetDown(!on)
	return nil
}

// startAPNetLocked builds the soft-AP's LAN, NIC and DHCP server once.
func (r *Radio) startAPNetLocked() error {
	if r.cfg.Node == nil || r.apNIC != nil {
		return nil
	}
	name := r.sta.Name() + "-ap"
	lan, err := netstack.NewMedium(netstack.MediumConfig{Name: name, Clock: r.cfg.Air.clock, Seed: r.cfg.Seed, Trace: r.cfg.Trace})
	if err != nil {
		return fmt.Errorf("soft-AP LAN: %w", err)
	}
	nic, err := r.cfg.Node.AddNIC(lan, netstack.NICConfig{MAC: r.ap.BSSID(), Addr: netip.PrefixFrom(r.apAddr.IP, maskBits(r.apAddr.Mask))})
	if err != nil {
		lan.Close()
		return fmt.Errorf("soft-AP NIC: %w", err)
	}
	r.apLAN, r.apNIC = lan, nic
	if r.cfg.LANs != nil {
		r.cfg.LANs.Set(r.ap, lan)
	}
	if r.cfg.OnSoftAPLAN != nil {
		r.cfg.OnSoftAPLAN(r.ap, lan)
	}
	if r.apDHCP {
		return r.startDHCPServerLocked()
	}
	return nil
}

// startDHCPServerLocked runs the SDK's soft-AP DHCP server: it leases 100
// addresses from the one after the soft-AP's own.
func (r *Radio) startDHCPServerLocked() error {
	if r.apNIC == nil || r.apServer != nil {
		return nil
	}
	ip := r.apAddr.IP
	subnet := netip.PrefixFrom(ip, maskBits(r.apAddr.Mask)).Masked()
	first := ip.Next()
	last := first
	for i := 0; i < 99 && subnet.Contains(last.Next()); i++ {
		last = last.Next()
	}
	name := r.sta.Name() + " dhcps"
	log, clock := r.cfg.Trace, r.cfg.Air.clock
	srv, err := dhcp.NewServer(dhcp.ServerConfig{
		Stack: r.apNIC.Node().Stack(), NIC: r.apNIC.ID(), ServerIP: ip, Subnet: subnet, Router: ip,
		DNS: []netip.Addr{ip}, PoolStart: first, PoolEnd: last,
		LeaseTime: 120 * time.Minute, // the SDK's default lease
		Clock:     clock, Seed: r.cfg.Seed, Name: name,
		Trace: func(s string) {
			if log != nil {
				log.Add(clock.Elapsed(), name, s)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("soft-AP DHCP server: %w", err)
	}
	if err := srv.Start(r.cfg.Ctx); err != nil {
		return fmt.Errorf("soft-AP DHCP server: %w", err)
	}
	r.apServer = srv
	r.ap.SetDHCP(srv)
	return nil
}

// Connect is WLAN.connect(): with set, (ssid, key, bssid) replace the
// remembered network (absent values empty, as the port zeroes the SDK's
// config); without, the remembered one is joined.
func (r *Radio) Connect(set bool, ssid, key string, bssid []byte) error {
	if !set {
		return r.sta.Connect(nil)
	}
	return r.sta.Connect(&JoinConfig{SSID: ssid, Key: key, BSSID: net.HardwareAddr(bssid)})
}

// Disconnect is WLAN.disconnect().
func (r *Radio) Disconnect() { r.sta.Disconnect() }

// Status is the station's SDK status code (WLAN.status()).
func (r *Radio) Status() int { return int(r.sta.Status()) }

// RSSI is status('rssi').
func (r *Radio) RSSI() int { return r.sta.RSSI() }

// IsConnected is WLAN.isconnected(): GOT_IP for the station, at least one
// associated station for the soft-AP.
func (r *Radio) IsConnected(iface int) bool {
	if iface == IfAP {
		return r.Active(IfAP) && len(r.ap.Stations()) > 0
	}
	return r.sta.IsConnected()
}

// Scan is WLAN.scan(): done gets one []any{ssid []byte, bssid []byte,
// channel int, rssi int, authmode int, hidden bool} per access point heard,
// after the scan's simulator time. It fails while the station is off.
func (r *Radio) Scan(done func([][]any)) error {
	return r.sta.StartScan(func(res []BSS) {
		out := make([][]any, 0, len(res))
		for _, b := range res {
			out = append(out, []any{b.SSID, []byte(b.BSSID), b.Channel, b.RSSI, int(b.Security), b.Hidden})
		}
		done(out)
	})
}

// APStations is the soft-AP's status('stations'): one []any{mac []byte,
// ip netip.Addr} per associated station, the address from the soft-AP's
// DHCP server (invalid when it has none).
func (r *Radio) APStations() [][]any {
	r.mu.Lock()
	srv := r.apServer
	r.mu.Unlock()
	var leases []dhcp.LeaseInfo
	if srv != nil {
		leases = srv.Leases()
	}
	var out [][]any
	for _, s := range r.ap.Stations() {
		ip := netip.Addr{}
		for _, l := range leases {
			if strings.EqualFold(l.MAC, s.MAC.String()) && l.Bound {
				ip = l.IP
			}
		}
		out = append(out, []any{[]byte(s.MAC), ip})
	}
	return out
}

// MAC is config('mac') of interface iface.
func (r *Radio) MAC(iface int) []byte {
	if iface == IfAP {
		return []byte(r.ap.BSSID())
	}
	return []byte(r.sta.MAC())
}

// SavedSSID is the station's config('ssid'): the remembered network.
func (r *Radio) SavedSSID() string {
	c, _ := r.sta.Saved()
	return c.SSID
}

// Channel is config('channel'): the radio's channel, the joined access
// point's while the station is associated, else the soft-AP's while it is
// on.
func (r *Radio) Channel() int {
	if _, ok := r.sta.AccessPoint(); ok {
		return r.sta.Channel()
	}
	if r.Active(IfAP) {
		return r.ap.Config().Channel
	}
	return r.sta.Channel()
}

// SetChannel is config(channel=n): it tunes the radio and moves the
// soft-AP to channel n.
func (r *Radio) SetChannel(ch int) error {
	if err := r.sta.SetChannel(ch); err != nil {
		return err
	}
	c := r.ap.Config()
	if c.Channel == ch {
		return nil
	}
	c.Channel = ch
	return r.ap.Reconfigure(c)
}

// APSettings returns the soft-AP's configuration.
func (r *Radio) APSettings() (ssid, key string, authmode, channel int, hidden bool) {
	c := r.ap.Config()
	return c.SSID, c.Passphrase, int(c.Security), c.Channel, c.Hidden
}

// SetAPSettings replaces the soft-AP's configuration (config(ssid=, key=,
// security=, channel=, hidden=)); it fails, as the SDK's
// wifi_softap_set_config does, on settings the soft-AP cannot run (a WPA
// key shorter than 8 characters, WEP, an unknown mode). An open soft-AP
// ignores its key.
func (r *Radio) SetAPSettings(ssid, key string, authmode, channel int, hidden bool) error {
	c := r.ap.Config()
	c.SSID, c.Passphrase, c.Security, c.Channel, c.Hidden = ssid, key, Security(authmode), channel, hidden
	if c.Security == WEP {
		return errors.New("the soft-AP does not support WEP")
	}
	if c.Security == Open {
		c.Passphrase = ""
	}
	return r.ap.Reconfigure(c)
}

// IfConfig is WLAN.ifconfig(): (ip, mask, gateway, dns). The DNS server is
// the radio's one (lwIP's dns_getserver(0)), the same on both interfaces.
func (r *Radio) IfConfig(iface int) [4]netip.Addr {
	var c IPConfig
	if iface == IfAP {
		r.mu.Lock()
		c = r.apAddr
		r.mu.Unlock()
	} else {
		c = r.sta.IPConfig()
	}
	return [4]netip.Addr{zeroIfInvalid(c.IP), zeroIfInvalid(c.Mask), zeroIfInvalid(c.Gateway), r.DNS()}
}

func zeroIfInvalid(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return netip.IPv4Unspecified()
	}
	return a
}

// DNS is network.ipconfig('dns'): lwIP's one DNS server, set last either by
// ifconfig()/ipconfig(dns=) or by a DHCP lease; 0.0.0.0 before either.
func (r *Radio) DNS() netip.Addr {
	r.mu.Lock()
	d, at := r.dns, r.dnsLease
	r.mu.Unlock()
	if d.IsValid() && at == r.sta.Leases() {
		return d
	}
	if c := r.sta.IPConfig(); c.DNS.IsValid() {
		return c.DNS
	}
	return netip.IPv4Unspecified()
}

// SetDNS is network.ipconfig(dns=...).
func (r *Radio) SetDNS(a netip.Addr) {
	n := r.sta.Leases()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dns, r.dnsLease = a, n
}

// SetIfConfig is WLAN.ifconfig((ip, mask, gw, dns)): a static
// configuration. On the station it stops DHCP; on the soft-AP it moves the
// soft-AP's address and restarts its DHCP server on the new subnet.
func (r *Radio) SetIfConfig(iface int, c [4]netip.Addr) error {
	for _, a := range c {
		if !a.Is4() {
			return fmt.Errorf("%v is not an IPv4 address", a)
		}
	}
	cfg := IPConfig{IP: c[0], Mask: c[1], Gateway: c[2], DNS: c[3]}
	r.SetDNS(c[3])
	if iface != IfAP {
		r.sta.SetStatic(cfg)
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.apAddr
	r.apAddr = cfg
	if r.apNIC == nil {
		return nil
	}
	if r.apServer != nil {
		r.apServer.Close()
		r.apServer = nil
		r.ap.SetDHCP(nil)
	}
	r.apNIC.RemoveAddress(old.IP)
	if err := r.apNIC.AddAddress(netip.PrefixFrom(cfg.IP, maskBits(cfg.Mask))); err != nil {
		return err
	}
	if r.apDHCP {
		return r.startDHCPServerLocked()
	}
	return nil
}

// DHCP reports whether interface iface runs DHCP (ipconfig('dhcp4')): the
// station's client or the soft-AP's server.
func (r *Radio) DHCP(iface int) bool {
	if iface == IfAP {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.apDHCP
	}
	return r.sta.DHCPEnabled()
}

// SetDHCP switches the station's DHCP client on (ifconfig('dhcp'),
// ipconfig(dhcp4=True)) or off.
func (r *Radio) SetDHCP(iface int, on bool) {
	if iface == IfAP {
		return
	}
	if on {
		r.sta.UseDHCP()
		return
	}
	r.sta.SetStatic(r.sta.IPConfig())
}

// SetHostname sets the name the station's DHCP client sends.
func (r *Radio) SetHostname(h string) { r.sta.SetHostname(h) }

// PowerOff models the radio losing power in deep sleep: the station drops
// its association without a word to the access point (which sees it gone)
// and does not rejoin; the soft-AP goes off the air. Reset, at the wake
// boot, brings both back as after any reset.
func (r *Radio) PowerOff() {
	r.sta.PowerOff()
	if r.Active(IfAP) {
		r.ap.SetDown(true)
	}
}

// Reset models a hard reset of the board: the station rejoins its
// remembered network if it was on; the soft-AP keeps its mode (both are in
// the SDK's flash) and drops its stations.
func (r *Radio) Reset() {
	r.sta.SetHostname(SDKHostname(r.sta.MAC()))
	r.sta.Reset()
	if r.Active(IfAP) {
		r.ap.SetDown(true)
		r.ap.SetDown(false)
	}
}
