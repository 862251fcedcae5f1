package sim

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// tsharkFields runs tshark on a capture and returns one row of fields per
// frame and tshark's standard error, without its note about running as
// root.
func tsharkFields(t *testing.T, pcapPath string, fields ...string) (rows [][]string, warnings string) {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("SKIPPING: tshark is not installed; the capture was NOT checked")
	}
	args := []string{"-r", pcapPath, "-T", "fields", "-E", "occurrence=f"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, stderr.String())
	}
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		rows = append(rows, strings.Split(l, "\t"))
	}
	var warn []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if l != "" && !strings.HasPrefix(l, "Running as user") {
			warn = append(warn, l)
		}
	}
	return rows, strings.Join(warn, "\n")
}

// The capture's WLAN side is 802.11 (issue #19): tshark reads the http_get
// capture without a warning and shows the board's join as a monitor-mode
// capture would (authentication, association, EAPOL 1-4), then DHCP in
// 802.11 data frames.
func TestCaptureShowsTheJoinAs80211(t *testing.T) {
	_, pcapPath := runShippedCapture(t, "http_get.yaml", 0)
	rows, warnings := tsharkFields(t, pcapPath, "wlan.fc.type_subtype", "wlan.sa", "wlan_rsna_eapol.keydes.msgnr", "dhcp.option.dhcp", "radiotap.dbm_antsignal")
	if warnings != "" {
		t.Errorf("tshark warns reading the capture:\n%s", warnings)
	}
	const board = "5c:cf:7f:a0:00:01" // esp1's MAC in the shipped scenario
	// The join in order: auth request (by the board), auth response,
	// association request and response, EAPOL 1-4, then DHCP DISCOVER,
	// OFFER, REQUEST, ACK, all 802.11 data frames (subtype 0x0020).
	want := []string{"auth " + board, "auth ", "0x0000", "0x0001", "eapol 1", "eapol 2", "eapol 3", "eapol 4", "dhcp 1", "dhcp 2", "dhcp 3", "dhcp 5"}
	i := 0
	var seen []string
	for _, r := range rows {
		for len(r) < 5 {
			r = append(r, "")
		}
		subtype, sa, msg, dhcp, signal := r[0], r[1], r[2], r[3], r[4]
		var step string
		switch {
		case subtype == "0x000b":
			step = "auth " + sa
		case subtype == "0x0000" || subtype == "0x0001":
			step = subtype
		case msg != "" && subtype == "0x0020":
			step = "eapol " + msg
		case dhcp != "" && subtype == "0x0020":
			step = "dhcp " + dhcp
		default:
			continue
		}
		if signal == "" {
			t.Errorf("802.11 frame %q has no radiotap signal", step)
		}
		seen = append(seen, step)
		if i < len(want) && strings.HasPrefix(step, want[i]) && (want[i] != "auth " || sa != board) {
			i++
		}
	}
	if i != len(want) {
		t.Errorf("the capture's 802.11 steps are %v; want in order %v (stuck at %q)", seen, want, want[i])
	}
}

// Same seed, same capture, byte for byte: the 802.11 frames (sequence
// numbers, sampled beacons, timestamps) are a function of the run.
func TestCaptureIsDeterministic(t *testing.T) {
	_, a := runShippedCapture(t, "http_get.yaml", 0)
	_, b := runShippedCapture(t, "http_get.yaml", 0)
	ab, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ab, bb) {
		t.Errorf("two runs of http_get with the same seed wrote different captures (%d and %d bytes)", len(ab), len(bb))
	}
}
