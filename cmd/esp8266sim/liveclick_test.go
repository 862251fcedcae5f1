package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// cdp is a minimal Chrome DevTools Protocol client on one page target: it
// sends a command and waits for the answer with the same id. The test
// enables no domain, so the browser sends no events to skip.
type cdp struct {
	ws *websocket.Conn
	id int
}

func (c *cdp) call(method string, params any, result any) error {
	c.id++
	msg := map[string]any{"id": c.id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if err := websocket.JSON.Send(c.ws, msg); err != nil {
		return fmt.Errorf("send %s: %w", method, err)
	}
	for {
		var resp struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := websocket.JSON.Receive(c.ws, &resp); err != nil {
			return fmt.Errorf("answer to %s: %w", method, err)
		}
		if resp.ID != c.id {
			continue
		}
		if resp.Error != nil {
			return fmt.Errorf("%s: %s", method, resp.Error.Message)
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(resp.Result, result)
	}
}

// eval runs expr in the page and decodes its value into out.
func (c *cdp) eval(expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := c.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if e := r.ExceptionDetails; e != nil {
		return fmt.Errorf("page script %q threw: %s %s", expr, e.Text, e.Exception.Description)
	}
	if out == nil || len(r.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(r.Result.Value, out)
}

var devtoolsRE = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// startChromium starts headless Chromium with a DevTools port and returns a
// client on its first page. Chromium runs in its own process group, which
// the cleanup ends by that group's id (the browser's own PID), so its
// renderer and helper processes go with it.
func startChromium(t *testing.T, bin string) *cdp {
	t.Helper()
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--remote-debugging-port=0", "--remote-allow-origins=http://127.0.0.1",
		"--user-data-dir="+t.TempDir(), "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	exited := make(chan struct{})
	var tail strings.Builder
	var tailMu sync.Mutex
	wsURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			tailMu.Lock()
			if tail.Len() < 8000 {
				tail.WriteString(sc.Text() + "\n")
			}
			tailMu.Unlock()
			if m := devtoolsRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case wsURL <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		pg := cmd.Process.Pid
		syscall.Kill(-pg, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-pg, syscall.SIGKILL)
			<-exited
		}
		// A helper that outlived the browser is still in the group.
		syscall.Kill(-pg, syscall.SIGKILL)
	})
	var browserURL string
	select {
	case browserURL = <-wsURL:
	case <-exited:
		tailMu.Lock()
		defer tailMu.Unlock()
		t.Fatalf("chromium exited before announcing its DevTools port:\n%s", tail.String())
	case <-time.After(30 * time.Second):
		t.Fatal("chromium did not announce its DevTools port within 30 s")
	}
	u, err := url.Parse(browserURL)
	if err != nil {
		t.Fatal(err)
	}
	// The browser endpoint takes no page commands; the page's own socket
	// is in /json/list.
	var pageWS string
	for deadline := time.Now().Add(10 * time.Second); pageWS == ""; {
		resp, err := http.Get("http://" + u.Host + "/json/list")
		if err == nil {
			var targets []struct {
				Type string `json:"type"`
				WS   string `json:"webSocketDebuggerUrl"`
			}
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
			for _, tg := range targets {
				if tg.Type == "page" && pageWS == "" {
					pageWS = tg.WS
				}
			}
		}
		if pageWS == "" && time.Now().After(deadline) {
			t.Fatalf("chromium lists no page target: %v", err)
		}
		if pageWS == "" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	ws, err := websocket.Dial(pageWS, "", "http://127.0.0.1")
	if err != nil {
		t.Fatalf("DevTools websocket %s: %v", pageWS, err)
	}
	t.Cleanup(func() { ws.Close() })
	return &cdp{ws: ws}
}

// stampedLines reads a process's output line by line and records the wall
// time each line arrived.
type stampedLines struct {
	mu    sync.Mutex
	lines []string
	at    []time.Time
	done  chan struct{}
}

func newStampedLines(r io.Reader) *stampedLines {
	s := &stampedLines{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			s.at = append(s.at, time.Now())
			s.mu.Unlock()
		}
	}()
	return s
}

// find returns the first line containing sub and when it arrived.
func (s *stampedLines) find(sub string) (string, time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range s.lines {
		if strings.Contains(l, sub) {
			return l, s.at[i], true
		}
	}
	return "", time.Time{}, false
}

