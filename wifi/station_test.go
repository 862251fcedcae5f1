package wifi

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func homeAP() APConfig {
	return APConfig{SSID: "SimNet", Security: WPA2PSK, Passphrase: "correct horse", Channel: 6}
}

func TestJoinSucceeds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ap   APConfig
		key  string
	}{
		{"wpa2", homeAP(), "correct horse"},
		{"wpa", APConfig{SSID: "OldNet", Security: WPAPSK, Passphrase: "tkip-only-please", Channel: 3}, "tkip-only-please"},
		{"wpa/wpa2", APConfig{SSID: "Mixed", Security: WPAWPA2PSK, Passphrase: "12345678", Channel: 11}, "12345678"},
		{"open", APConfig{SSID: "Cafe", Security: Open, Channel: 1}, ""},
		{"wep", APConfig{SSID: "Attic", Security: WEP, Passphrase: "abcde", Channel: 9}, "abcde"},
		{"hidden", APConfig{SSID: "Secret", Security: WPA2PSK, Passphrase: "hidden-in-plain", Hidden: true}, "hidden-in-plain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newTestWorld(t, Config{Seed: 1})
			ap := w.addAP(tc.ap)
			sta, up, dh := w.station("esp1", 1)
			if got := sta.Status(); got != StatIdle {
				t.Fatalf("Status() before connect = %v, want STAT_IDLE", got)
			}
			if err := sta.Connect(&JoinConfig{SSID: tc.ap.SSID, Key: tc.key}); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if got := sta.Status(); got != StatConnecting {
				t.Fatalf("Status() right after connect = %v, want STAT_CONNECTING", got)
			}
			at := w.waitFor("isconnected()", 30*time.Second, sta.IsConnected)
			if at < 1500*time.Millisecond || at > 4*time.Second {
				t.Errorf("connected after %v, want a realistic 1.5–4 s", at)
			}
			if got := sta.Status(); got != StatGotIP {
				t.Errorf("Status() = %v, want STAT_GOT_IP", got)
			}
			if got, want := sta.IPConfig(), dh.lease; got != want {
				t.Errorf("IPConfig() = %v, want %v", got, want)
			}
			if isUp, joins, _ := up.state(); !isUp || joins != 1 || up.ap != ap {
				t.Errorf("uplink up=%v joins=%d ap=%v, want up once on %s", isUp, joins, up.ap, ap.Name())
			}
			if dh.hostname != DefaultHostname {
				t.Errorf("DHCP hostname = %q, want %q", dh.hostname, DefaultHostname)
			}
			if got := ap.Stations(); len(got) != 1 || got[0].Name != "esp1" {
				t.Errorf("ap.Stations() = %v, want esp1", got)
			}
			if r := sta.RSSI(); r > -50 || r < -60 {
				t.Errorf("RSSI() = %d, want about -55", r)
			}
			if sta.Channel() != ap.Config().Channel {
				t.Errorf("Channel() = %d, want the AP's %d", sta.Channel(), ap.Config().Channel)
			}
			steps := []string{"esp1 → * probe request", "→ esp1 probe response", "esp1 → " + ap.Name() + " auth request", "auth response ok", "assoc request", "assoc response ok aid=1"}
			if tc.ap.Security.usesPSK() {
				steps = append(steps, "EAPOL 1/4", "EAPOL 2/4", "EAPOL 3/4", "EAPOL 4/4", "keys installed")
			}
			steps = append(steps, "connected with "+tc.ap.SSID, "dhcp client start", "ip:192.168.1.10")
			if !w.traceHas(steps...) {
				t.Errorf("trace lacks the join steps %q in order:\n%s", steps, w.log.String())
			}
		})
	}
}

