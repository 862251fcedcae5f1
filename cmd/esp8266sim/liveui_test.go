package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/sim/report"
)

const liveScript = `import network, time
print('hello from the board')
sta = network.WLAN(network.STA_IF)
sta.active(True)
sta.connect('SimNet', 'esp8266sim')
while not sta.isconnected():
    time.sleep(0.1)
print('connected', sta.ifconfig()[0])
for i in range(150):
    time.sleep(0.2)
    if not sta.isconnected():
        print('connection lost')
        break
`

// freePort returns a loopback TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type sse struct {
	name string
	data string
}

// readEvents parses a server-sent event stream onto a channel.
func readEvents(body io.Reader, out chan<- sse) {
	defer close(out)
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var ev sse
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		case line == "" && ev.name != "":
			out <- ev
			ev = sse{}
		}
	}
}

// liveEvents follows a live view's event stream for a test.
type liveEvents struct {
	t      *testing.T
	events chan sse
	// stderr, when set, is shown when a wait fails.
	stderr func() string
}

func followEvents(t *testing.T, body io.Reader, stderr func() string) *liveEvents {
	l := &liveEvents{t: t, events: make(chan sse, 4096), stderr: stderr}
	go readEvents(body, l.events)
	return l
}

// wait returns the first event match accepts; the test fails when the
// stream ends or within passes first.
func (l *liveEvents) wait(what string, within time.Duration, match func(sse) bool) sse {
	l.t.Helper()
	timeout := time.After(within)
	for {
		select {
		case ev, ok := <-l.events:
			if !ok {
				l.t.Fatalf("the event stream ended before %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			if l.stderr != nil {
				l.t.Fatalf("no %s within %s; stderr:\n%s", what, within, l.stderr())
			}
			l.t.Fatalf("no %s within %s", what, within)
		}
	}
}

// checkLivePage fails the test for each of wants the live page lacks.
func checkLivePage(t *testing.T, base string, wants ...string) {
	t.Helper()
	page, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	for _, want := range wants {
		if !strings.Contains(string(html), want) {
			t.Errorf("the live page lacks %q", want)
		}
	}
}

// switchAPOff posts what the page's "SimNet down" button posts and waits
// for the trace to say the access point went off.
func switchAPOff(t *testing.T, base string, events *liveEvents) {
	t.Helper()
	r, err := http.PostForm(base+"/fault", url.Values{"kind": {"ap_down"}, "target": {"SimNet"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("POST /fault: %s", r.Status)
	}
	events.wait("trace line 'SimNet switched off'", 5*time.Second, func(e sse) bool {
		return e.name == "trace" && strings.Contains(e.data, "SimNet switched off")
	})
}

// The live view (run --realtime --ui PORT, issue #19): the page's event
// stream carries a board's console line within a second of its print, the
// page offers the scenario's faults, and an AP-down posted as the page's
// button does ends the board's connection in the trace.
func TestLiveView(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "live.py")
	if err := os.WriteFile(script, []byte(liveScript), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	done := make(chan int, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		done <- runWith([]string{"run", script, "--realtime", "--quiet", "--ui", strconv.Itoa(port), "--timeout", "40s"}, &stdout, &stderr)
	}()
	var resp *http.Response
	for deadline := time.Now().Add(30 * time.Second); ; {
		var err error
		resp, err = http.Get(base + "/events")
		if err == nil {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("run ended (code %d) before the live view answered: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the live view never answered: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer resp.Body.Close()
	events := followEvents(t, resp.Body, nil)
	ev := events.wait("console line 'connected'", 30*time.Second, func(e sse) bool {
		return e.name == "console" && strings.Contains(e.data, "connected")
	})
	var c report.LiveConsole
	if err := json.Unmarshal([]byte(ev.data), &c); err != nil {
		t.Fatal(err)
	}
	if late := time.Since(time.UnixMilli(c.Sent)); late > time.Second || c.Board != "esp1" {
		t.Errorf("console event %+v arrived %s after the print; want esp1's line within 1s", c, late)
	}

	checkLivePage(t, base, `data-kind="ap_down" data-target="SimNet"`, `data-label="auth request (open system)"`, "connected 192.168.1.100", "new EventSource('/events')")
	switchAPOff(t, base, events)
	// The station notices the missing beacons (6 s on the SDK).
	events.wait("trace line 'esp1 disconnected'", 15*time.Second, func(e sse) bool {
		return e.name == "trace" && strings.Contains(e.data, "esp1 disconnected")
	})
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end after the board's script did")
	}
	if !strings.Contains(stderr.String(), "live view at "+base) {
		t.Errorf("stderr does not announce the live view: %s", stderr.String())
	}
}