func (s *stampedLines) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// The live view in a real browser (issue #19): headless Chromium, driven
// over the DevTools protocol, opens `run --realtime --ui PORT`; the board's
// printed lines show in the page's console area within a second of the
// print, and clicking the page's "SimNet down" button (its own click
// handler, not a POST from the test) switches the access point off, which
// ends the board's TCP connection and then its WiFi association in the
// trace.
func TestLiveViewClickInChromium(t *testing.T) {
	browser := bridgeNeedTool(t, "chromium", "chromium")
	bin := buildBinary(t)
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)

	// The run prints its console and its trace to stdout as they happen:
	// a console line's arrival there is the print's wall time.
	run := exec.Command(bin, "run", "testdata/liveclick/ticker.py", "--realtime", "--trace", "--ui", strconv.Itoa(port), "--timeout", "90s")
	stdout, err := run.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	out := newStampedLines(stdout)
	// runDone closes when the run has exited; runErr is then its status.
	runDone := make(chan struct{})
	var runErr error
	go func() {
		<-out.done
		runErr = run.Wait()
		close(runDone)
	}()
	t.Cleanup(func() {
		select {
		case <-runDone:
			return
		default:
		}
		run.Process.Signal(os.Interrupt)
		select {
		case <-runDone:
		case <-time.After(10 * time.Second):
			run.Process.Kill()
			select {
			case <-runDone:
			case <-time.After(10 * time.Second):
				t.Errorf("esp8266sim (pid %d) killed but its output never closed", run.Process.Pid)
			}
		}
	})
	dump := func() string {
		return fmt.Sprintf("\nrun stdout (tail):\n%s\nrun stderr:\n%s", bridgeTail(out.text(), 4000), stderr.String())
	}
	waitLine := func(what, sub string, within time.Duration) (string, time.Time) {
		t.Helper()
		for deadline := time.Now().Add(within); ; {
			if l, at, ok := out.find(sub); ok {
				return l, at
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s (%q) within %s%s", what, sub, within, dump())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	page := startChromium(t, browser)
	// The server answers once the world has started.
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err := http.Get(base + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the live view never answered: %v%s", err, dump())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := page.call("Page.navigate", map[string]any{"url": base + "/"}, nil); err != nil {
		t.Fatal(err)
	}
	// Once the page has loaded, note when each "tick N" first shows in
	// esp1's console area (the browser's clock is the host's wall clock).
	install := `new Promise(res=>{const go=()=>{const pre=document.querySelector('section[data-board="esp1"] pre.console');if(!pre){setTimeout(go,20);return;}
window.__seen={};const scan=()=>{for(const m of pre.textContent.matchAll(/tick (\d+)/g)){if(!(m[1] in window.__seen))window.__seen[m[1]]=Date.now();}};
scan();new MutationObserver(scan).observe(pre,{childList:true,characterData:true,subtree:true});res(Object.keys(window.__seen).length);};
if(document.readyState==='loading')document.addEventListener('DOMContentLoaded',go);else go();})`
	var already int
	for deadline := time.Now().Add(15 * time.Second); ; {
		err := page.eval(install, &already)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never showed esp1's console: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Three ticks printed after the observer was in place.
	first := 0
	for {
		if _, _, ok := out.find("tick " + strconv.Itoa(first)); !ok {
			break
		}
		first++
	}
	first++ // the one being printed may predate the observer
	for n := first; n < first+3; n++ {
		_, printed := waitLine("console line", "tick "+strconv.Itoa(n), 40*time.Second)
		var shownMs int64
		for deadline := time.Now().Add(3 * time.Second); ; {
			if err := page.eval(fmt.Sprintf(`window.__seen[%q]||0`, strconv.Itoa(n)), &shownMs); err != nil {
				t.Fatal(err)
			}
			if shownMs != 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if shownMs == 0 {
			var console string
			page.eval(`document.querySelector('section[data-board="esp1"] pre.console').textContent`, &console)
			t.Fatalf("\"tick %d\" was printed but the page's console area did not show it within 3 s; it shows:\n%s%s", n, console, dump())
		}
		if late := time.UnixMilli(shownMs).Sub(printed); late > time.Second {
			t.Errorf("\"tick %d\" showed in the page %s after its print; want within 1 s", n, late)
		} else {
			t.Logf("\"tick %d\" showed in the page %s after its print", n, late)
		}
	}

	// Click the page's own button, as a user would.
	if l, _, ok := out.find("sim fault: ap_down SimNet"); ok {
		t.Fatalf("the AP went down before the click: %s", l)
	}
	var label string
	if err := page.eval(`(()=>{const b=document.querySelector('.faults button[data-kind="ap_down"][data-target="SimNet"]');if(!b)return '';b.click();return b.textContent;})()`, &label); err != nil {
		t.Fatal(err)
	}
	if label != "SimNet down" {
		t.Fatalf("the page has no \"SimNet down\" button (found %q)", label)
	}
	clicked := time.Now()
	_, off := waitLine("trace line", "SimNet switched off", 5*time.Second)
	if d := off.Sub(clicked); d > 2*time.Second {
		t.Errorf("SimNet switched off %s after the click", d)
	}
	waitLine("trace line", "sim fault: ap_down SimNet (injected)", time.Second)
	// The page tells what the server answered.
	var msg string
	for deadline := time.Now().Add(5 * time.Second); ; {
		page.eval(`document.getElementById('faultmsg').textContent`, &msg)
		if strings.TrimSpace(msg) == "ok" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.TrimSpace(msg) != "ok" {
		t.Errorf("the page's fault message reads %q, want the server's \"ok\"", msg)
	}
	// The echo stops answering: the board's TCP connection ends, its
	// socket closes in the trace, and the page's console says so.
	waitLine("console line", "connection ended [Errno 110] ETIMEDOUT", 10*time.Second)
	waitLine("trace line", "esp1 socket.close()", 5*time.Second)
	var console string
	for deadline := time.Now().Add(3 * time.Second); ; {
		page.eval(`document.querySelector('section[data-board="esp1"] pre.console').textContent`, &console)
		if strings.Contains(console, "connection ended") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(console, "connection ended [Errno 110] ETIMEDOUT") {
		t.Errorf("the page's console area does not show the connection ending:\n%s", console)
	}
	// The station notices the missing beacons (6 s on the SDK).
	waitLine("trace line", "esp1 disconnected", 15*time.Second)
	waitLine("console line", "wifi lost", 5*time.Second)

	select {
	case <-runDone:
		var ee *exec.ExitError
		if runErr != nil && !errors.As(runErr, &ee) {
			t.Errorf("run: %v", runErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the run did not end after the board's script did%s", dump())
	}
	if !strings.Contains(stderr.String(), "live view at "+base) {
		t.Errorf("stderr does not announce the live view: %s", stderr.String())
	}
}
