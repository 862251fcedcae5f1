package net

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/esp8266sim/esp8266sim/board/hostabi"
)

// The network module's host side (module _network). The WiFi hardware is a
// WLAN the sim layer puts in Config.Env[WLANKey{}] (wifi.Radio satisfies
// it). /lib/network.py is a thin shim: every WLAN method and module function
// arrives here as (iface, number of positional args, positional args...,
// keyword name, value, ...), and this file reproduces the ESP8266 port's
// argument handling and error messages (ports/esp8266/network_wlan.c,
// extmod/modnetwork.c at v1.27.0). Bytes, tuples and lists cross as tagged
// strings (see network.py).

// WLANKey is the Config.Env key of a board's WLAN.
type WLANKey struct{}

// WLAN is a board's WiFi hardware, the ESP8266's station (iface 0) and
// soft-AP (iface 1) interfaces, as the network module drives them. Its
// methods use standard types only, so the wifi package's Radio satisfies it
// without either package importing the other.
type WLAN interface {
	// Active reports whether interface iface is on.
	Active(iface int) bool
	// SetActive switches interface iface on or off.
	SetActive(iface int, on bool) error
	// Connect starts joining a network; with set, (ssid, key, bssid)
	// replace the remembered one first. It fails when the station is off.
	Connect(set bool, ssid, key string, bssid []byte) error
	// Disconnect leaves the network and stops reconnecting.
	Disconnect()
	// Status is the station's SDK status code (STAT_*, 255 while off).
	Status() int
	// RSSI is the signal of the joined access point, 31 when none.
	RSSI() int
	// IsConnected is isconnected() of interface iface.
	IsConnected(iface int) bool
	// Scan scans and calls done (on any goroutine) with one
	// []any{ssid []byte, bssid []byte, channel int, rssi int, authmode int,
	// hidden bool} per access point. It fails when the station is off.
	Scan(done func([][]any)) error
	// APStations lists the soft-AP's stations as []any{mac []byte, ip
	// netip.Addr}.
	APStations() [][]any
	// MAC is interface iface's MAC address.
	MAC(iface int) []byte
	// SavedSSID is the station's remembered network.
	SavedSSID() string
	// Channel is the radio's channel; SetChannel tunes it.
	Channel() int
	SetChannel(ch int) error
	// APSettings and SetAPSettings read and replace the soft-AP's
	// configuration; SetAPSettings fails on settings the SDK refuses.
	APSettings() (ssid, key string, authmode, channel int, hidden bool)
	SetAPSettings(ssid, key string, authmode, channel int, hidden bool) error
	// IfConfig is (ip, mask, gateway, dns) of interface iface;
	// SetIfConfig sets it statically (stopping the station's DHCP client).
	IfConfig(iface int) [4]netip.Addr
	SetIfConfig(iface int, c [4]netip.Addr) error
	// DHCP reports whether interface iface runs DHCP; SetDHCP switches the
	// station's client.
	DHCP(iface int) bool
	SetDHCP(iface int, on bool)
	// DNS and SetDNS are lwIP's DNS server (dns_getserver(0)).
	DNS() netip.Addr
	SetDNS(a netip.Addr)
	// SetHostname sets the name the station's DHCP client sends.
	SetHostname(h string)
	// Reset models a hard reset of the board's radio.
	Reset()
}

// netState is the network module's per-board state that lives in RAM on
// the real board (it survives a soft reset, not a hard one).
type netState struct {
	mu       sync.Mutex
	hostname string
	country  string
	phyMode  int
	pm       int
	bootAt   int64 // simulator time (ns) of the boot this state belongs to
	woke     bool  // the radio was reset at a deep-sleep wake (hwsleep.go)
}

type netStateKey struct{}

// Defaults of the ESP8266 port.
const (
	defaultHostname = "mpy-esp8266" // MICROPY_PY_NETWORK_HOSTNAME_DEFAULT
	hostnameMaxLen  = 32            // MICROPY_PY_NETWORK_HOSTNAME_MAX_LEN
	phyMode11N      = 3             // PHY_MODE_11N, the SDK's default
	sleepModem      = 2             // MODEM_SLEEP_T, the SDK's default
	staIF, apIF     = 0, 1
)

func (s *netState) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hostname, s.country, s.phyMode, s.pm = defaultHostname, "XX", phyMode11N, sleepModem
}