func TestWrongPassphrase(t *testing.T) {
	t.Parallel()
	for _, sec := range []Security{WPA2PSK, WPAPSK, WPAWPA2PSK} {
		t.Run(sec.String(), func(t *testing.T) {
			w := newTestWorld(t, Config{Seed: 2})
			cfg := homeAP()
			cfg.Security = sec
			w.addAP(cfg)
			sta, up, _ := w.station("esp1", 1)
			sta.Connect(&JoinConfig{SSID: "SimNet", Key: "wrong horse"})
			at := w.waitFor("status 2", 30*time.Second, func() bool { return sta.Status() != StatConnecting })
			if got := sta.Status(); got != StatWrongPassword {
				t.Fatalf("Status() = %v, want STAT_WRONG_PASSWORD\n%s", got, w.log.String())
			}
			if at < 3*time.Second || at > 8*time.Second {
				t.Errorf("wrong passphrase reported after %v, want after the handshake retries (≈4.7 s)", at)
			}
			// The SDK keeps retrying; it never connects and the failure stays visible.
			for i := 0; i < 30; i++ {
				w.sleep(time.Second)
				if sta.IsConnected() {
					t.Fatal("connected with a wrong passphrase")
				}
				if got := sta.Status(); got != StatWrongPassword {
					t.Fatalf("Status() during retries = %v, want STAT_WRONG_PASSWORD", got)
				}
			}
			if _, joins, _ := up.state(); joins != 0 {
				t.Errorf("uplink joined %d times with a wrong passphrase, want 0", joins)
			}
			if !w.traceHas("EAPOL 2/4 from esp1: MIC check failed", "EAPOL 1/4 (retransmission 1)", "deauth reason=15 (4-way handshake timeout)", "esp1 reconnect") {
				t.Errorf("trace does not show the MIC failure, retransmissions, deauth and retry:\n%s", w.log.String())
			}
		})
	}
}

func TestUnknownSSID(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 3})
	w.addAP(homeAP())
	sta, _, _ := w.station("esp1", 1)
	sta.Connect(&JoinConfig{SSID: "NoSuchNet", Key: "whatever1"})
	at := w.waitFor("status change", 30*time.Second, func() bool { return sta.Status() != StatConnecting })
	if got := sta.Status(); got != StatNoAPFound {
		t.Fatalf("Status() = %v, want STAT_NO_AP_FOUND", got)
	}
	if want := 13 * DefaultTiming.ScanDwell; at < want {
		t.Errorf("no AP found after %v, want after a full 13-channel scan (%v)", at, want)
	}
	w.sleep(10 * time.Second)
	if sta.IsConnected() || sta.Status() != StatNoAPFound {
		t.Errorf("after retries: connected=%v status=%v, want false, STAT_NO_AP_FOUND", sta.IsConnected(), sta.Status())
	}
}

func TestNetworkAppearsLater(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 4})
	cfg := homeAP()
	cfg.Down = true
	ap := w.addAP(cfg)
	sta, _, _ := w.station("esp1", 1)
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("no AP", 10*time.Second, func() bool { return sta.Status() == StatNoAPFound })
	ap.SetDown(false)
	w.waitFor("connected once the AP is up", 10*time.Second, sta.IsConnected)
}

func TestAPDownMidSession(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 5})
	ap := w.addAP(homeAP())
	sta, up, _ := w.station("esp1", 1)
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("connected", 10*time.Second, sta.IsConnected)

	ap.SetDown(true)
	if isUp, _, _ := up.state(); isUp {
		t.Error("uplink still up right after the AP went down")
	}
	downAt := w.clock.Elapsed()
	lost := w.waitFor("isconnected() False", 20*time.Second, func() bool { return !sta.IsConnected() })
	if d := lost - downAt; d < DefaultTiming.BeaconTimeout-time.Millisecond || d > DefaultTiming.BeaconTimeout+100*time.Millisecond {
		t.Errorf("loss noticed %v after the AP went down, want the beacon timeout %v", d, DefaultTiming.BeaconTimeout)
	}
	if got := sta.Status(); got != StatConnecting {
		t.Errorf("Status() right after the loss = %v, want STAT_CONNECTING", got)
	}
	w.waitFor("no AP found while it is down", 10*time.Second, func() bool { return sta.Status() == StatNoAPFound })
	w.sleep(20 * time.Second)
	if sta.IsConnected() {
		t.Fatal("connected while the AP is down")
	}

	ap.SetDown(false)
	back := w.clock.Elapsed()
	again := w.waitFor("isconnected() True again", 20*time.Second, sta.IsConnected)
	if d := again - back; d > 6*time.Second {
		t.Errorf("reconnected %v after the AP returned, want within a few seconds", d)
	}
	if !w.traceHas("SimNet switched off", "bcn_timeout", "disconnected: beacon timeout", "reconnect", "SimNet switched on", "connected with SimNet") {
		t.Errorf("trace does not tell the story:\n%s", w.log.String())
	}
}

