package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runReport runs a shipped scenario with --report and returns the page's
// path.
func runReport(t *testing.T, dir, name string, extra ...string) string {
	t.Helper()
	path := filepath.Join(dir, name+".html")
	var stdout, stderr bytes.Buffer
	args := append([]string{"run", name, "--quiet", "--report", path}, extra...)
	if code := runWith(args, &stdout, &stderr); code != 0 {
		t.Fatalf("esp8266sim %s: code %d; stderr:\n%s", strings.Join(args, " "), code, stderr.String())
	}
	return path
}

// chromium runs Debian's headless Chromium with args on a file:// URL.
func chromium(t *testing.T, page string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("SKIPPING: chromium is not installed; the report was NOT opened in a browser")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + t.TempDir()}, args...)
	all = append(all, "file://"+page)
	out, err := exec.CommandContext(ctx, bin, all...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return out
}

var arrowRE = regexp.MustCompile(`<g class="(arrow[^"]*)" data-kind="[^"]*" data-label="([^"]*)"`)

// arrowsInDOM lists the diagram's arrows as the browser parsed them, in
// document (= time) order: "label" plus " [retrans]" / " [lost]".
func arrowsInDOM(dom string) []string {
	var out []string
	for _, m := range arrowRE.FindAllStringSubmatch(dom, -1) {
		s := m[2]
		if strings.Contains(m[1], "retrans") {
			s += " [retrans]"
		}
		if strings.Contains(m[1], "dropped") {
			s += " [lost]"
		}
		out = append(out, s)
	}
	return out
}

// arrowsInOrder reports whether each of wants is the prefix of an arrow, in
// that order.
func arrowsInOrder(arrows []string, wants ...string) bool {
	i := 0
	for _, a := range arrows {
		if i < len(wants) && (a == wants[i] || strings.HasPrefix(a, wants[i]+" ")) {
			i++
		}
	}
	return i == len(wants)
}

// colourPixels counts the screenshot's pixels close to an RGB colour.
func colourPixels(t *testing.T, pngPath string, r0, g0, b0 int) int {
	t.Helper()
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	n := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			d := abs(int(r>>8)-r0) + abs(int(g>>8)-g0) + abs(int(b>>8)-b0)
			if d < 40 {
				n++
			}
		}
	}
	return n
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// The HTML report opens in a browser from disk (issue #19): Chromium's
// DOM has the DHCP DISCOVER → ACK and the TCP SYN, SYN-ACK, ACK arrows in
// order, and its screenshot shows the coloured arrows; the lossy variant
// marks retransmissions and losses. Same seed, same page.
func TestHTMLReportInBrowser(t *testing.T) {
	dir := t.TempDir()
	page := runReport(t, dir, "http_get")
	dom := string(chromium(t, page, "--dump-dom"))
	arrows := arrowsInDOM(dom)
	if !arrowsInOrder(arrows, "auth request", "assoc request", "EAPOL 1/4", "EAPOL 4/4",
		"DHCP DISCOVER", "DHCP OFFER", "DHCP REQUEST", "DHCP ACK", "DNS query A micropython.org", "TCP SYN", "TCP SYN-ACK", "TCP ACK") {
		t.Errorf("the browser's diagram lacks the join, DHCP, DNS and handshake arrows in order; arrows:\n%s", strings.Join(arrows, "\n"))
	}
	for _, a := range arrows {
		if strings.Contains(a, "[retrans]") || strings.Contains(a, "[lost]") {
			t.Errorf("lossless run marks %q", a)
		}
	}
	shot := filepath.Join(dir, "http_get.png")
	chromium(t, page, "--window-size=1400,1400", "--screenshot="+shot)
	// DHCP arrows are drawn in #1f78b4, 802.11 ones in #6a3d9a.
	if n := colourPixels(t, shot, 0x1f, 0x78, 0xb4); n < 200 {
		t.Errorf("the screenshot shows %d pixels of the DHCP arrows' colour; want the arrows visible", n)
	}
	if n := colourPixels(t, shot, 0x6a, 0x3d, 0x9a); n < 200 {
		t.Errorf("the screenshot shows %d pixels of the 802.11 arrows' colour; want the arrows visible", n)
	}
	again := runReport(t, t.TempDir(), "http_get")
	a, _ := os.ReadFile(page)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("two runs of http_get with the same seed wrote different reports")
	}

	// http_get_lossy with seed 2 loses a SYN-ACK and some data; TCP
	// retransmits.
	lossy := runReport(t, dir, "http_get_lossy", "--seed", "2")
	arrows = arrowsInDOM(string(chromium(t, lossy, "--dump-dom")))
	var retrans, lost int
	for _, a := range arrows {
		if strings.Contains(a, "[retrans]") {
			retrans++
		}
		if strings.Contains(a, "[lost]") {
			lost++
		}
	}
	if retrans == 0 || lost == 0 {
		t.Errorf("the lossy report marks %d retransmissions and %d losses; want some of each; arrows:\n%s", retrans, lost, strings.Join(arrows, "\n"))
	}
	shot = filepath.Join(dir, "lossy.png")
	chromium(t, lossy, "--window-size=1400,1700", "--screenshot="+shot)
	// Retransmissions are orange (#e08000), losses red (#d00).
	if n := colourPixels(t, shot, 0xe0, 0x80, 0x00); n < 100 {
		t.Errorf("the lossy screenshot shows %d orange pixels; want the retransmissions visible", n)
	}
}

// A report path that cannot be written and a port that is not one are
// usage errors said in one sentence, before the run.
func TestReportAndUIUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "http_get", "--report", filepath.Join(t.TempDir(), "no", "such", "dir.html")}, "cannot write the report: no such file or directory"},
		{[]string{"run", "http_get", "--ui", "99999"}, "--ui takes a port number 1-65535"},
	} {
		var stdout, stderr bytes.Buffer
		code := runWith(tc.args, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
			t.Errorf("%v: code %d stderr %q; want 2 and one line with %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}