// wlanOf returns the board's WLAN and its network state, noticing a hard
// reset since the last call (the radio then rejoins as the SDK does).
func wlanOf(b hostabi.Host) (WLAN, *netState, error) {
	w, _ := b.Env(WLANKey{}).(WLAN)
	if w == nil {
		return nil, nil, hostabi.OSErrorMsg("no WiFi hardware on this board")
	}
	// Read bootAt itself: Elapsed()-Uptime() reads a realtime clock twice.
	boot := int64(b.BootTime())
	st, _ := b.Value(netStateKey{}).(*netState)
	if st == nil {
		st = &netState{bootAt: boot}
		st.reset()
		b.SetValue(netStateKey{}, st)
		return w, st, nil
	}
	st.mu.Lock()
	rebooted := st.bootAt != boot
	st.bootAt = boot
	woke := st.woke
	st.woke = false
	st.mu.Unlock()
	if rebooted {
		st.reset()
		if !woke {
			w.Reset()
		}
	}
	return w, st, nil
}

// netCall is one call from network.py, decoded.
type netCall struct {
	b     hostabi.Host
	w     WLAN
	st    *netState
	iface int
	pos   []hostabi.Value
	kw    []kwArg
	// plain asks for a result without tags (ifconfig's polling fast path).
	plain bool
}

type kwArg struct {
	key string
	val hostabi.Value
}

// Tags of values that network.py encodes as strings.
const (
	tagBytes = "\x01"
	tagTuple = "\x02"
	tagList  = "\x03"
	tagInt   = "\x04"
	tagOther = "\x05"
)

func decodeCall(b hostabi.Host, args []hostabi.Value) (*netCall, error) {
	w, st, err := wlanOf(b)
	if err != nil {
		return nil, err
	}
	c, err := splitArgs(args)
	if err != nil {
		return nil, err
	}
	c.b, c.w, c.st = b, w, st
	return c, nil
}

// splitArgs decodes (iface, npos, positional..., key, value, ...).
func splitArgs(args []hostabi.Value) (*netCall, error) {
	iface, err := hostabi.ArgInt(args, 0)
	if err != nil {
		return nil, err
	}
	n, err := hostabi.ArgInt(args, 1)
	if err != nil {
		return nil, err
	}
	if n == -1 && len(args) == 2 {
		// network.py's fast path: no arguments, plain result.
		return &netCall{iface: iface, plain: true}, nil
	}
	rest := args[2:]
	if n < 0 || n > len(rest) || (len(rest)-n)%2 != 0 {
		return nil, hostabi.TypeError("bad call")
	}
	c := &netCall{iface: iface, pos: rest[:n]}
	for i := n; i+1 < len(rest); i += 2 {
		k, _ := rest[i].(string)
		c.kw = append(c.kw, kwArg{k, rest[i+1]})
	}
	return c, nil
}

// nargs checks a function taking min..max positional arguments (self
// counted, as the port's MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN does) and no
// keywords.
func (c *netCall) nargs(min, max int, self bool) error {
	n := len(c.pos)
	if self {
		n++
	}
	if len(c.kw) > 0 {
		return hostabi.TypeError("function doesn't take keyword arguments")
	}
	if min == max && n != min {
		return hostabi.TypeError(fmt.Sprintf("function takes %d positional arguments but %d were given", min, n))
	}
	if n < min {
		return hostabi.TypeError(fmt.Sprintf("function missing %d required positional arguments", min-n))
	}
	if n > max {
		return hostabi.TypeError(fmt.Sprintf("function expected at most %d arguments, got %d", max, n))
	}
	return nil
}

// requireIf is the port's require_if: OSError("STA required"/"AP required").
func (c *netCall) requireIf(want int) error {
	if c.iface != want {
		if want == staIF {
			return hostabi.OSErrorMsg("STA required")
		}
		return hostabi.OSErrorMsg("AP required")
	}
	return nil
}

// typeName is the Python type name of a value from network.py.
func typeName(v hostabi.Value) string {
	if s, ok := v.(string); ok {
		switch {
		case strings.HasPrefix(s, tagBytes):
			return "bytes"
		case strings.HasPrefix(s, tagTuple):
			return "tuple"
		}
		return "str"
	}
	return hostabi.TypeName(v)
}