func TestAPRebootWithinBeaconTimeout(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 6})
	ap := w.addAP(homeAP())
	sta, _, _ := w.station("esp1", 1)
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("connected", 10*time.Second, sta.IsConnected)
	ap.SetDown(true)
	w.sleep(time.Second)
	ap.SetDown(false) // rebooted: its association table is empty
	if sta.IsConnected() {
		t.Error("still connected after the AP rebooted and deauthenticated it")
	}
	w.waitFor("connected again", 10*time.Second, sta.IsConnected)
	if !w.traceHas("deauth reason=7") {
		t.Errorf("no deauth reason 7 after the reboot:\n%s", w.log.String())
	}
}

func TestDeauthAndRSSIFaults(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 7})
	ap := w.addAP(homeAP())
	sta, _, _ := w.station("esp1", 1)
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("connected", 10*time.Second, sta.IsConnected)

	if err := ap.Deauth("esp1", 0); err != nil {
		t.Fatalf("Deauth: %v", err)
	}
	if sta.IsConnected() || sta.Status() != StatConnecting {
		t.Errorf("after deauth: connected=%v status=%v, want false, STAT_CONNECTING", sta.IsConnected(), sta.Status())
	}
	w.waitFor("reconnected after deauth", 10*time.Second, sta.IsConnected)
	if err := ap.Deauth("esp9", 0); err == nil {
		t.Error("Deauth of an unknown station: nil error, want one")
	}

	// Out of range: lost after the beacon timeout, back when the signal is.
	if err := ap.SetRSSI("esp1", -97); err != nil {
		t.Fatal(err)
	}
	w.waitFor("lost out of range", 10*time.Second, func() bool { return !sta.IsConnected() })
	if got := sta.RSSI(); got != 31 {
		t.Errorf("RSSI() when not connected = %d, want 31 (the SDK's invalid value)", got)
	}
	ap.SetRSSI("esp1", -70)
	w.waitFor("back in range", 10*time.Second, sta.IsConnected)

	// A dip shorter than the beacon timeout costs nothing.
	ap.SetRSSI("esp1", -97)
	w.sleep(time.Second)
	ap.SetRSSI("esp1", -60)
	w.sleep(10 * time.Second)
	if !sta.IsConnected() {
		t.Error("a one-second signal dip disconnected the station")
	}
}

func TestDistanceSignal(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 8, RSSIJitter: -1})
	cfg := homeAP()
	cfg.Position = &Position{}
	w.addAP(cfg)
	sta, _, _ := w.station("esp1", 1)
	sta.SetPosition(Position{X: 10})
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("connected", 10*time.Second, sta.IsConnected)
	if got := sta.RSSI(); got != -70 {
		t.Errorf("RSSI() at 10 m = %d, want -70 (-40 dBm at 1 m, exponent 3)", got)
	}
	sta.SetPosition(Position{X: 1000}) // -130 dBm: out of range
	w.waitFor("lost when far away", 10*time.Second, func() bool { return !sta.IsConnected() })
}

func TestDisconnectStopsReconnecting(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 9})
	ap := w.addAP(homeAP())
	sta, up, _ := w.station("esp1", 1)
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("connected", 10*time.Second, sta.IsConnected)
	sta.Disconnect()
	if got := sta.Status(); got != StatIdle {
		t.Errorf("Status() after disconnect = %v, want STAT_IDLE", got)
	}
	if got := sta.IPConfig(); !got.IsZero() {
		t.Errorf("IPConfig() after disconnect = %v, want 0.0.0.0", got)
	}
	w.sleep(20 * time.Second)
	if sta.IsConnected() || len(ap.Stations()) != 0 {
		t.Error("station reconnected after disconnect()")
	}
	if isUp, _, _ := up.state(); isUp {
		t.Error("uplink up after disconnect")
	}
	// connect() with no arguments rejoins the remembered network.
	sta.Connect(nil)
	w.waitFor("reconnected", 10*time.Second, sta.IsConnected)
	if !w.traceHas("esp1 → SimNet deauth reason=8") {
		t.Errorf("no deauth from the station on disconnect:\n%s", w.log.String())
	}
}

