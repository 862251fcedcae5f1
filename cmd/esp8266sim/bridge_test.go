package main

// The host bridge demonstrations (issue 7): real programs on the host —
// curl, headless Chromium, netcat, a Python socket client — talk to
// simulated boards through --forward and --allow-host-port. Each test runs
// the esp8266sim binary as a user would, on free loopback ports, and stops
// it when done. Missing clients are installed with apt-get; a test skips
// (loudly) only when that installation is impossible.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/syncbuf"
)

func TestHostBridge(t *testing.T) {
	bin := buildBinary(t)
	t.Run("web server through curl and chromium", func(t *testing.T) {
		t.Parallel()
		testBridgeWebServer(t, bin)
	})
	t.Run("tcp client to nc on the host", func(t *testing.T) {
		t.Parallel()
		testBridgeNetcat(t, bin)
	})
	t.Run("python client drives echo server with loss", func(t *testing.T) {
		t.Parallel()
		testBridgeEcho(t, bin)
	})
	t.Run("host port not allowed is refused", func(t *testing.T) {
		t.Parallel()
		testBridgeRefused(t, bin)
	})
	t.Run("forward on a port in use", func(t *testing.T) {
		t.Parallel()
		testBridgePortInUse(t, bin)
	})
}

// testBridgeWebServer: scripts/web_server.py behind --forward PORT:esp1:80;
// curl gets the page, Chromium renders it.
func testBridgeWebServer(t *testing.T, bin string) {
	curl := bridgeNeedTool(t, "curl", "curl")
	chromium := bridgeNeedTool(t, "/usr/bin/chromium", "chromium")
	port := freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	sim := bridgeStart(t, bin, "run", filepath.Join("..", "..", "scripts", "web_server.py"),
		"--forward", fmt.Sprintf("%d:esp1:80", port), "--timeout", "2m")
	sim.waitStderr(t, fmt.Sprintf("http://127.0.0.1:%d → esp1:80", port), 15*time.Second)

	// The forward is open at once; the board needs ~2 s to join the WiFi
	// and listen. Until then the connection is reset: retry.
	var page string
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		out, err := exec.CommandContext(ctx, curl, "-sS", "--max-time", "4", url).CombinedOutput()
		cancel()
		page = string(out)
		if err == nil && strings.Contains(page, "Welcome to ESP8266 Server") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("curl %s never got the page: %v\n%s\nboard console:\n%s", url, err, out, sim.stdout.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(page, "<title>ESP8266 Server</title>") {
		t.Errorf("curl got %q; want the board's whole page", page)
	}
	// The board's accept() sees a peer on its LAN (the router), not the host.
	sim.waitStdout(t, "client connected from ('192.168.1.1', ", 5*time.Second)

	chrome := func(args ...string) []byte {
		t.Helper()
		profile := t.TempDir()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
			// Chromium still asks Google's update and account servers; tests
			// reach loopback only.
			"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"}
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, append(append(base, args...), url)...)
		cmd.Env = append(os.Environ(), "HOME="+profile)
		cmd.WaitDelay = 5 * time.Second
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %s: %v\n%s\nboard console:\n%s", strings.Join(args, " "), err, bridgeTail(stderr.String(), 2000), sim.stdout.String())
		}
		return out
	}
	dom := chrome("--dump-dom")
	if !bytes.Contains(dom, []byte("<h1>Welcome to ESP8266 Server</h1>")) {
		t.Errorf("chromium --dump-dom has no heading:\n%s", dom)
	}

	shot := filepath.Join(t.TempDir(), "page.png")
	if d := os.Getenv("BRIDGE_SCREENSHOT_DIR"); d != "" {
		shot = filepath.Join(d, "page.png") // keep it to look at
	}
	chrome("--screenshot="+shot, "--window-size=800,600", "--hide-scrollbars")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != 800 || b.Dy() != 600 {
		t.Errorf("screenshot is %dx%d; want 800x600", b.Dx(), b.Dy())
	}
	// The heading is dark text near the top of a white page; below it the
	// page is empty.
	dark := func(y0, y1 int) int {
		n := 0
		for y := b.Min.Y + y0; y < b.Min.Y+y1 && y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if (r+g+bl)/3 < 0x5000 {
					n++
				}
			}
		}
		return n
	}
	top, rest := dark(0, 120), dark(120, 600)
	t.Logf("screenshot: %d dark pixels in the top 120 rows, %d below", top, rest)
	if top < 300 || rest > 50 {
		t.Errorf("screenshot does not show the heading: %d dark pixels in the top 120 rows (want ≥ 300), %d below (want ≤ 50)", top, rest)
	}
}

