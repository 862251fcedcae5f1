package board

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"sync"
)

// The network module's host side (module _network). The WiFi hardware is a
// WLAN the sim layer puts in Config.Env[WLANKey{}] (wifi.Radio satisfies
// it); the Python side is /lib/network.py, which reproduces the ESP8266
// port's argument handling and error messages (ports/esp8266/network_wlan.c)
// and calls these functions for state.

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
	txpower  float64
	bootAt   int64 // simulator time (ns) of the boot this state belongs to
}

type netStateKey struct{}

// Defaults of the ESP8266 port.
const (
	defaultHostname = "mpy-esp8266" // MICROPY_PY_NETWORK_HOSTNAME_DEFAULT
	hostnameMaxLen  = 32            // MICROPY_PY_NETWORK_HOSTNAME_MAX_LEN
	phyMode11N      = 3             // PHY_MODE_11N, the SDK's default
	sleepModem      = 2             // MODEM_SLEEP_T, the SDK's default
)

// wlanOf returns the board's WLAN and its network state, noticing a hard
// reset since the last call (the radio then rejoins as the SDK does).
func wlanOf(b *Board) (WLAN, *netState, error) {
	w, _ := b.Env(WLANKey{}).(WLAN)
	if w == nil {
		return nil, nil, OSErrorMsg("no WiFi hardware on this board")
	}
	boot := int64(b.clock.Elapsed() - b.Uptime())
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
	st.mu.Unlock()
	if rebooted {
		st.reset()
		w.Reset()
	}
	return w, st, nil
}

func (s *netState) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hostname = defaultHostname
	s.country = "XX"
	s.phyMode = phyMode11N
	s.pm = sleepModem
	s.txpower = 20.5
}

// optArg returns args[i], or nil when absent.
func optArg(args []Value, i int) Value {
	if i < len(args) {
		return args[i]
	}
	return nil
}

func argHex(args []Value, i int) ([]byte, error) {
	s, err := ArgStr(args, i)
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, ValueError("bad hex argument")
	}
	return b, nil
}

func argAddr(args []Value, i int) (netip.Addr, error) {
	s, err := ArgStr(args, i)
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, ValueError("invalid arguments")
	}
	return a, nil
}

func addrStr(a netip.Addr) string {
	if !a.IsValid() {
		return "0.0.0.0"
	}
	return a.String()
}

