package sim

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/syncbuf"
)

// syncBuffer is a console the test reads while the world writes it.
type syncBuffer = syncbuf.Buffer

// freePort is a loopback TCP port nobody listens on (now).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// webreplBoot is a boot.py that joins the WiFi and starts WebREPL, as
// webrepl_setup leaves it plus the usual connect lines.
const webreplBoot = `import network, time
sta = network.WLAN(network.STA_IF)
sta.active(True)
sta.connect("SimNet", "esp8266sim")
while not sta.isconnected():
    time.sleep_ms(100)
import webrepl
webrepl.start()
`

// WebREPL from the host: Debian's python3-websocket client, through a
// forward, logs in with webrepl_cfg.py's password, runs a command, puts a
// file and gets it back (WebREPL's binary records) and asks the version;
// a wrong password is denied.
func TestWebREPLFromTheHost(t *testing.T) {
	py := needPythonWebsocket(t)
	port := freePort(t)
	console, _ := startWorld(t, "webrepl.yaml", webreplYAML(port, "", ""), "Started webrepl in normal mode", "WebREPL did not start")
	client := func(password string) string {
		out, err := runPython(py, "testdata/webrepl_client.py", fmt.Sprintf("ws://127.0.0.1:%d/", port), password)
		if err != nil {
			t.Errorf("client: %v\n%s\nconsole:\n%s", err, out, console.String())
		}
		return string(out)
	}
	if got, want := client("wrong"), "prompt 'Password: '\nlogin False\n"; got != want {
		t.Errorf("wrong password: client printed\n%s\nwant\n%s", got, want)
	}
	want := `prompt 'Password: '
login True
command '42'
put open 0
put done 0
get open 0
get done 0 True 400
version (1, 27, 0)
size on board 400
`
	if got := client("secret"); got != want {
		t.Errorf("client printed\n%s\nwant\n%s", got, want)
	}
	if c := console.String(); !strings.Contains(c, "WebREPL connection from: ('192.168.1.1'") {
		t.Errorf("the board's console does not show the connection:\n%s", c)
	}
}

// A WebREPL client's keys are the board's UART input (os.dupterm): a
// client logs in while main.py sleeps in a loop and stops it with Ctrl-C
// (the board serves WebREPL in its waits), its keys answer a program's
// input(), Ctrl-C interrupts the next read as the
// interrupt character (for sys.stdin too, which would otherwise read it as
// a byte), and what the board prints reaches the client with the board's
// CRLF while the serial console shows it too. Without serial input the
// console keeps "\n" and sys.stdin is the firmware's, so that board
// interrupts input(); a board with serial input (a console_input entry
// that comes after the test) interrupts sys.stdin.read.
func TestWebREPLKeysReachInput(t *testing.T) {
	for _, tt := range []struct{ name, read, extra string }{
		{"no serial input", "input()", ""},
		{"serial input too", "sys.stdin.read(1)", "console_input:\n  - {at: 110s, line: \"late\"}\n"},
	} {
		t.Run(tt.name, func(t *testing.T) { webreplKeys(t, tt.read, tt.extra) })
	}
}

func webreplKeys(t *testing.T, read, extra string) {
	py := needPythonWebsocket(t)
	port := freePort(t)
	code := fmt.Sprintf(`    code: |
      import sys, time
      try:
          while True:
              time.sleep(1)
      except KeyboardInterrupt:
          print("stopped")
      print("hello", input("name? "))
      try:
          %s
      except KeyboardInterrupt:
          print("interrupted")
`, read)
	console, _ := startWorld(t, "webrepl.yaml", webreplYAML(port, code, extra), "Started webrepl in normal mode", "WebREPL did not start")
	out, err := runPython(py, "testdata/webrepl_input_client.py", fmt.Sprintf("ws://127.0.0.1:%d/", port), "secret")
	if err != nil {
		t.Fatalf("client: %v\n%s\nconsole:\n%s", err, out, console.String())
	}
	want := `stop 'stopped\r\n'
answer 'name? Ada\r\nhello Ada\r\n'
interrupt 'interrupted\r\n'
`
	if string(out) != want {
		t.Errorf("client printed\n%s\nwant\n%s", out, want)
	}
	c := console.String()
	for _, line := range []string{"| stopped\n", "| name? Ada\n", "| hello Ada\n", "| interrupted\n"} {
		if !strings.Contains(c, line) {
			t.Errorf("the serial console lacks %q:\n%s", line, c)
		}
	}
}