func TestRememberedNetwork(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 10})
	w.addAP(homeAP())
	sta, _, _ := w.station("esp1", 1)
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("connected", 10*time.Second, sta.IsConnected)

	// A hard reset: the SDK auto-connects to the network in flash.
	sta.Reset()
	if sta.IsConnected() {
		t.Fatal("connected straight after a reset")
	}
	w.waitFor("auto-connected after reset", 10*time.Second, sta.IsConnected)

	// active(False) then active(True) joins again too.
	sta.SetActive(false)
	if got := sta.Status(); got != StatInactive {
		t.Errorf("Status() while inactive = %v, want %d", got, StatInactive)
	}
	sta.SetActive(true)
	w.waitFor("auto-connected after active(True)", 10*time.Second, sta.IsConnected)
	if got, ok := sta.Saved(); !ok || got.SSID != "SimNet" {
		t.Errorf("Saved() = %+v, %v; want SimNet", got, ok)
	}
}

func TestInactiveStation(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 11})
	w.addAP(homeAP())
	sta, err := w.air.NewStation(StationConfig{Name: "esp1", MAC: net.HardwareAddr{0x5c, 0xcf, 0x7f, 1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sta.StartScan(func([]BSS) {}); !errors.Is(err, ErrInactive) {
		t.Errorf("StartScan while inactive = %v, want ErrInactive", err)
	}
	if err := sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"}); !errors.Is(err, ErrInactive) {
		t.Errorf("Connect while inactive = %v, want ErrInactive", err)
	}
	if sta.Status() != StatInactive || sta.IsConnected() {
		t.Errorf("inactive station: status %v connected %v", sta.Status(), sta.IsConnected())
	}
	// The configuration was still stored: activating joins it.
	sta.SetActive(true)
	w.waitFor("status GOT_IP without Addressing? no: associated", 10*time.Second, func() bool {
		_, ok := sta.AccessPoint()
		return ok
	})
	w.sleep(10 * time.Second)
	if sta.Status() != StatConnecting {
		t.Errorf("a station without a DHCP client stays CONNECTING, got %v", sta.Status())
	}
}

func TestMaxStations(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 12})
	cfg := homeAP()
	cfg.MaxStations = 1
	w.addAP(cfg)
	a, _, _ := w.station("esp1", 1)
	b, _, _ := w.station("esp2", 2)
	a.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("first connected", 10*time.Second, a.IsConnected)
	b.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("second refused", 10*time.Second, func() bool { return b.Status() == StatConnectFail })
	if !w.traceHas("assoc response status=17") {
		t.Errorf("no refusal in the trace:\n%s", w.log.String())
	}
	a.Disconnect()
	w.waitFor("second connects once there is room", 10*time.Second, b.IsConnected)
}

func TestStaticIP(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 13})
	w.addAP(homeAP())
	sta, _, dh := w.station("esp1", 1)
	static := IPConfig{IP: mustAddr("192.168.1.77"), Mask: mustAddr("255.255.255.0"), Gateway: mustAddr("192.168.1.1"), DNS: mustAddr("8.8.8.8")}
	sta.SetStatic(static)
	if got := sta.IPConfig(); got != static {
		t.Errorf("IPConfig() = %v, want the static %v even before connecting", got, static)
	}
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	at := w.waitFor("connected", 10*time.Second, sta.IsConnected)
	if at > 2*time.Second {
		t.Errorf("static configuration connected after %v, want right after association", at)
	}
	if dh.starts != 0 {
		t.Errorf("DHCP started %d times with a static configuration", dh.starts)
	}
	if dh.static != static {
		t.Errorf("Addressing.SetStatic got %v, want %v", dh.static, static)
	}
	if sta.DHCPEnabled() {
		t.Error("DHCPEnabled() = true after SetStatic")
	}
	sta.UseDHCP()
	if sta.IsConnected() {
		t.Error("connected right after switching back to DHCP, before a lease")
	}
	w.waitFor("lease", 10*time.Second, sta.IsConnected)
	if got := sta.IPConfig(); got != dh.lease {
		t.Errorf("IPConfig() = %v, want the lease %v", got, dh.lease)
	}
}