func init() {
	const m = "_network"
	reg := func(name string, f func(b *Board, w WLAN, st *netState, args []Value) (Value, error)) {
		RegisterFunc(m, name, func(b *Board, args []Value) (Value, error) {
			w, st, err := wlanOf(b)
			if err != nil {
				return nil, err
			}
			return f(b, w, st, args)
		})
	}
	reg("active", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		iface, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		if len(args) < 2 || args[1] == nil {
			return w.Active(iface), nil
		}
		on, err := ArgInt(args, 1)
		if err != nil {
			return nil, err
		}
		if err := w.SetActive(iface, on != 0); err != nil {
			return nil, OSErrorMsg("Cannot update i/f status")
		}
		return nil, nil
	})
	reg("connect", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		set, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		ssid, err := argHex(args, 1)
		if err != nil {
			return nil, err
		}
		key, err := argHex(args, 2)
		if err != nil {
			return nil, err
		}
		bssid, err := argHex(args, 3)
		if err != nil {
			return nil, err
		}
		st.mu.Lock()
		host := st.hostname
		st.mu.Unlock()
		w.SetHostname(host)
		if err := w.Connect(set != 0, string(ssid), string(key), bssid); err != nil {
			return nil, OSErrorMsg("Cannot connect to AP")
		}
		return nil, nil
	})
	reg("disconnect", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		w.Disconnect()
		return nil, nil
	})
	reg("status", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		if err := b.PollYield(); err != nil {
			return nil, err
		}
		return w.Status(), nil
	})
	reg("rssi", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		if err := b.PollYield(); err != nil {
			return nil, err
		}
		return w.RSSI(), nil
	})
	reg("isconnected", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		iface, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		if err := b.PollYield(); err != nil {
			return nil, err
		}
		return w.IsConnected(iface), nil
	})
	reg("scan", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		if !w.Active(0) {
			return nil, OSErrorMsg("STA must be active")
		}
		var (
			mu   sync.Mutex
			res  [][]any
			done bool
		)
		err := w.Scan(func(r [][]any) {
			mu.Lock()
			res, done = r, true
			mu.Unlock()
			b.Wake()
		})
		if err != nil {
			return nil, OSErrorMsg("STA must be active")
		}
		for {
			mu.Lock()
			d := done
			mu.Unlock()
			if d {
				break
			}
			if err := b.Park(-1); err != nil {
				return nil, err
			}
		}
		// One line per access point: ssid bssid channel rssi authmode
		// hidden, binary fields in hex.
		var sb strings.Builder
		for _, e := range res {
			if len(e) != 6 {
				continue
			}
			ssid, _ := e[0].([]byte)
			bssid, _ := e[1].([]byte)
			hidden := 0
			if h, _ := e[5].(bool); h {
				hidden = 1
			}
			fmt.Fprintf(&sb, "%x %x %d %d %d %d\n", ssid, bssid, e[2], e[3], e[4], hidden)
		}
		return sb.String(), nil
	})
	reg("stations", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		var sb strings.Builder
		for _, e := range w.APStations() {
			if len(e) != 2 {
				continue
			}
			mac, _ := e[0].([]byte)
			ip, _ := e[1].(netip.Addr)
			fmt.Fprintf(&sb, "%x %s\n", mac, addrStr(ip))
		}
		return sb.String(), nil
	})
	reg("mac", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		iface, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		return hex.EncodeToString(w.MAC(iface)), nil
	})
	reg("sta_ssid", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		return hex.EncodeToString([]byte(w.SavedSSID())), nil
	})
	reg("ap_config", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		ssid, key, auth, ch, hidden := w.APSettings()
		h := 0
		if hidden {
			h = 1
		}
		return fmt.Sprintf("%x %x %d %d %d", ssid, key, auth, ch, h), nil
	})
	reg("set_ap_config", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		ssid, err := argHex(args, 0)
		if err != nil {
			return nil, err
		}
		key, err := argHex(args, 1)
		if err != nil {
			return nil, err
		}
		var n [3]int
		for i := range n {
			if n[i], err = ArgInt(args, 2+i); err != nil {
				return nil, err
			}
		}
		if err := w.SetAPSettings(string(ssid), string(key), n[0], n[1], n[2] != 0); err != nil {
			return nil, OSErrorMsg("can't set AP config")
		}
		return nil, nil
	})
	reg("channel", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		if optArg(args, 0) == nil {
			return w.Channel(), nil
		}
		ch, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		if err := w.SetChannel(ch); err != nil {
			return nil, OSErrorMsg("can't set channel")
		}
		return nil, nil
	})
	reg("ifconfig", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		iface, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		c := w.IfConfig(iface)
		return fmt.Sprintf("%s %s %s %s", addrStr(c[0]), addrStr(c[1]), addrStr(c[2]), addrStr(c[3])), nil
	})
	reg("set_ifconfig", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		iface, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		var c [4]netip.Addr
		for i := range c {
			if c[i], err = argAddr(args, 1+i); err != nil {
				return nil, err
			}
		}
		if err := w.SetIfConfig(iface, c); err != nil {
			return nil, OSErrorMsg("wifi_set_ip_info() failed")
		}
		return nil, nil
	})
	reg("dhcp", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		iface, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		if optArg(args, 1) == nil {
			return w.DHCP(iface), nil
		}
		on, err := ArgInt(args, 1)
		if err != nil {
			return nil, err
		}
		w.SetDHCP(iface, on != 0)
		return nil, nil
	})
	reg("dns", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		if optArg(args, 0) == nil {
			return addrStr(w.DNS()), nil
		}
		a, err := argAddr(args, 0)
		if err != nil {
			return nil, ValueError("invalid arguments as dns server")
		}
		w.SetDNS(a)
		return nil, nil
	})
	reg("hostname", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		st.mu.Lock()
		defer st.mu.Unlock()
		if optArg(args, 0) == nil {
			return st.hostname, nil
		}
		h, err := ArgStr(args, 0)
		if err != nil {
			return nil, err
		}
		if len(h) > hostnameMaxLen {
			return nil, &PyError{Type: "ValueError"}
		}
		st.hostname = h
		return nil, nil
	})
	reg("country", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		st.mu.Lock()
		defer st.mu.Unlock()
		if optArg(args, 0) == nil {
			return st.country, nil
		}
		c, err := ArgStr(args, 0)
		if err != nil {
			return nil, err
		}
		if len(c) != 2 {
			return nil, &PyError{Type: "ValueError"}
		}
		st.country = c
		return nil, nil
	})
	// Settings the simulated radio only stores: phy mode, power management,
	// transmit power.
	for _, name := range []string{"phy_mode", "pm"} {
		name := name
		reg(name, func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
			st.mu.Lock()
			defer st.mu.Unlock()
			p := &st.phyMode
			if name == "pm" {
				p = &st.pm
			}
			if optArg(args, 0) == nil {
				return *p, nil
			}
			v, err := ArgInt(args, 0)
			if err != nil {
				return nil, err
			}
			*p = v
			return nil, nil
		})
	}
	reg("txpower", func(b *Board, w WLAN, st *netState, args []Value) (Value, error) {
		v, err := ArgFloat(args, 0)
		if err != nil {
			return nil, err
		}
		st.mu.Lock()
		st.txpower = float64(int8(v*4)) / 4
		st.mu.Unlock()
		return nil, nil
	})
}