// strData is mp_obj_str_get_data: the bytes of a str or bytes.
func strData(v hostabi.Value) (string, error) {
	s, ok := v.(string)
	if !ok || strings.HasPrefix(s, tagTuple) {
		return "", hostabi.TypeError(fmt.Sprintf("can't convert '%s' object to str implicitly", typeName(v)))
	}
	if strings.HasPrefix(s, tagBytes) {
		b, err := hex.DecodeString(s[1:])
		if err != nil {
			return "", hostabi.TypeError("bad bytes")
		}
		return string(b), nil
	}
	return s, nil
}

// qstrOf is mp_obj_str_get_qstr: a str only.
func qstrOf(v hostabi.Value) (string, error) {
	if typeName(v) != "str" {
		return "", hostabi.TypeError(fmt.Sprintf("can't convert '%s' object to str implicitly", typeName(v)))
	}
	return v.(string), nil
}

// intOf is mp_obj_get_int.
func intOf(v hostabi.Value) (int, error) {
	switch x := v.(type) {
	case int64:
		return int(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, hostabi.TypeError(fmt.Sprintf("can't convert %s to int", typeName(v)))
}

// floatOf is mp_obj_get_float.
func floatOf(v hostabi.Value) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, hostabi.TypeError(fmt.Sprintf("can't convert %s to float", typeName(v)))
}

// truthy is mp_obj_is_true.
func truthy(v hostabi.Value) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return len(x) > 1 || len(x) == 1 && x != tagBytes && x != tagTuple
	}
	return true
}

// items is mp_obj_get_array_fixed_n for a tuple or list of n items.
func items(v hostabi.Value, n int) ([]string, error) {
	s, ok := v.(string)
	if !ok || !strings.HasPrefix(s, tagTuple) {
		return nil, hostabi.TypeError(fmt.Sprintf("object '%s' isn't a tuple or list", typeName(v)))
	}
	var out []string
	if len(s) > 1 {
		out = strings.Split(s[1:], "\x1e")
	}
	if len(out) != n {
		return nil, hostabi.ValueError(fmt.Sprintf("requested length %d but object has length %d", n, len(out)))
	}
	return out, nil
}

// parseIPv4 is netutils_parse_ipv4_addr: digits and dots, four parts, each
// taken modulo 256; anything after the address is ignored; "" is 0.0.0.0.
func parseIPv4(v hostabi.Value) (netip.Addr, error) {
	s, err := strData(v)
	if err != nil {
		return netip.Addr{}, err
	}
	if s == "" {
		return netip.IPv4Unspecified(), nil
	}
	end := 0
	for end < len(s) && (s[end] == '.' || s[end] >= '0' && s[end] <= '9') {
		end++
	}
	parts := strings.Split(s[:end], ".")
	if len(parts) != 4 {
		return netip.Addr{}, hostabi.ValueError("invalid arguments")
	}
	var a [4]byte
	for i, p := range parts {
		var n uint32
		for _, ch := range []byte(p) {
			n = n*10 + uint32(ch-'0')
		}
		a[i] = byte(n)
	}
	return netip.AddrFrom4(a), nil
}

// item decodes an element of a tuple (strings stay strings, "\x04n" is an
// int).
func item(s string) hostabi.Value {
	if strings.HasPrefix(s, tagInt) {
		n, _ := strconv.ParseInt(s[1:], 10, 64)
		return n
	}
	if strings.HasPrefix(s, tagOther) {
		return hostabi.PyObject{}
	}
	return s
}