func TestDHCPSilentStaysConnecting(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 14})
	ap := w.addAP(homeAP())
	sta, _, dh := w.station("esp1", 1)
	if err := ap.SetDHCPSilent(true); !errors.Is(err, ErrNoDHCP) {
		t.Errorf("SetDHCPSilent without a server = %v, want ErrNoDHCP", err)
	}
	ap.SetDHCP(dh)
	if err := ap.SetDHCPSilent(true); err != nil {
		t.Fatal(err)
	}
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.sleep(30 * time.Second)
	if got := sta.Status(); got != StatConnecting {
		t.Errorf("Status() with a silent DHCP server = %v, want STAT_CONNECTING (the SDK waits forever)", got)
	}
	if got := sta.IPConfig(); !got.IsZero() {
		t.Errorf("IPConfig() = %v, want 0.0.0.0", got)
	}
}

func TestWrongWEPKeyNeverGetsAnAddress(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 15})
	w.addAP(APConfig{SSID: "Attic", Security: WEP, Passphrase: "abcde"})
	sta, up, _ := w.station("esp1", 1)
	sta.Connect(&JoinConfig{SSID: "Attic", Key: "zzzzz"})
	w.sleep(20 * time.Second)
	if sta.IsConnected() || sta.Status() != StatConnecting {
		t.Errorf("wrong WEP key: connected=%v status=%v, want false, STAT_CONNECTING", sta.IsConnected(), sta.Status())
	}
	if _, joins, _ := up.state(); joins != 0 {
		t.Errorf("frames flowed with a wrong WEP key (%d joins)", joins)
	}
}

func TestChoosesStrongestAndBSSID(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 16})
	near := homeAP()
	near.Name, near.RSSI, near.BSSID = "near", -40, net.HardwareAddr{2, 0, 0, 0, 0, 1}
	far := homeAP()
	far.Name, far.RSSI, far.BSSID = "far", -80, net.HardwareAddr{2, 0, 0, 0, 0, 2}
	w.addAP(far)
	w.addAP(near)
	sta, _, _ := w.station("esp1", 1)
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("connected", 10*time.Second, sta.IsConnected)
	if ap, _ := sta.AccessPoint(); ap.Name() != "near" {
		t.Errorf("joined %s, want the strongest (near)", ap.Name())
	}
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse", BSSID: far.BSSID})
	w.waitFor("connected", 10*time.Second, sta.IsConnected)
	if ap, _ := sta.AccessPoint(); ap.Name() != "far" {
		t.Errorf("joined %s, want the one named by bssid (far)", ap.Name())
	}
}

func TestScan(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 17, RSSIJitter: -1})
	w.addAP(APConfig{Name: "b", SSID: "Beta", Security: WPA2PSK, Passphrase: "password", Channel: 6, RSSI: -70, BSSID: net.HardwareAddr{2, 0, 0, 0, 0, 2}})
	w.addAP(APConfig{Name: "a", SSID: "Alpha", Security: Open, Channel: 1, RSSI: -60, BSSID: net.HardwareAddr{2, 0, 0, 0, 0, 1}})
	w.addAP(APConfig{Name: "h", SSID: "Hidden", Security: WPAWPA2PSK, Passphrase: "password", Channel: 6, RSSI: -50, Hidden: true, BSSID: net.HardwareAddr{2, 0, 0, 0, 0, 3}})
	w.addAP(APConfig{Name: "w", SSID: "Old", Security: WEP, Passphrase: "abcde", Channel: 11, RSSI: -85, BSSID: net.HardwareAddr{2, 0, 0, 0, 0, 4}})
	w.addAP(APConfig{Name: "t", SSID: "Tkip", Security: WPAPSK, Passphrase: "password", Channel: 13, BSSID: net.HardwareAddr{2, 0, 0, 0, 0, 5}})
	w.addAP(APConfig{Name: "far", SSID: "Far", Security: Open, Channel: 3, RSSI: -95})
	w.addAP(APConfig{Name: "off", SSID: "Off", Security: Open, Channel: 4, Down: true})
	w.addAP(APConfig{Name: "jp", SSID: "Japan", Security: Open, Channel: 14})
	sta, _, _ := w.station("esp1", 1)

	start := w.clock.Elapsed()
	got := make(chan []BSS, 1)
	if err := sta.StartScan(func(r []BSS) { got <- r }); err != nil {
		t.Fatal(err)
	}
	var res []BSS
	w.waitFor("scan done", 10*time.Second, func() bool {
		select {
		case res = <-got:
			return true
		default:
			return false
		}
	})
	if d := w.clock.Elapsed() - start; d < 13*DefaultTiming.ScanDwell {
		t.Errorf("scan took %v, want a 13-channel sweep (%v)", d, 13*DefaultTiming.ScanDwell)
	}
	want := []BSS{
		{SSID: []byte("Alpha"), BSSID: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Channel: 1, RSSI: -60, Security: Open},
		{SSID: []byte{}, BSSID: net.HardwareAddr{2, 0, 0, 0, 0, 3}, Channel: 6, RSSI: -50, Security: WPAWPA2PSK, Hidden: true},
		{SSID: []byte("Beta"), BSSID: net.HardwareAddr{2, 0, 0, 0, 0, 2}, Channel: 6, RSSI: -70, Security: WPA2PSK},
		{SSID: []byte("Old"), BSSID: net.HardwareAddr{2, 0, 0, 0, 0, 4}, Channel: 11, RSSI: -85, Security: WEP},
		{SSID: []byte("Tkip"), BSSID: net.HardwareAddr{2, 0, 0, 0, 0, 5}, Channel: 13, RSSI: -55, Security: WPAPSK},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("scan results (-want +got):\n%s", diff)
	}
}

