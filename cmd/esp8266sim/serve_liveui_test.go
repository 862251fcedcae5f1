package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/sim/report"
)

// serve --ui PORT (issue #19): the live page follows a served board. A line
// typed into the board's PTY reaches the page's event stream within a
// second, and the page's "SimNet down" button switches the access point off
// in the trace.
func TestServeLiveView(t *testing.T) {
	bin := buildBinary(t)
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	s, dir := serveStart(t, bin, "--ui", strconv.Itoa(port), "--quiet")
	if !strings.Contains(s.stderr.String(), "live view at "+base) {
		t.Errorf("stderr does not announce the live view: %s", s.stderr.String())
	}
	resp, err := http.Get(base + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := followEvents(t, resp.Body, s.stderr.String)

	// The PTY is already raw (no echo, no line discipline), as pyserial
	// would leave it.
	pty, err := os.OpenFile(filepath.Join(dir, "esp1"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer pty.Close()
	go io.Copy(io.Discard, pty) // a terminal reads what the board prints
	// Let the board reach its prompt first, so the line is not typed into
	// boot.
	time.Sleep(2 * time.Second)
	typed := time.Now()
	if _, err := pty.Write([]byte("print('typed' + ' line')\r")); err != nil {
		t.Fatal(err)
	}
	// The board's output, not its echo of the typed expression.
	ev := events.wait("console line 'typed line'", 10*time.Second, func(e sse) bool {
		return e.name == "console" && strings.Contains(e.data, "typed line")
	})
	if late := time.Since(typed); late > time.Second {
		t.Errorf("the printed line reached the page %s after it was typed; want within 1s", late)
	}
	var c report.LiveConsole
	if err := json.Unmarshal([]byte(ev.data), &c); err != nil {
		t.Fatal(err)
	}
	if c.Board != "esp1" {
		t.Errorf("console event %+v: want esp1's", c)
	}

	checkLivePage(t, base, `data-kind="ap_down" data-target="SimNet"`, "typed line", "new EventSource('/events')")
	switchAPOff(t, base, events)

	s.cmd.Process.Signal(os.Interrupt)
	if code := s.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit %d after SIGINT; stderr:\n%s", code, s.stderr.String())
	}
}
