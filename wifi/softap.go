package wifi

import (
	"fmt"
	"net"
)

// Soft-AP defaults of the ESP8266 port (ports/esp8266/modules/inisetup.py
// and the SDK).
const (
	// SoftAPKey is the passphrase inisetup.py gives the soft-AP on first boot.
	SoftAPKey = "micropythoN"
	// SoftAPMaxStations is the SDK's default soft-AP max_connection.
	SoftAPMaxStations = 4
)

// SoftAPMAC returns the soft-AP MAC address an ESP8266 uses: the station MAC
// with the locally administered bit of the first byte set
// (5c:cf:7f:… → 5e:cf:7f:…).
func SoftAPMAC(sta net.HardwareAddr) net.HardwareAddr {
	m := append(net.HardwareAddr(nil), sta...)
	if len(m) > 0 {
		m[0] |= 0x02
	}
	return m
}

// SoftAPSSID is the SSID inisetup.py sets on first boot: "MicroPython-"
// followed by the lower-case hex of the last three bytes of the soft-AP MAC.
func SoftAPSSID(apMAC net.HardwareAddr) string {
	if len(apMAC) < 3 {
		return "MicroPython-"
	}
	t := apMAC[len(apMAC)-3:]
	return fmt.Sprintf("MicroPython-%02x%02x%02x", t[0], t[1], t[2])
}

// DefaultSoftAP is the soft-AP configuration of a freshly flashed board
// called board with station MAC sta: SSID MicroPython-xxxxxx, WPA/WPA2-PSK
// with key "micropythoN", channel 1, at most 4 stations. It starts down;
// the board switches it on (it is active on a fresh board).
func DefaultSoftAP(board string, sta net.HardwareAddr) APConfig {
	mac := SoftAPMAC(sta)
	return APConfig{
		Name:        board + "-ap",
		SSID:        SoftAPSSID(mac),
		Security:    WPAWPA2PSK,
		Passphrase:  SoftAPKey,
		Channel:     1,
		BSSID:       mac,
		MaxStations: SoftAPMaxStations,
		Down:        true,
	}
}