// testBridgeNetcat: the tutorial's PC program is nc listening on the host;
// the board's TCP client reaches it as host.sim.internal.
func testBridgeNetcat(t *testing.T, bin string) {
	nc := bridgeNeedTool(t, "nc.openbsd", "netcat-openbsd")
	port := freePort(t)
	script := bridgeScript(t, "tcp_client_host.py", map[string]string{
		"port = 8888 ": fmt.Sprintf("port = %d ", port),
	})

	// -N: when the test closes nc's stdin, nc shuts its side down, as the
	// person closing the PC program would.
	ncCmd := exec.Command(nc, "-N", "-l", "127.0.0.1", strconv.Itoa(port))
	ncIn, err := ncCmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var ncOut bridgeBuffer
	ncCmd.Stdout, ncCmd.Stderr = &ncOut, &ncOut
	if err := ncCmd.Start(); err != nil {
		t.Fatal(err)
	}
	ncDone := make(chan struct{})
	var ncErr error
	go func() {
		ncErr = ncCmd.Wait()
		close(ncDone)
	}()
	t.Cleanup(func() {
		ncCmd.Process.Kill()
		<-ncDone
	})
	bridgeWaitListening(t, port)

	sim := bridgeStart(t, bin, "run", script, "--allow-host-port", strconv.Itoa(port), "--timeout", "2m")
	sim.waitStderr(t, fmt.Sprintf("127.0.0.1:%d as host.sim.internal:%d", port, port), 15*time.Second)
	ncOut.waitFor(t, "nc's output", "HelloThis is my IP.", 20*time.Second, sim)
	sim.waitStdout(t, fmt.Sprintf("TCP Connected to: host.sim.internal : %d\n", port), 5*time.Second)

	if _, err := io.WriteString(ncIn, "Hi from the host\n"); err != nil {
		t.Fatal(err)
	}
	ncOut.waitFor(t, "nc's output", "HelloThis is my IP.Hi from the host\n", 10*time.Second, sim)
	sim.waitStdout(t, "b'Hi from the host\\n'\n", 5*time.Second)

	ncIn.Close()
	select {
	case <-ncDone:
		if ncErr != nil {
			t.Errorf("nc: %v\n%s", ncErr, ncOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Errorf("nc did not end after the board closed the connection; board console:\n%s", sim.stdout.String())
	}
	if code := sim.wait(t, 15*time.Second); code != 0 {
		t.Errorf("esp8266sim exited %d; want 0\n%s", code, sim.stderr.String())
	}
	if out := sim.stdout.String(); !strings.HasSuffix(out, "Close socket\n") || strings.Contains(out, "please reset") {
		t.Errorf("board console should end with Close socket:\n%s", out)
	}
	if got := ncOut.String(); got != "HelloThis is my IP.Hi from the host\n" {
		t.Errorf("nc received %q; want the greeting and the echo only", got)
	}
}

// testBridgeEcho: a Python socket client on the host sends 1 000 lines
// through a forward to the board's echo server over a lossy link.
func testBridgeEcho(t *testing.T, bin string) {
	python := bridgeNeedTool(t, "python3", "python3")
	port := freePort(t)
	sim := bridgeStart(t, bin, "run", filepath.Join("testdata", "bridge", "echo_server.py"),
		"--forward", fmt.Sprintf("%d:esp1:7", port), "--loss", "5%", "--trace", "--format", "json", "--timeout", "2m")
	sim.waitStderr(t, fmt.Sprintf("http://127.0.0.1:%d → esp1:7", port), 15*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := exec.CommandContext(ctx, python, filepath.Join("testdata", "bridge", "echo_client.py"), strconv.Itoa(port), "1000")
	var clientErr bytes.Buffer
	client.Stderr = &clientErr
	client.WaitDelay = 5 * time.Second
	got, err := client.Output()
	if err != nil || string(got) != "echoed 1000 lines in order\n" {
		t.Fatalf("python client: %v\nstdout %q\nstderr:\n%s\ntrace:\n%s", err, got, bridgeTail(clientErr.String(), 2000), bridgeTail(sim.stdout.String(), 4000))
	}
	if code := sim.wait(t, 15*time.Second); code != 0 {
		t.Errorf("esp8266sim exited %d; want 0\n%s", code, sim.stderr.String())
	}
	// stdout is the trace, then the JSON report (then the trace of the
	// world closing).
	out := sim.stdout.String()
	var rep struct {
		Boards []struct {
			Console []string `json:"console"`
		} `json:"boards"`
	}
	trace := splitReport(t, out, &rep)
	if len(rep.Boards) != 1 {
		t.Fatalf("JSON report has %d boards, want 1\n%s", len(rep.Boards), bridgeTail(out, 4000))
	}
	console := rep.Boards[0].Console
	if len(console) != 4 || !strings.HasPrefix(console[2], "client connected from ('192.168.1.1', ") || console[3] != "echoed 1000 lines" {
		t.Errorf("board console %q; want it to accept a LAN peer and echo 1000 lines", console)
	}
	// The loss really applied on the simulated path, and TCP recovered.
	if n := strings.Count(trace, "DROP (loss)"); n == 0 {
		t.Errorf("the trace shows no frame lost to --loss 5%%:\n%s", bridgeTail(trace, 4000))
	} else {
		t.Logf("%d frames lost on the simulated link, %d retransmissions", n, strings.Count(trace, "(retransmission)"))
	}
}

// testBridgeRefused: the board reaches an allowed host port, and is refused
// on another one although a program listens there.
func testBridgeRefused(t *testing.T, bin string) {
	allowed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer allowed.Close()
	denied, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer denied.Close()
	allowedPort := allowed.Addr().(*net.TCPAddr).Port
	deniedPort := denied.Addr().(*net.TCPAddr).Port

	greeting := make(chan string, 1)
	go func() {
		c, err := allowed.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		buf := make([]byte, 100)
		n, _ := c.Read(buf)
		greeting <- string(buf[:n])
		io.WriteString(c, "hi board\n")
	}()
	deniedConns := make(chan string, 4)
	go func() {
		for {
			c, err := denied.Accept()
			if err != nil {
				return
			}
			deniedConns <- c.RemoteAddr().String()
			c.Close()
		}
	}()

	script := bridgeScript(t, "host_ports.py", map[string]string{
		"ALLOWED = 8888": fmt.Sprintf("ALLOWED = %d", allowedPort),
		"DENIED = 9999":  fmt.Sprintf("DENIED = %d", deniedPort),
	})
	sim := bridgeStart(t, bin, "run", script, "--allow-host-port", strconv.Itoa(allowedPort), "--timeout", "1m")
	code := sim.wait(t, 40*time.Second)
	console := sim.stdout.String()
	if code != 1 {
		t.Errorf("esp8266sim exited %d; want 1 (the script ends in the uncaught OSError)\n%s\n%s", code, console, sim.stderr.String())
	}
	for _, want := range []string{
		"allowed port answered: b'hi board\\n'\n",
		"refused with errno 104\n",
		"OSError: [Errno 104] ECONNRESET\n",
	} {
		if !strings.Contains(console, want) {
			t.Errorf("board console lacks %q:\n%s", want, console)
		}
	}
	if strings.Contains(console, "connected to a port that is not allowed") {
		t.Errorf("the board connected to a port that is not allowed:\n%s", console)
	}
	select {
	case g := <-greeting:
		if g != "hello from the board\n" {
			t.Errorf("the allowed port received %q", g)
		}
	default:
		t.Error("the program on the allowed port got no greeting")
	}
	select {
	case from := <-deniedConns:
		t.Errorf("the program on the port that is not allowed got a connection from %s", from)
	default:
	}
}

// testBridgePortInUse: a forward whose host port is taken fails at start,
// with one line naming the port.
func testBridgePortInUse(t *testing.T, bin string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	sim := bridgeStart(t, bin, "run", filepath.Join("..", "..", "scripts", "web_server.py"),
		"--forward", fmt.Sprintf("%d:esp1:80", port), "--timeout", "1m")
	code := sim.wait(t, 20*time.Second)
	msg := strings.TrimSpace(sim.stderr.String())
	if code != 2 {
		t.Errorf("esp8266sim exited %d; want 2 (usage error)\nstderr:\n%s", code, msg)
	}
	if strings.Contains(msg, "\n") || !strings.Contains(msg, strconv.Itoa(port)) || !strings.Contains(msg, "in use") {
		t.Errorf("want one line naming port %d as in use; stderr:\n%s", port, msg)
	}
	if out := sim.stdout.String(); out != "" {
		t.Errorf("the board should not have run; console:\n%s", out)
	}
}

// bridgeSim is a running esp8266sim.
type bridgeSim struct {
	cmd            *exec.Cmd
	stdout, stderr bridgeBuffer
	done           chan struct{}
	err            error
}

// splitReport splits esp8266sim's stdout with --trace --format json (the
// trace, then the JSON report), decodes the report into rep and returns
// the trace.
func splitReport(t *testing.T, out string, rep any) string {
	t.Helper()
	i := strings.Index(out, "{\n  \"scenario\"")
	if i < 0 {
		t.Fatalf("no JSON report on stdout:\n%s", bridgeTail(out, 4000))
	}
	if err := json.NewDecoder(strings.NewReader(out[i:])).Decode(rep); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, bridgeTail(out, 4000))
	}
	return out[:i]
}

// bridgeStart runs esp8266sim; the test's cleanup stops it (Ctrl-C, then
// kill) if it still runs.
func bridgeStart(t *testing.T, bin string, args ...string) *bridgeSim {
	t.Helper()
	return bridgeStartIn(t, "", bin, args...)
}

// bridgeStartIn is bridgeStart in the directory dir ("": the test's).
func bridgeStartIn(t *testing.T, dir, bin string, args ...string) *bridgeSim {
	t.Helper()
	s := &bridgeSim{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
			return
		default:
		}
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Errorf("esp8266sim did not stop within 10 s of Ctrl-C; killing it")
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// wait returns the exit status, failing the test if the run lasts longer
// than d.
func (s *bridgeSim) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(d):
		t.Fatalf("esp8266sim still runs after %v\nconsole:\n%s\nstderr:\n%s", d, bridgeTail(s.stdout.String(), 4000), s.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		return ee.ExitCode()
	}
	if s.err != nil {
		t.Fatalf("esp8266sim: %v", s.err)
	}
	return 0
}

func (s *bridgeSim) waitStdout(t *testing.T, want string, d time.Duration) {
	t.Helper()
	s.stdout.waitFor(t, "the board's console", want, d, s)
}

func (s *bridgeSim) waitStderr(t *testing.T, want string, d time.Duration) {
	t.Helper()
	s.stderr.waitFor(t, "esp8266sim's stderr", want, d, s)
}

// bridgeBuffer collects a process's output for concurrent readers.
type bridgeBuffer struct{ syncbuf.Buffer }

// waitFor waits until the buffer contains want.
func (b *bridgeBuffer) waitFor(t *testing.T, what, want string, d time.Duration, s *bridgeSim) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(b.String(), want) {
		exited := false
		if s != nil {
			select {
			case <-s.done:
				exited = true
			default:
			}
		}
		if exited || time.Now().After(deadline) {
			state := "still running"
			if exited {
				state = fmt.Sprintf("exited (%v)", s.err)
			}
			got := b.String()
			var console, stderr string
			if s != nil {
				console, stderr = s.stdout.String(), s.stderr.String()
			}
			t.Fatalf("waiting %v for %s to contain %q; got %q\nesp8266sim %s\nconsole:\n%s\nstderr:\n%s",
				d, what, want, bridgeTail(got, 2000), state, bridgeTail(console, 4000), stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bridgeWaitListening waits until something listens on 127.0.0.1:port,
// without connecting (nc -l serves one connection only).
func bridgeWaitListening(t *testing.T, port int) {
	t.Helper()
	want := fmt.Sprintf(":%04X ", port)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			time.Sleep(500 * time.Millisecond) // no procfs: give nc a moment
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			// local_address is field 1, st (0A = LISTEN) field 3.
			if len(f) > 3 && strings.HasSuffix(f[1]+" ", want) && f[3] == "0A" {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on 127.0.0.1:%d after 5 s", port)
}

// bridgeScript writes testdata/bridge/name with the replacements applied
// (each must occur) into a temporary directory.
func bridgeScript(t *testing.T, name string, repl map[string]string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "bridge", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for old, new := range repl {
		if !strings.Contains(s, old) {
			t.Fatalf("testdata/bridge/%s has no %q to replace", name, old)
		}
		s = strings.Replace(s, old, new, 1)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func bridgeTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

var (
	bridgeAptMu      sync.Mutex
	bridgeAptUpdated bool
)

// bridgeNeedTool returns the path of program name, installing Debian
// package pkg with apt-get when it is missing. The test skips, loudly, only
// when the installation is impossible (no apt-get, not root, no mirror).
func bridgeNeedTool(t *testing.T, name, pkg string) string {
	t.Helper()
	bridgeAptMu.Lock()
	defer bridgeAptMu.Unlock()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	skip := func(format string, a ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, a...)
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING %s: %s ***\n\n", t.Name(), msg)
		t.Skipf("SKIPPED, NOT TESTED: %s", msg)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		skip("%s is missing and there is no apt-get to install package %s", name, pkg)
	}
	if os.Geteuid() != 0 {
		skip("%s is missing and installing package %s needs root (run `sudo apt-get install -y %s`)", name, pkg, pkg)
	}
	apt := func(d time.Duration, args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.WaitDelay = 10 * time.Second
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, bridgeTail(string(out), 2000))
		}
		return nil
	}
	t.Logf("%s is missing: installing Debian package %s with apt-get", name, pkg)
	if !bridgeAptUpdated {
		if err := apt(5*time.Minute, "update"); err != nil {
			skip("%s is missing and cannot be installed: %v", name, err)
		}
		bridgeAptUpdated = true
	}
	if err := apt(10*time.Minute, "install", "-y", pkg); err != nil {
		skip("%s is missing and cannot be installed: %v", name, err)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		skip("package %s installed but %s is still missing: %v", pkg, name, err)
	}
	return p
}
