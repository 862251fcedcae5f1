package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// servePython returns a Python with pyserial (Debian's python3-serial),
// installing the package when it is missing.
func servePython(t *testing.T) string {
	t.Helper()
	bridgeNeedTool(t, "pyserial-miniterm", "python3-serial")
	py := "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import serial").CombinedOutput(); err != nil {
		t.Skipf("SKIPPED, NOT TESTED: %s cannot import pyserial: %v %s", py, err, out)
	}
	return py
}

// serveStart runs `esp8266sim serve` with the given arguments plus a
// fresh serial directory, and waits until it lists its ports.
func serveStart(t *testing.T, bin string, args ...string) (*bridgeSim, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "serial")
	s := bridgeStart(t, bin, append([]string{"serve", "--serial-dir", dir}, args...)...)
	s.waitStderr(t, "serving until interrupted", 60*time.Second)
	return s, dir
}

// serveClient runs one check of testdata/serial/client.py against url.
func serveClient(t *testing.T, py, url, check string) string {
	t.Helper()
	cmd := exec.Command(py, "testdata/serial/client.py", url, check)
	cmd.WaitDelay = 5 * time.Second
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("client %s on %s hung:\n%s", check, url, out)
	}
	if err != nil {
		t.Fatalf("client %s on %s: %v\n%s", check, url, err, out)
	}
	t.Logf("%s: %s", check, strings.TrimSpace(string(out)))
	return string(out)
}

// TestServe drives a served board as an independent client would: pyserial
// through the PTY symlink, socket:// and rfc2217:// (see
// testdata/serial/client.py for what each check asserts).
func TestServe(t *testing.T) {
	py := servePython(t)
	bin := buildBinary(t)
	port := freePort(t)
	// Native CPU: the flood below prints 2 MB, which at the board's 115200
	// baud takes 174 s of UART time (board/cputime.go).
	s, dir := serveStart(t, bin, "--serial-tcp", fmt.Sprint(port), "--cpu", "native")
	pty := filepath.Join(dir, "esp1")
	if target, err := os.Readlink(pty); err != nil || !strings.HasPrefix(target, "/dev/pts/") {
		t.Fatalf("%s: want a symlink to /dev/pts/N, got %q %v", pty, target, err)
	}
	if !strings.Contains(s.stderr.String(), "esp1: "+pty+" -> /dev/pts/") {
		t.Errorf("stderr does not list the port: %q", s.stderr.String())
	}
	tcp := fmt.Sprintf("127.0.0.1:%d", port)
	for _, tt := range []struct{ url, check string }{
		{pty, "files"},
		{pty, "rawreset"},
		{pty, "rawpaste"},
		{pty, "interrupts"},
		{pty, "inputline"},
		{pty, "wifi"},
		{pty, "reopen"},
		{pty, "garbage"},
		{"socket://" + tcp, "raw"},
		{"socket://" + tcp, "garbage"},
		{"rfc2217://" + tcp, "reset"},
		{"rfc2217://" + tcp, "download"},
		{"rfc2217://" + tcp, "files"},
	} {
		via := "pty"
		if i := strings.Index(tt.url, "://"); i > 0 {
			via = tt.url[:i]
		}
		t.Run(tt.check+"/"+via, func(t *testing.T) {
			serveClient(t, py, tt.url, tt.check)
		})
	}
	t.Run("thonny", func(t *testing.T) {
		// Thonny's own ESP8266 back-end, driven headless as its GUI does.
		bridgeNeedTool(t, "thonny", "thonny")
		cmd := exec.Command(py, "testdata/serial/thonny_driver.py", pty)
		cmd.WaitDelay = 5 * time.Second
		timer := time.AfterFunc(150*time.Second, func() { cmd.Process.Kill() })
		defer timer.Stop()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("thonny: %v\n%s", err, out)
		}
		t.Logf("thonny: %s", strings.TrimSpace(string(out)))
	})
	t.Run("client holds the port without reading", func(t *testing.T) {
		// A TCP client that never reads while the board prints 2 MB: the
		// board and the PTY client carry on.
		c, err := net.Dial("tcp", tcp)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		serveClient(t, py, pty, "flood")
	})
	// Ctrl-C (SIGINT) ends the run with the usual report, and removes the
	// symlink.
	s.cmd.Process.Signal(os.Interrupt)
	if code := s.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit %d after SIGINT; stderr:\n%s", code, s.stderr.String())
	}
	if !strings.Contains(s.stderr.String(), "PASS") {
		t.Errorf("no report after SIGINT: %q", bridgeTail(s.stderr.String(), 600))
	}
	if _, err := os.Lstat(pty); err == nil {
		t.Errorf("%s still exists after the run", pty)
	}
}

// TestServeTwoBoards serves a two-board scenario: each board has its own
// port, and the boards talk to each other over the world's WiFi, as
// run-multitests.py's two instances do.
func TestServeTwoBoards(t *testing.T) {
	py := servePython(t)
	bin := buildBinary(t)
	_, dir := serveStart(t, bin, "testdata/serial/two_boards.yaml", "--quiet")
	serveClient(t, py, filepath.Join(dir, "esp-1")+","+filepath.Join(dir, "esp-2"), "pair")
}