func TestSameSeedSameTrace(t *testing.T) {
	t.Parallel()
	run := func() []string {
		w := newTestWorld(t, Config{Seed: 42})
		w.addAP(homeAP())
		sta, _, _ := w.station("esp1", 1)
		sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
		w.waitFor("connected", 10*time.Second, sta.IsConnected)
		var out []string
		for _, l := range w.log.Lines() {
			out = append(out, l.String())
		}
		return out
	}
	a, b := run(), run()
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two runs with one seed differ (-first +second):\n%s", diff)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cfg   APConfig
		field string
	}{
		{"empty ssid", APConfig{Security: Open}, "ssid"},
		{"long ssid", APConfig{SSID: string(bytes.Repeat([]byte("x"), 33))}, "ssid"},
		{"short wpa2 passphrase", APConfig{SSID: "n", Security: WPA2PSK, Passphrase: "1234567"}, "passphrase"},
		{"long wpa passphrase", APConfig{SSID: "n", Security: WPAPSK, Passphrase: string(bytes.Repeat([]byte("x"), 64))}, "passphrase"},
		{"non-ascii passphrase", APConfig{SSID: "n", Security: WPA2PSK, Passphrase: "pässwörd!"}, "passphrase"},
		{"open with passphrase", APConfig{SSID: "n", Passphrase: "secret12"}, "passphrase"},
		{"wep key length", APConfig{SSID: "n", Security: WEP, Passphrase: "123456"}, "passphrase"},
		{"channel 15", APConfig{SSID: "n", Channel: 15}, "channel"},
		{"channel -1", APConfig{SSID: "n", Channel: -1}, "channel"},
		{"security 9", APConfig{SSID: "n", Security: 9}, "security"},
		{"multicast bssid", APConfig{SSID: "n", BSSID: net.HardwareAddr{1, 2, 3, 4, 5, 6}}, "bssid"},
		{"short bssid", APConfig{SSID: "n", BSSID: net.HardwareAddr{2, 2, 3}}, "bssid"},
		{"positive rssi", APConfig{SSID: "n", RSSI: 5}, "rssi"},
		{"negative max", APConfig{SSID: "n", MaxStations: -1}, "max_stations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate() = %v, want a *ConfigError", err)
			}
			if ce.Field != tc.field {
				t.Errorf("Validate() = %q, want it to name field %q", err, tc.field)
			}
		})
	}
	for _, ok := range []APConfig{
		{SSID: "n", Security: WPA2PSK, Passphrase: "12345678"},
		{SSID: "n", Security: WPA2PSK, Passphrase: string(bytes.Repeat([]byte("x"), 63))},
		{SSID: "n", Security: WPA2PSK, Passphrase: "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af"},
		{SSID: "n", Security: WEP, Passphrase: "0123456789"},
		{SSID: "n", Channel: 14},
	} {
		if err := ok.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", ok, err)
		}
	}

	w := newTestWorld(t, Config{})
	w.addAP(APConfig{Name: "one", SSID: "n", BSSID: net.HardwareAddr{2, 0, 0, 0, 0, 9}})
	_, err := w.air.AddAP(APConfig{Name: "two", SSID: "m", BSSID: net.HardwareAddr{2, 0, 0, 0, 0, 9}})
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != "bssid" {
		t.Errorf("duplicate BSSID: %v, want a bssid ConfigError", err)
	}
	if _, err := w.air.AddAP(APConfig{Name: "one", SSID: "x"}); !errors.As(err, &ce) || ce.Field != "name" {
		t.Errorf("duplicate name: %v, want a name ConfigError", err)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New without a clock: nil error")
	}
}