func maskOf(bits int) netip.Addr {
	var m uint32
	if bits > 0 {
		m = 0xffffffff << (32 - min(bits, 32))
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
}

// Encoders for results.
func encBytes(b []byte) string { return tagBytes + hex.EncodeToString(b) }

func encTuple(vs ...string) string { return tagTuple + strings.Join(vs, "\x1e") }

func encInt(n int) string { return tagInt + strconv.Itoa(n) }

func encList(vs []string) string { return tagList + strings.Join(vs, "\x1d") }

func addrStr(a netip.Addr) string {
	if !a.IsValid() {
		return "0.0.0.0"
	}
	return a.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func init() {
	for name, f := range map[string]func(c *netCall) (hostabi.Value, error){
		"wlan":         netWLAN,
		"active":       netActive,
		"connect":      netConnect,
		"disconnect":   netDisconnect,
		"status":       netStatus,
		"scan":         netScan,
		"isconnected":  netIsConnected,
		"ifconfig":     netIfconfig,
		"ipconfig":     netIpconfig,
		"config":       netConfig,
		"hostname":     netHostname,
		"country":      netCountry,
		"phy_mode":     netPhyMode,
		"net_ipconfig": netModIpconfig,
	} {
		f := f
		hostabi.RegisterFunc("_network", name, func(b hostabi.Host, args []hostabi.Value) (hostabi.Value, error) {
			c, err := decodeCall(b, args)
			if err != nil {
				return nil, err
			}
			return f(c)
		})
	}
}

// WLAN(interface_id=0)
func netWLAN(c *netCall) (hostabi.Value, error) {
	if err := c.nargs(0, 1, false); err != nil {
		return nil, err
	}
	if len(c.pos) == 0 {
		return staIF, nil
	}
	i, err := intOf(c.pos[0])
	if err != nil {
		return nil, err
	}
	// The port bounds-checks against sizeof(wlan_objs) (bytes, not
	// entries), so 2..15 read past the table on a real board; the
	// simulator refuses them like the out-of-range values.
	if i != staIF && i != apIF {
		return nil, &hostabi.PyError{Type: "ValueError"}
	}
	return i, nil
}

func netActive(c *netCall) (hostabi.Value, error) {
	if err := c.nargs(1, 2, true); err != nil {
		return nil, err
	}
	if len(c.pos) == 0 {
		if err := c.b.PollYield(); err != nil {
			return nil, err
		}
		return c.w.Active(c.iface), nil
	}
	on, err := intOf(c.pos[0])
	if err != nil {
		return nil, err
	}
	if err := c.w.SetActive(c.iface, on != 0); err != nil {
		return nil, hostabi.OSErrorMsg("Cannot update i/f status")
	}
	return nil, nil
}

// connect(ssid=None, key=None, *, bssid=None)
func netConnect(c *netCall) (hostabi.Value, error) {
	if len(c.pos) > 2 {
		return nil, hostabi.TypeError("extra positional arguments given")
	}
	var ssid, key, bssid hostabi.Value
	if len(c.pos) > 0 {
		ssid = c.pos[0]
	}
	if len(c.pos) > 1 {
		key = c.pos[1]
	}
	for _, kv := range c.kw {
		if kv.key != "bssid" {
			return nil, hostabi.TypeError(fmt.Sprintf("unexpected keyword argument '%s'", kv.key))
		}
		bssid = kv.val
	}
	if err := c.requireIf(staIF); err != nil {
		return nil, err
	}
	set := false
	var s, k, bs string
	var err error
	if ssid != nil {
		if s, err = strData(ssid); err != nil {
			return nil, err
		}
		s = s[:min(len(s), 32)]
		set = true
	}
	if key != nil {
		if k, err = strData(key); err != nil {
			return nil, err
		}
		k = k[:min(len(k), 64)]
		set = true
	}
	if bssid != nil {
		if bs, err = strData(bssid); err != nil {
			return nil, err
		}
		if len(bs) != 6 {
			return nil, &hostabi.PyError{Type: "ValueError"}
		}
		set = true
	}
	c.st.mu.Lock()
	host := c.st.hostname
	c.st.mu.Unlock()
	c.w.SetHostname(host)
	if err := c.w.Connect(set, s, k, []byte(bs)); err != nil {
		return nil, hostabi.OSErrorMsg("Cannot connect to AP")
	}
	return nil, nil
}

func netDisconnect(c *netCall) (hostabi.Value, error) {
	if err := c.nargs(1, 1, true); err != nil {
		return nil, err
	}
	if err := c.requireIf(staIF); err != nil {
		return nil, err
	}
	c.w.Disconnect()
	return nil, nil
}

func netStatus(c *netCall) (hostabi.Value, error) {
	if err := c.nargs(1, 2, true); err != nil {
		return nil, err
	}
	if err := c.b.PollYield(); err != nil {
		return nil, err
	}
	if len(c.pos) == 0 {
		if c.iface == staIF {
			return c.w.Status(), nil
		}
		return -1, nil
	}
	p, err := qstrOf(c.pos[0])
	if err != nil {
		return nil, err
	}
	switch {
	case p == "rssi" && c.iface == staIF:
		return c.w.RSSI(), nil
	case p == "stations" && c.iface == apIF:
		var out []string
		for _, e := range c.w.APStations() {
			if len(e) != 2 {
				continue
			}
			mac, _ := e[0].([]byte)
			ip, _ := e[1].(netip.Addr)
			out = append(out, encTuple(encBytes(mac), addrStr(ip)))
		}
		return encList(out), nil
	}
	return nil, hostabi.ValueError("unknown status param")
}

func netScan(c *netCall) (hostabi.Value, error) {
	if err := c.nargs(1, 1, true); err != nil {
		return nil, err
	}
	if err := c.requireIf(staIF); err != nil {
		return nil, err
	}
	if !c.w.Active(staIF) {
		return nil, hostabi.OSErrorMsg("STA must be active")
	}
	var (
		mu   sync.Mutex
		res  [][]any
		done bool
	)
	err := c.w.Scan(func(r [][]any) {
		mu.Lock()
		res, done = r, true
		mu.Unlock()
		c.b.Wake()
	})
	if err != nil {
		return nil, hostabi.OSErrorMsg("STA must be active")
	}
	for {
		mu.Lock()
		d := done
		mu.Unlock()
		if d {
			break
		}
		if err := c.b.Park(-1); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, e := range res {
		if len(e) != 6 {
			continue
		}
		ssid, _ := e[0].([]byte)
		bssid, _ := e[1].([]byte)
		ch, _ := e[2].(int)
		rssi, _ := e[3].(int)
		auth, _ := e[4].(int)
		hidden, _ := e[5].(bool)
		out = append(out, encTuple(encBytes(ssid), encBytes(bssid), encInt(ch), encInt(rssi), encInt(auth), encInt(boolInt(hidden))))
	}
	return encList(out), nil
}

func netIsConnected(c *netCall) (hostabi.Value, error) {
	if err := c.nargs(1, 1, true); err != nil {
		return nil, err
	}
	if err := c.b.PollYield(); err != nil {
		return nil, err
	}
	return c.w.IsConnected(c.iface), nil
}

func ifTuple(c [4]netip.Addr) string {
	return encTuple(addrStr(c[0]), addrStr(c[1]), addrStr(c[2]), addrStr(c[3]))
}

func netIfconfig(c *netCall) (hostabi.Value, error) {
	if err := c.nargs(1, 2, true); err != nil {
		return nil, err
	}
	if len(c.pos) == 0 {
		if err := c.b.PollYield(); err != nil {
			return nil, err
		}
		a := c.w.IfConfig(c.iface)
		if c.plain {
			return addrStr(a[0]) + " " + addrStr(a[1]) + " " + addrStr(a[2]) + " " + addrStr(a[3]), nil
		}
		return ifTuple(a), nil
	}
	if s, ok := c.pos[0].(string); ok && s == "dhcp" {
		if err := c.requireIf(staIF); err != nil {
			return nil, err
		}
		c.w.SetDHCP(staIF, true)
		return nil, nil
	}
	its, err := items(c.pos[0], 4)
	if err != nil {
		return nil, err
	}
	var cfg [4]netip.Addr
	for i, s := range its {
		v := item(s)
		if i == 1 {
			if n, ok := v.(int64); ok {
				cfg[1] = maskOf(int(n))
				continue
			}
		}
		if cfg[i], err = parseIPv4(v); err != nil {
			return nil, err
		}
	}
	if err := c.w.SetIfConfig(c.iface, cfg); err != nil {
		return nil, hostabi.OSErrorMsg("wifi_set_ip_info() failed")
	}
	return nil, nil
}

// WLAN.ipconfig('dhcp4'|'addr4'|'gw4') and ipconfig(dhcp4=, addr4=, gw4=)
func netIpconfig(c *netCall) (hostabi.Value, error) {
	cur := c.w.IfConfig(c.iface)
	if len(c.kw) == 0 {
		if len(c.pos) != 1 {
			return nil, hostabi.TypeError("must query one param")
		}
		k, err := qstrOf(c.pos[0])
		if err != nil {
			return nil, err
		}
		switch k {
		case "dhcp4":
			return c.w.DHCP(c.iface), nil
		case "addr4":
			return encTuple(addrStr(cur[0]), addrStr(cur[1])), nil
		case "gw4":
			return addrStr(cur[2]), nil
		}
		return nil, hostabi.ValueError("unexpected key")
	}
	if len(c.pos) != 0 {
		return nil, hostabi.TypeError("can't specify pos and kw args")
	}
	touched := false
	for _, kv := range c.kw {
		switch kv.key {
		case "dhcp4":
			if c.iface != staIF {
				return nil, hostabi.ValueError("unexpected key")
			}
			if on := truthy(kv.val); on != c.w.DHCP(staIF) {
				c.w.SetDHCP(staIF, on)
			}
		case "addr4":
			if s, ok := kv.val.(string); ok && typeName(s) == "str" {
				addr, bits, found := strings.Cut(s, "/")
				if found {
					n, err := strconv.Atoi(bits)
					if err != nil {
						return nil, hostabi.ValueError(fmt.Sprintf("invalid syntax for integer with base 10: '%s'", bits))
					}
					cur[1] = maskOf(n)
				}
				a, err := parseIPv4(addr)
				if err != nil {
					return nil, err
				}
				cur[0] = a
			} else if kv.val != nil {
				its, err := items(kv.val, 2)
				if err != nil {
					return nil, err
				}
				for i := range its {
					if cur[i], err = parseIPv4(item(its[i])); err != nil {
						return nil, err
					}
				}
			}
			touched = true
		case "gw4":
			a, err := parseIPv4(kv.val)
			if err != nil {
				return nil, err
			}
			cur[2] = a
			touched = true
		default:
			return nil, hostabi.ValueError("unexpected key")
		}
	}
	if touched || c.iface == apIF {
		if err := c.w.SetIfConfig(c.iface, cur); err != nil {
			return nil, hostabi.OSErrorMsg("wifi_set_ip_info() failed")
		}
	}
	return nil, nil
}

// network.ipconfig('dns') and ipconfig(dns=...)
func netModIpconfig(c *netCall) (hostabi.Value, error) {
	if len(c.kw) == 0 {
		if len(c.pos) != 1 {
			return nil, hostabi.TypeError("must query one param")
		}
		k, err := qstrOf(c.pos[0])
		if err != nil {
			return nil, err
		}
		if k == "dns" {
			return addrStr(c.w.DNS()), nil
		}
		return nil, hostabi.ValueError("unexpected key")
	}
	if len(c.pos) != 0 {
		return nil, hostabi.TypeError("can't specify pos and kw args")
	}
	for _, kv := range c.kw {
		if kv.key != "dns" {
			return nil, hostabi.ValueError("unexpected key")
		}
		s, err := strData(kv.val)
		if err != nil {
			return nil, err
		}
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return nil, hostabi.ValueError("invalid arguments as dns server")
		}
		c.w.SetDNS(a)
	}
	return nil, nil
}

func netConfig(c *netCall) (hostabi.Value, error) {
	if len(c.pos) != 0 && len(c.kw) != 0 {
		return nil, hostabi.TypeError("either pos or kw args are allowed")
	}
	if len(c.kw) != 0 {
		return c.configSet()
	}
	if len(c.pos) != 1 {
		return nil, hostabi.TypeError("can query only one param")
	}
	key, err := qstrOf(c.pos[0])
	if err != nil {
		return nil, err
	}
	req := -1
	var val hostabi.Value
	ssid, _, auth, _, hidden := c.w.APSettings()
	switch key {
	case "mac":
		return encBytes(c.w.MAC(c.iface)), nil
	case "ssid", "essid":
		if c.iface == staIF {
			s := c.w.SavedSSID()
			if i := strings.IndexByte(s, 0); i >= 0 {
				s = s[:i]
			}
			val = s
		} else {
			val = ssid
		}
	case "hidden":
		req, val = apIF, hidden
	case "security", "authmode":
		req, val = apIF, auth
	case "channel":
		val = c.w.Channel()
	case "hostname", "dhcp_hostname":
		c.st.mu.Lock()
		req, val = staIF, c.st.hostname
		c.st.mu.Unlock()
	case "protocol":
		c.st.mu.Lock()
		val = c.st.phyMode
		c.st.mu.Unlock()
	case "pm":
		c.st.mu.Lock()
		val = c.st.pm
		c.st.mu.Unlock()
	default:
		return nil, hostabi.ValueError("unknown config param")
	}
	if req >= 0 {
		if err := c.requireIf(req); err != nil {
			return nil, err
		}
	}
	return val, nil
}

func (c *netCall) configSet() (hostabi.Value, error) {
	req := -1
	ssid, key, auth, ch, hidden := c.w.APSettings()
	apTouched := false
	for _, kv := range c.kw {
		switch kv.key {
		case "mac":
			s, err := strData(kv.val)
			if err != nil {
				return nil, hostabi.TypeError("object with buffer protocol required")
			}
			if len(s) != 6 {
				return nil, hostabi.ValueError("invalid buffer length")
			}
			// The simulated radio keeps its MAC (the NIC's address is fixed
			// when the world is built).
		case "ssid", "essid":
			s, err := strData(kv.val)
			if err != nil {
				return nil, err
			}
			req, ssid, apTouched = apIF, s[:min(len(s), 32)], true
		case "hidden":
			req, hidden, apTouched = apIF, truthy(kv.val), true
		case "security", "authmode":
			n, err := intOf(kv.val)
			if err != nil {
				return nil, err
			}
			req, auth, apTouched = apIF, n, true
		case "key", "password":
			s, err := strData(kv.val)
			if err != nil {
				return nil, err
			}
			req, key, apTouched = apIF, s[:min(len(s), 63)], true
		case "channel":
			n, err := intOf(kv.val)
			if err != nil {
				return nil, err
			}
			ch = n
			if err := c.w.SetChannel(n); err != nil {
				return nil, hostabi.OSErrorMsg("can't set channel")
			}
		case "hostname", "dhcp_hostname":
			if _, err := netHostname(c.setting(kv.val)); err != nil {
				return nil, err
			}
		case "protocol":
			if _, err := netPhyMode(c.setting(kv.val)); err != nil {
				return nil, err
			}
		case "txpower":
			if _, err := floatOf(kv.val); err != nil {
				return nil, err
			}
		case "pm":
			if _, err := netSetting(c.setting(kv.val), &c.st.pm, intOf); err != nil {
				return nil, err
			}
		default:
			return nil, hostabi.ValueError("unknown config param")
		}
	}
	if req >= 0 {
		if err := c.requireIf(req); err != nil {
			return nil, err
		}
	}
	if c.iface == apIF && apTouched {
		if err := c.w.SetAPSettings(ssid, key, auth, ch, hidden); err != nil {
			return nil, hostabi.OSErrorMsg("can't set AP config")
		}
	}
	return nil, nil
}

// netSetting is network.X([value]): with no argument the setting, with one
// the value parse accepts stored in it (under the state's lock).
func netSetting[T any](c *netCall, field *T, parse func(hostabi.Value) (T, error)) (hostabi.Value, error) {
	if err := c.nargs(0, 1, false); err != nil {
		return nil, err
	}
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	if len(c.pos) == 0 {
		return *field, nil
	}
	v, err := parse(c.pos[0])
	if err != nil {
		return nil, err
	}
	*field = v
	return nil, nil
}

// setting is the one-argument call of a module-level setting that
// config(key=v) sets (hostname, phy_mode, pm).
func (c *netCall) setting(v hostabi.Value) *netCall {
	return &netCall{b: c.b, w: c.w, st: c.st, iface: -1, pos: []hostabi.Value{v}}
}

// strOfLen is strData limited to lengths ok accepts (ValueError otherwise).
func strOfLen(ok func(int) bool) func(hostabi.Value) (string, error) {
	return func(v hostabi.Value) (string, error) {
		s, err := strData(v)
		if err != nil {
			return "", err
		}
		if !ok(len(s)) {
			return "", &hostabi.PyError{Type: "ValueError"}
		}
		return s, nil
	}
}

// network.hostname([name])
func netHostname(c *netCall) (hostabi.Value, error) {
	return netSetting(c, &c.st.hostname, strOfLen(func(n int) bool { return n <= hostnameMaxLen }))
}

// network.country([code])
func netCountry(c *netCall) (hostabi.Value, error) {
	return netSetting(c, &c.st.country, strOfLen(func(n int) bool { return n == 2 }))
}

// network.phy_mode([mode])
func netPhyMode(c *netCall) (hostabi.Value, error) {
	return netSetting(c, &c.st.phyMode, intOf)
}

// radioPower is the WLAN's radio switch for deep sleep (wifi.Radio).
type radioPower interface{ PowerOff() }

// RadioOff powers the board's radio off for deep sleep (the access point
// sees the station go) and returns what the wake boot does: the SDK rejoins
// the saved network at once, whether or not the script touches the network
// module.
func RadioOff(b hostabi.Host) (wake func()) {
	w, _ := b.Env(WLANKey{}).(WLAN)
	if p, ok := w.(radioPower); ok {
		p.PowerOff()
	}
	return func() {
		if w == nil {
			return
		}
		w.Reset()
		if st, _ := b.Value(netStateKey{}).(*netState); st != nil {
			st.mu.Lock()
			st.woke = true
			st.mu.Unlock()
		}
	}
}
