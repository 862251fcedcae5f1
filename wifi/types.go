package wifi

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Security is an access point's authentication mode. The values are the
// ESP8266 SDK's AUTH_MODE numbers, which MicroPython exposes as
// network.AUTH_* / WLAN.SEC_* and returns in scan tuples.
type Security int

const (
	// Open is an open network (AUTH_OPEN 0).
	Open Security = 0
	// WEP is WEP (AUTH_WEP 1).
	WEP Security = 1
	// WPAPSK is WPA-PSK with TKIP (AUTH_WPA_PSK 2).
	WPAPSK Security = 2
	// WPA2PSK is WPA2-PSK with CCMP (AUTH_WPA2_PSK 3).
	WPA2PSK Security = 3
	// WPAWPA2PSK accepts both (AUTH_WPA_WPA2_PSK 4); stations use WPA2.
	WPAWPA2PSK Security = 4
)

var securityNames = [...]string{"open", "wep", "wpa-psk", "wpa2-psk", "wpa/wpa2-psk"}

func (s Security) String() string {
	if s >= 0 && int(s) < len(securityNames) {
		return securityNames[s]
	}
	return fmt.Sprintf("security(%d)", int(s))
}

// Valid reports whether s is one of the five modes.
func (s Security) Valid() bool { return s >= Open && s <= WPAWPA2PSK }

// usesPSK reports whether s runs the WPA 4-way handshake.
func (s Security) usesPSK() bool { return s == WPAPSK || s == WPA2PSK || s == WPAWPA2PSK }

// ParseSecurity reads a security mode as scenario files spell it: "open",
// "wep", "wpa" / "wpa-psk", "wpa2" / "wpa2-psk", "wpa/wpa2" / "wpa-wpa2" /
// "wpa_wpa2_psk" (case-insensitive), or the ESP8266 number "0".."4".
func ParseSecurity(s string) (Security, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.NewReplacer("_", "-", "/", "-", " ", "-").Replace(k)
	switch k {
	case "open", "none", "0":
		return Open, nil
	case "wep", "1":
		return WEP, nil
	case "wpa", "wpa-psk", "2":
		return WPAPSK, nil
	case "wpa2", "wpa2-psk", "3":
		return WPA2PSK, nil
	case "wpa-wpa2", "wpa-wpa2-psk", "wpa2-wpa", "4":
		return WPAWPA2PSK, nil
	}
	return 0, fmt.Errorf("unknown security %q: use open, wep, wpa, wpa2 or wpa/wpa2", s)
}

// Status is a station's connection state, with the ESP8266 SDK's
// station_status_t values that network.WLAN.status() returns.
type Status int

const (
	// StatIdle: not connected and not trying (STATION_IDLE 0).
	StatIdle Status = 0
	// StatConnecting: a join or DHCP is in progress (STATION_CONNECTING 1).
	StatConnecting Status = 1
	// StatWrongPassword: the 4-way handshake failed (STATION_WRONG_PASSWORD 2).
	StatWrongPassword Status = 2
	// StatNoAPFound: no access point with the SSID answered a scan
	// (STATION_NO_AP_FOUND 3).
	StatNoAPFound Status = 3
	// StatConnectFail: authentication or association was refused
	// (STATION_CONNECT_FAIL 4).
	StatConnectFail Status = 4
	// StatGotIP: associated and configured (STATION_GOT_IP 5).
	StatGotIP Status = 5
	// StatInactive is what the SDK's wifi_station_get_connect_status()
	// returns while the station interface is off (0xff).
	StatInactive Status = 255
)

func (s Status) String() string {
	switch s {
	case StatIdle:
		return "STAT_IDLE"
	case StatConnecting:
		return "STAT_CONNECTING"
	case StatWrongPassword:
		return "STAT_WRONG_PASSWORD"
	case StatNoAPFound:
		return "STAT_NO_AP_FOUND"
	case StatConnectFail:
		return "STAT_CONNECT_FAIL"
	case StatGotIP:
		return "STAT_GOT_IP"
	case StatInactive:
		return "inactive"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// IPConfig is an interface's IPv4 configuration, as ifconfig() shows it.
// The zero value prints as 0.0.0.0 everywhere.
type IPConfig struct {
	IP      netip.Addr
	Mask    netip.Addr
	Gateway netip.Addr
	DNS     netip.Addr
}

// IsZero reports whether no address is configured.
func (c IPConfig) IsZero() bool { return !c.IP.IsValid() || c.IP.IsUnspecified() }

func (c IPConfig) String() string {
	return fmt.Sprintf("(%s, %s, %s, %s)", addrOrZero(c.IP), addrOrZero(c.Mask), addrOrZero(c.Gateway), addrOrZero(c.DNS))
}

func addrOrZero(a netip.Addr) string {
	if !a.IsValid() {
		return "0.0.0.0"
	}
	return a.String()
}

// BSS is one scan result, with the fields (and meanings) of the tuple the
// ESP8266 port's WLAN.scan() returns: (ssid, bssid, channel, RSSI,
// security, hidden).
type BSS struct {
	// SSID is empty for a hidden network.
	SSID []byte
	// BSSID is the access point's 6-byte MAC address.
	BSSID net.HardwareAddr
	// Channel is 1..14.
	Channel int
	// RSSI is the received signal strength in dBm.
	RSSI int
	// Security is the authentication mode (AUTH_* number).
	Security Security
	// Hidden reports an access point that does not broadcast its SSID.
	Hidden bool
}

// StationInfo is one station associated with an access point, as the soft-AP
// reports it for status('stations').
type StationInfo struct {
	// Name is the station's board name.
	Name string
	// MAC is the station's MAC address.
	MAC net.HardwareAddr
	// AID is the association ID the access point assigned.
	AID int
}

// Position places a station or an access point on a plane, in metres, for
// signal strength by distance.
type Position struct {
	X, Y float64
}