func TestParseSecurity(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Security{"open": Open, "WEP": WEP, "wpa": WPAPSK, "WPA2-PSK": WPA2PSK, "wpa/wpa2": WPAWPA2PSK, "wpa_wpa2_psk": WPAWPA2PSK, "3": WPA2PSK} {
		if got, err := ParseSecurity(in); err != nil || got != want {
			t.Errorf("ParseSecurity(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseSecurity("wpa3"); err == nil {
		t.Error("ParseSecurity(wpa3): nil error")
	}
}

func TestSoftAP(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 18})
	mac := net.HardwareAddr{0x5c, 0xcf, 0x7f, 0xab, 0xcd, 0xef}
	cfg := DefaultSoftAP("esp1", mac)
	if cfg.SSID != "MicroPython-abcdef" || cfg.Passphrase != "micropythoN" || cfg.Security != WPAWPA2PSK {
		t.Errorf("DefaultSoftAP = %+v", cfg)
	}
	if got := cfg.BSSID.String(); got != "5e:cf:7f:ab:cd:ef" {
		t.Errorf("soft-AP MAC = %s, want 5e:cf:7f:ab:cd:ef", got)
	}
	ap := w.addAP(cfg)
	ap.SetDown(false)
	sta, _, _ := w.station("esp2", 2)
	sta.Connect(&JoinConfig{SSID: "MicroPython-abcdef", Key: "micropythoN"})
	w.waitFor("joined the soft-AP", 10*time.Second, sta.IsConnected)
	if got := ap.Stations(); len(got) != 1 || !bytes.Equal(got[0].MAC, sta.MAC()) {
		t.Errorf("soft-AP stations = %v, want esp2", got)
	}
	// Reconfiguring restarts the AP: stations are kicked and rejoin if they can.
	nc := ap.Config()
	nc.Passphrase = "another-key"
	if err := ap.Reconfigure(nc); err != nil {
		t.Fatal(err)
	}
	if len(ap.Stations()) != 0 || sta.IsConnected() {
		t.Error("station still associated after the soft-AP was reconfigured")
	}
	w.waitFor("wrong password now", 20*time.Second, func() bool { return sta.Status() == StatWrongPassword })
	bad := ap.Config()
	bad.Passphrase = "short"
	if err := ap.Reconfigure(bad); err == nil {
		t.Error("Reconfigure with a 5-character WPA passphrase: nil error")
	}
}

func mustAddr(s string) netipAddr { return mustParseAddr(s) }

func TestRoamsToAnotherAPWithTheSameSSID(t *testing.T) {
	t.Parallel()
	w := newTestWorld(t, Config{Seed: 19})
	near := homeAP()
	near.Name, near.RSSI = "near", -45
	far := homeAP()
	far.Name, far.RSSI, far.Channel = "far", -75, 11
	nearAP := w.addAP(near)
	w.addAP(far)
	sta, up, _ := w.station("esp1", 1)
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("connected", 10*time.Second, sta.IsConnected)
	nearAP.SetDown(true)
	w.waitFor("lost", 20*time.Second, func() bool { return !sta.IsConnected() })
	w.waitFor("roamed", 20*time.Second, sta.IsConnected)
	if ap, _ := sta.AccessPoint(); ap.Name() != "far" || sta.Channel() != 11 {
		t.Errorf("after roaming: AP %s channel %d, want far on 11", ap.Name(), sta.Channel())
	}
	if up.ap.Name() != "far" {
		t.Errorf("uplink joined %s, want far", up.ap.Name())
	}
}