// webreplYAML is a realtime world whose esp1 starts WebREPL (password
// "secret") from boot.py, reached from the host's port; code is the rest
// of esp1's entry (its "code:" block, or empty), tail the rest of the
// scenario.
func webreplYAML(port int, code, tail string) string {
	return fmt.Sprintf(`
time_mode: realtime
duration: 2m
boards:
  - name: esp1
    files:
      - {path: /webrepl_cfg.py, content: "PASS = 'secret'\n"}
      - path: /boot.py
        content: |
%s
%sforwards:
  - "%d:esp1:8266"
%s`, indentLines(webreplBoot, "          "), code, port, tail)
}

// startWorld runs the scenario in the background until the test ends and
// waits up to a minute for mark on the console (failing with what). It
// returns the console and the end of that minute.
func startWorld(t *testing.T, name, yaml, mark, what string) (*syncBuffer, time.Time) {
	t.Helper()
	console := &syncBuffer{}
	startTestWorld(t, parseYAML(t, name, yaml), Options{Console: console})
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(console.String(), mark) {
		if time.Now().After(deadline) {
			t.Fatalf("%s; console:\n%s", what, console.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return console, deadline
}

// runPython runs a host client (python3 with args), giving it a minute.
func runPython(py string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, py, args...).CombinedOutput()
}

// needPythonWebsocket returns Debian's python3 with its websocket client,
// installing python3-websocket with apt-get when it is missing and the test
// runs as root (as make test does for its other real clients); otherwise
// the test is skipped, loudly.
func needPythonWebsocket(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	have := func() bool { return exec.Command(py, "-c", "import websocket").Run() == nil }
	if have() {
		return py
	}
	if _, err := exec.LookPath("apt-get"); err == nil && os.Geteuid() == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "python3-websocket")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("apt-get install python3-websocket: %v\n%s", err, out)
		}
		if have() {
			return py
		}
	}
	fmt.Fprintf(os.Stderr, "\n*** SKIPPING %s: Debian's python3-websocket is missing (apt-get install python3-websocket) ***\n\n", t.Name())
	t.Skip("SKIPPED, NOT TESTED: python3-websocket is missing")
	return ""
}

func indentLines(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n")
}

// webrepl_setup answered at the serial console, as a person does it:
// enabling WebREPL asks for a password (checking its length and the
// confirmation), writes webrepl_cfg.py and adds the start lines to
// boot.py; after the offered reboot WebREPL runs. The answers are typed
// at set times, each after its prompt is on the console.
func TestWebREPLSetup(t *testing.T) {
	res := runNetlib(t, `
duration: 40s
boards:
  - name: esp1
    files:
      - {path: /boot.py, content: "# boot.py\n"}
    code: |
      import os
      if "webrepl_cfg.py" not in os.listdir("/"):
          import webrepl_setup
          print("no reboot")
      print(open("webrepl_cfg.py").read(), open("boot.py").read())
console_input:
  - {at: 1s, line: "E"}
  - {at: 2s, line: "abc"}
  - {at: 3s, line: "secret1"}
  - {at: 4s, line: "secret2"}
  - {at: 5s, line: "secret1"}
  - {at: 6s, line: "secret1"}
  - {at: 7s, line: "y"}
`)
	// An interactive board's console is cooked (CRLF) throughout.
	c := res.Boards[0].Console
	for _, want := range []string{
		"WebREPL daemon auto-start status: disabled\r\n",
		"> E\r\nTo enable WebREPL, you must set password for it\r\n",
		"New password (4-9 chars): abc\r\nInvalid password length\r\n",
		"Confirm password: secret2\r\nPasswords do not match\r\n",
		"Changes will be activated after reboot\r\nWould you like to reboot now? (y/n) y\r\n",
		"Started webrepl in normal mode",
		"PASS = 'secret1'\r\n # boot.py\r\nimport webrepl\r\nwebrepl.start()\r\n",
	} {
		if !strings.Contains(c, want) {
			t.Errorf("console lacks %q:\n%q", want, c)
		}
	}
	if strings.Contains(c, "no reboot") {
		t.Errorf("the board did not reboot:\n%s", c)
	}
}