func TestServeBadInput(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	notLink := filepath.Join(dir, "taken")
	if err := os.MkdirAll(filepath.Join(notLink, "esp1"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"serial dir under a file", []string{"--serial-dir", filepath.Join(file, "sub")}, "cannot create the serial directory"},
		{"board name taken by a directory", []string{"--serial-dir", notLink}, "exists and is not a symlink"},
		{"port in use", []string{"--serial-dir", filepath.Join(dir, "a"), "--serial-tcp", fmt.Sprint(busyPort)}, "address already in use"},
		{"port out of range", []string{"--serial-tcp", "70000"}, "--serial-tcp must be a port"},
		{"no room for the boards", []string{"--serial-dir", filepath.Join(dir, "b"), "--serial-tcp", "65535", "--boards", "2"}, "leaves no room"},
		{"two arguments", []string{"a.py", "b.py"}, "at most one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"serve"}, tt.args...)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			cmd.Dir = dir
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("serve %v hung; stderr %q", tt.args, stderr.String())
			}
			code := cmd.ProcessState.ExitCode()
			msg := strings.TrimSpace(stderr.String())
			if code != 2 || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") || strings.Contains(msg, "panic") {
				t.Errorf("serve %v: exit %d, stderr %q; want exit 2 and one line with %q", tt.args, code, msg, tt.want)
			}
		})
	}
}

// TestReadmeServeExample runs the README's serve example: the serve line
// as written (in a scratch directory, with a free port for 4000), the
// symlink the miniterm and mpremote lines open, and the rfc2217 one-liner.
func TestReadmeServeExample(t *testing.T) {
	py := servePython(t)
	bin := buildBinary(t)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "## A board on a desk")
	if !ok {
		t.Fatal("README has no serve section")
	}
	_, block, _ = strings.Cut(block, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	lines := strings.Split(strings.TrimSpace(block), "\n")
	port := fmt.Sprint(freePort(t))
	serveLine := strings.TrimSuffix(strings.TrimSpace(lines[0]), "&")
	fields := strings.Fields(strings.ReplaceAll(serveLine, "4000", port))
	if len(fields) < 2 || fields[0] != "bin/esp8266sim" || fields[1] != "serve" {
		t.Fatalf("first line of the example is not a serve command: %q", lines[0])
	}
	dir := t.TempDir()
	s := bridgeStartIn(t, dir, bin, fields[1:]...)
	defer func() {
		s.cmd.Process.Signal(os.Interrupt)
		s.wait(t, 20*time.Second)
	}()
	s.waitStderr(t, "serving until interrupted", 60*time.Second)
	var oneLiner string
	for _, l := range lines[1:] {
		if strings.Contains(l, "esp8266sim-serial/esp1") {
			link := filepath.Join(dir, "esp8266sim-serial", "esp1")
			if _, err := os.Stat(link); err != nil {
				t.Errorf("the example opens %s: %v", link, err)
			}
		}
		if strings.HasPrefix(l, "python3 -c ") {
			oneLiner = l
		}
	}
	if oneLiner == "" {
		t.Fatal("no python3 -c line in the example")
	}
	code := strings.TrimPrefix(strings.ReplaceAll(oneLiner, "4000", port), "python3 -c ")
	code = strings.Trim(code, "\"")
	code = strings.ReplaceAll(code, `\\r`, `\r`)
	cmd := exec.Command(py, "-c", code)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", oneLiner, err, out)
	}
	s.waitStdout(t, "esp1 | 42", 20*time.Second)
}

// serve builds its world as run does (buildWorld), so run's world flags
// take effect on serve too: here --pcap, and --beacons, which serve used
// to accept and ignore (0: no beacon in the capture, so it is smaller).
func TestServeTakesRunsWorldFlags(t *testing.T) {
	bin := buildBinary(t)
	join := filepath.Join(t.TempDir(), "join.py")
	if err := os.WriteFile(join, []byte("import network\nsta = network.WLAN(network.STA_IF)\nsta.active(True)\nsta.connect('SimNet', 'esp8266sim')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	capture := func(beacons string) int {
		pcap := filepath.Join(t.TempDir(), "s.pcapng")
		s, _ := serveStart(t, bin, join, "--quiet", "--pcap", pcap, "--beacons", beacons)
		time.Sleep(4 * time.Second) // the board joins SimNet; the AP beacons
		s.cmd.Process.Signal(os.Interrupt)
		if code := s.wait(t, 20*time.Second); code != 0 {
			t.Fatalf("exit %d after SIGINT; stderr:\n%s", code, s.stderr.String())
		}
		data, err := os.ReadFile(pcap)
		if err != nil || len(data) == 0 {
			t.Fatalf("--pcap: %d bytes, %v", len(data), err)
		}
		return len(data)
	}
	often, none := capture("100ms"), capture("0")
	if often <= none+10*64 {
		t.Errorf("--beacons: %d capture bytes with a beacon every 100ms, %d with none; want the beacons in the first", often, none)
	}
}