// After a soft reset (Ctrl-D at the REPL) boot.py starts WebREPL again on
// the same port (the old interpreter's listening socket is gone, as on the
// board). machine.soft_reset() in main.py would only end main.py: on the
// ESP8266 it is sys.exit() and the REPL follows.
func TestWebREPLAfterSoftReset(t *testing.T) {
	res := runNetlib(t, `
duration: 20s
boards:
  - name: esp1
    files:
      - {path: /webrepl_cfg.py, content: "PASS = 'secret'\n"}
      - {path: /boot.py, content: "import webrepl\nwebrepl.start()\n"}
console_input:
  - {at: 2s, text: "\x04"}
`)
	c := res.Boards[0].Console
	if !strings.Contains(c, "MPY: soft reboot") {
		t.Errorf("no soft reboot:\n%s", c)
	}
	if n := strings.Count(c, "Started webrepl in normal mode"); n != 2 {
		t.Errorf("WebREPL started %d times, want 2 (boot and soft reboot):\n%s", n, c)
	}
	if strings.Contains(c, "Traceback") {
		t.Errorf("the soft reboot failed:\n%s", c)
	}
}

// The websocket module on a board's own server: a python3-websocket client
// on the host sends a text line and gets it echoed, then a binary frame
// (ioctl 9 switches the frame type); its close reads as end of stream.
func TestWebsocketModule(t *testing.T) {
	py := needPythonWebsocket(t)
	port := freePort(t)
	console, deadline := startWorld(t, "ws.yaml", fmt.Sprintf(`
time_mode: realtime
duration: 1m
# Native CPU: "end None" needs the board's read to come before the client's
# close, which board-speed code (the default) loses to the host client.
cpu: native
boards:
  - name: esp1
    code: |
%s
      import socket, websocket, hashlib, binascii, time
      s = socket.socket()
      s.bind(("0.0.0.0", 8080))
      s.listen(1)
      print("listening")
      cl, addr = s.accept()
      key = None
      while True:
          l = cl.readline()
          if l == b"\r\n":
              break
          if l.startswith(b"Sec-WebSocket-Key:"):
              key = l.split(b":", 1)[1].strip()
      try:
          d = hashlib.sha1(key)
          d.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
          accept = binascii.b2a_base64(d.digest())[:-1]
      except AttributeError:
          # The webassembly firmware lacks hashlib.sha1 (the ESP8266 has
          # it); the client sends RFC 6455's sample key.
          accept = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
      cl.send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
      ws = websocket.websocket(cl, True)
      line = ws.readline()
      ws.write(b"echo: " + line)
      old = ws.ioctl(9, 2)
      ws.write(b"\x00\x01\x02")
      print("got", line, "text was", old, "last frame", ws.ioctl(8))
      print("end", ws.read(10))  # the blocking write left the socket non-blocking
      time.sleep(2)  # the run ends with the program: let the frames land
      ws.close()
forwards:
  - "%d:esp1:8080"
`, indentLines(strings.ReplaceAll(wifiUp, "      ", ""), "      "), port), "listening", "the board did not listen")
	script := fmt.Sprintf(`import websocket
ws = websocket.create_connection("ws://127.0.0.1:%d/", timeout=20, header={"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
ws.send("hello\n")
print(repr(ws.recv()))
op, data = ws.recv_data()
print(op, data)
ws.close()
`, port)
	out, err := runPython(py, "-c", script)
	if want := "'echo: hello\\n'\n2 b'\\x00\\x01\\x02'\n"; err != nil || string(out) != want {
		t.Errorf("client: %v\n%s\nwant\n%s\nconsole:\n%s", err, out, want, console.String())
	}
	for !strings.Contains(console.String(), "end None") {
		if time.Now().After(deadline) {
			t.Fatalf("the board did not see the close; console:\n%s", console.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c := console.String(); !strings.Contains(c, "got b'hello\\n' text was 1 last frame 1") {
		t.Errorf("board console:\n%s", c)
	}
}
