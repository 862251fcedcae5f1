package sim

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"testing"
)

// runNetlib runs a scenario given inline like runYAML; with
// ESP8266SIM_TEST_TRACE=1 it logs the world's trace.
func runNetlib(t *testing.T, yaml string) *Result {
	t.Helper()
	var trace bytes.Buffer
	var opts Options
	if os.Getenv("ESP8266SIM_TEST_TRACE") != "" {
		opts.Trace = &trace
		defer func() { t.Logf("trace:\n%s", trace.String()) }()
	}
	return runYAMLWith(t, yaml, opts)
}

// requests against an HTTP API: GET JSON, POST JSON (the server sees the
// body), PUT/DELETE/HEAD, headers, a 404, redirects (303 → GET, 307 keeps
// the method), a chunked upload, a chunked answer (ValueError, like the
// original module), HTTPS, urequests, and a timeout against a blackholed
// host.
func TestRequests(t *testing.T) {
	res := runNetlib(t, `
internet_hosts:
  - name: api.sim
    services:
      http_api:
        routes:
          - {method: GET, path: /data, json: '{"temp": 21.5, "ok": true}', headers: ["X-Rate: 7"]}
          - {method: POST, path: /echo, echo: true}
          - {method: PUT, path: /echo, echo: true}
          - {method: DELETE, path: /echo, status: 204}
          - {method: HEAD, path: /echo}
          - {path: /old, status: 303, location: "http://api.sim/data"}
          - {path: /moved, status: 307, location: "http://api.sim/echo"}
          - {path: /chunky, body: "abc", chunked: true}
          - {path: /teapot, status: 418, body: "short and stout", content_type: text/plain}
      https_api:
        routes:
          - {path: /secure, json: '{"tls": 1}'}
  - name: dark.sim
    services:
      http_api:
        routes: [{path: /, body: "never"}]
    faults:
      - {kind: blackhole}
boards:
  - name: esp1
    code: |
`+wifiUp+`
      import requests, urequests
      r = requests.get("http://api.sim/data")
      print("GET", r.status_code, r.json()["temp"], r.headers["X-Rate"], r.headers["Content-Type"])
      r = requests.post("http://api.sim/echo", json={"reading": 42}, headers={"X-Board": "esp1"})
      j = r.json()
      print("POST", r.status_code, j["json"]["reading"], j["headers"]["X-Board"], j["headers"]["Content-Type"])
      r = requests.put("http://api.sim/echo", data="raw=1")
      print("PUT", r.json()["data"])
      r = requests.delete("http://api.sim/echo")
      print("DELETE", r.status_code, r.content)
      r = requests.head("http://api.sim/echo")
      print("HEAD", r.status_code, r.headers["Content-Length"])
      r.close()
      r = requests.get("http://api.sim/nothing")
      print("404", r.status_code, r.reason, r.json()["error"])
      r = requests.get("http://api.sim/old")
      print("303", r.status_code, r.json()["ok"])
      r = requests.post("http://api.sim/moved", data="kept")
      print("307", r.json()["method"], r.json()["data"])
      def gen():
          yield b"part1-"
          yield b"part2"
      r = requests.post("http://api.sim/echo", data=gen())
      print("CHUNKED-UP", r.json()["data"], r.json()["headers"]["Transfer-Encoding"])
      try:
          requests.get("http://api.sim/chunky")
      except ValueError as e:
          print("CHUNKED-DOWN", repr(e))
      r = requests.get("http://api.sim/teapot")
      print("TEAPOT", r.status_code, r.text)
      r = urequests.get("https://api.sim/secure")
      print("HTTPS", r.status_code, r.json())
      try:
          requests.get("http://dark.sim/", timeout=3)
      except OSError as e:
          print("TIMEOUT", e)
expect:
  - console_contains: "GET 200 21.5 7 application/json"
  - console_contains: "POST 200 42 esp1 application/json"
  - console_contains: "PUT raw=1"
  - console_contains: "DELETE 204 b''"
  - console_contains: "HEAD 200 0"
  - console_contains: "404 404 b'Not Found' Not Found"
  - console_contains: "303 200 True"
  - console_contains: "307 POST kept"
  - console_contains: "CHUNKED-UP part1-part2 chunked"
  - console_contains: "CHUNKED-DOWN ValueError('Unsupported Transfer-Encoding: chunked\\r\\n',)"
  - console_contains: "TEAPOT 418 short and stout"
  - console_contains: "HTTPS 200 {'tls': 1}"
  - console_contains: "TIMEOUT [Errno 110] ETIMEDOUT"
  - exit: clean
  - http_requested: {host: api.sim, method: POST, path: /echo, body: '"reading": 42'}
  - http_requested: {host: api.sim, method: POST, path: /echo, body_matches: '^part1-part2$'}
  - http_requested: {host: api.sim, method: GET, path: /data}
`)
	expectAll(t, res)
}

// http_requested fails when no request matches, and says what came.
func TestHTTPRequestedFailsWithoutMatch(t *testing.T) {
	res := runNetlib(t, `
internet_hosts:
  - name: api.sim
    services:
      http_api:
        routes: [{path: /echo, echo: true}]
boards:
  - name: esp1
    code: |
`+wifiUp+`
      import requests
      requests.post("http://api.sim/echo", data="hello").close()
expect:
  - http_requested: {host: api.sim, method: POST, body: "goodbye"}
  - http_requested: {host: api.sim, method: GET}
`)
	for i, e := range res.Expectations {
		if e.Passed {
			t.Errorf("expectation %d (%s) passed; want failed", i, e.Description)
		}
		if !strings.Contains(e.Reason, `POST /echo "hello"`) {
			t.Errorf("expectation %d reason %q does not show the request that came", i, e.Reason)
		}
	}
}

// runNetlibWorld runs code as esp1's main.py in the default world of
// ad-hoc runs, with more top-level YAML (expect, faults) after it.
func runNetlibWorld(t *testing.T, code, more string) *Result {
	t.Helper()
	var b strings.Builder
	b.Write(DefaultWorld())
	b.WriteString("    code: |\n")
	for _, l := range strings.Split(strings.TrimRight(code, "\n"), "\n") {
		b.WriteString("      " + l + "\n")
	}
	b.WriteString(more)
	return runNetlib(t, b.String())
}

// ntptime in the default world: pool.ntp.org answers with the simulated
// date (2026-01-01 plus the time the board has run), settime() sets the
// RTC (put back to 2000 first: the board's starts at the world's date)
// and time.localtime() shows it; ntptime.host picks another server;
// with pool.ntp.org down the query ends in the socket's OSError,
// ETIMEDOUT, after ntptime.timeout.
func TestNTPTime(t *testing.T) {
	res := runNetlibWorld(t, strings.ReplaceAll(wifiUp, "      ", "")+`
import time, ntptime, machine
machine.RTC().datetime((2000, 1, 1, 6, 0, 0, 0, 0))
print("before", time.localtime()[:3])
ntptime.settime()
print("after", time.localtime()[:5])
print("secs", ntptime.time() - time.time() in (-1, 0, 1))
ntptime.host = "echo.sim"
print("other host", time.gmtime(ntptime.time())[0])
ntptime.host = "pool.ntp.org"
time.sleep(30)
ntptime.timeout = 2
t0 = time.ticks_ms()
try:
    ntptime.settime()
except OSError as e:
    print("down", e, time.ticks_diff(time.ticks_ms(), t0) // 1000)
`, `faults:
  - {at: 20s, kind: host_fault, target: pool.ntp.org, host_fault: {kind: refuse}}
expect:
  - console_contains: "before (2000, 1, 1)"
  - console_contains: "after (2026, 1, 1, 0, 0)"
  - console_contains: "secs True"
  - console_contains: "other host 2026"
  - console_matches: "down \\[Errno 110\\] ETIMEDOUT 2\\n"
  - exit: clean
`)
	expectAll(t, res)
}

// mqttSensorYAML is a sensor program on umqtt.simple and its broker.
const mqttSensorYAML = `
internet_hosts:
  - name: broker.sim
    services:
      mqtt:
        publish:
          - {at: 0s, topic: home/esp1/config, payload: "interval=1", retain: true}
          - {at: 8s, topic: home/esp1/cmd, payload: "led on", qos: 1}
boards:
  - name: esp1
    code: |
` + wifiUp + `
      import time
      from umqtt.simple import MQTTClient
      led = "off"
      def on_msg(topic, msg):
          global led
          print("got", topic, msg)
          if topic == b"home/esp1/cmd":
              led = msg.decode()
      c = MQTTClient("esp1", "broker.sim", keepalive=30)
      c.set_callback(on_msg)
      c.set_last_will(b"home/esp1/status", b"lost", retain=True)
      print("session", c.connect())
      c.subscribe(b"home/esp1/#", qos=1)
      c.publish(b"home/esp1/status", b"online", retain=True, qos=1)
      for i in range(8):
          c.publish(b"home/esp1/temp", b"%d.5" % (20 + i))
          c.check_msg()
          time.sleep(1.5)
      print("led", led)
      c.ping()
      c.wait_msg()
      c.disconnect()
      print("done")
expect:
  - console_contains: "session 0"
  - console_contains: "got b'home/esp1/config' b'interval=1'"
  - console_contains: "got b'home/esp1/cmd' b'led on'"
  - console_contains: "led led on"
  - console_contains: "done"
  - exit: clean
  - mqtt_published: {broker: broker.sim, topic: home/esp1/temp, payload_matches: '^2\d\.5$', count: 8}
  - mqtt_published: {broker: broker.sim, topic: home/esp1/status, payload: online}
  - {mqtt_published: {broker: broker.sim, topic: home/esp1/status, payload: lost}, description: no will after DISCONNECT}
`

// An unmodified sensor program: umqtt.simple publishes readings (QoS 0
// and 1, one retained), subscribes to a command topic, reacts to the
// command the broker's other client sends, and sees a retained message on
// subscribing. The broker keeps what it received for mqtt_published.
func TestMQTTSimpleSensor(t *testing.T) {
	res := runNetlib(t, mqttSensorYAML)
	for i, e := range res.Expectations {
		if want := i != len(res.Expectations)-1; e.Passed != want {
			t.Errorf("expectation %q passed=%v, want %v (%s)", e.Description, e.Passed, want, e.Reason)
		}
	}
	if t.Failed() {
		if n := strings.Count(res.Boards[0].Console, "lib before"); n != 1 {
			t.Errorf("the first boot ran %d times, want once", n)
		}
	}
}

// umqtt.robust against a broker on a LAN peer that goes down for 10 s:
// the connection is reset, reconnecting is refused until the broker is
// back, then the client reconnects (persistent session) and publishing
// resumes; readings made after the outage reach the broker.
func TestMQTTRobustReconnects(t *testing.T) {
	res := runNetlib(t, `
lan_peers:
  - name: pi
    ip: 192.168.1.20
    services:
      mqtt: {}
faults:
  - {at: 12s, for: 10s, kind: host_fault, target: pi, host_fault: {kind: refuse, port: 1883}}
boards:
  - name: esp1
    code: |
`+wifiUp+`
      import time
      from umqtt.robust import MQTTClient
      c = MQTTClient("esp1", "192.168.1.20", keepalive=60)
      c.DEBUG = True
      c.DELAY = 1
      c.connect(clean_session=False)
      for i in range(30):
          c.publish(b"sensors/count", b"%d" % i)
          time.sleep(1)
      print("published 30")
expect:
  - console_contains: "mqtt: OSError"
  - console_contains: "mqtt reconnect: OSError"
  - console_contains: "published 30"
  - exit: clean
  - mqtt_published: {broker: pi, topic: sensors/count, payload: "0"}
  - {mqtt_published: {broker: pi, topic: sensors/count, payload_matches: '^2[5-9]$', count: 5}, description: readings after the outage arrive}
  - {mqtt_published: {broker: pi, topic: sensors/count, payload_matches: '^\d+$', count: 27}, description: at most the readings sent into the outage are lost}
  - {mqtt_published: {broker: pi, topic: sensors/count, payload: "12"}, within: 20s, description: nothing arrives during the outage}
`)
	for i, e := range res.Expectations {
		if want := i != len(res.Expectations)-1; e.Passed != want {
			t.Errorf("expectation %q passed=%v, want %v (%s)", e.Description, e.Passed, want, e.Reason)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", res.Boards[0].Console)
	}
}

// The broker drops a client that stays silent past 1.5 × its keepalive
// and publishes its last will; a client that disconnects cleanly leaves
// none.
func TestMQTTKeepaliveAndWill(t *testing.T) {
	res := runNetlib(t, `
internet_hosts:
  - name: broker.sim
    services:
      mqtt: {}
boards:
  - name: esp1
    code: |
`+wifiUp+`
      import time
      from umqtt.simple import MQTTClient
      c = MQTTClient("quiet", "broker.sim", keepalive=4)
      c.set_last_will(b"status/quiet", b"gone")
      c.connect()
      time.sleep(10)
      try:
          c.publish(b"status/quiet", b"still here")
          c.publish(b"status/quiet", b"still here")
          print("published")
      except OSError as e:
          print("dropped", e)
      w = MQTTClient("watcher", "broker.sim")
      w.connect()
      w.publish(b"status/watcher", b"bye")
      w.disconnect()
      time.sleep(1)  # the run ends with the program; let the packets land
expect:
  - console_matches: "dropped|published"
  - mqtt_published: {broker: broker.sim, topic: status/quiet, payload: gone}
  - mqtt_published: {broker: broker.sim, topic: status/watcher, payload: bye}
  - {mqtt_published: {broker: broker.sim, topic: status/quiet, payload: "still here"}, description: nothing after the drop}
`)
	for i, e := range res.Expectations {
		if want := i != 3; e.Passed != want {
			t.Errorf("expectation %q passed=%v, want %v (%s)", e.Description, e.Passed, want, e.Reason)
		}
	}
	if t.Failed() {
		if n := strings.Count(res.Boards[0].Console, "lib before"); n != 1 {
			t.Errorf("the first boot ran %d times, want once", n)
		}
	}
}

// The default world answers the names the libraries' examples use:
// test.mosquitto.org runs a broker, httpbin.org echoes requests (HTTP and
// HTTPS).
func TestDefaultWorldNetlibHosts(t *testing.T) {
	res := runNetlibWorld(t, strings.ReplaceAll(wifiUp, "      ", "")+`
import time, requests
from umqtt.simple import MQTTClient
got = []
c = MQTTClient("esp1-demo", "test.mosquitto.org")
c.set_callback(lambda t, m: got.append(m))
c.connect()
c.subscribe(b"demo/#")
c.publish(b"demo/hello", b"hi")
c.wait_msg()
print("mqtt", got)
r = requests.post("http://httpbin.org/post", json={"a": 1})
print("httpbin", r.status_code, r.json()["json"])
r = requests.get("https://httpbin.org/get")
print("https", r.json()["headers"]["Host"])
r = requests.get("http://httpbin.org/status/404")
print("status", r.status_code)
import mip
mip.install("nothing-here")
c.disconnect()
time.sleep(1)
`, `expect:
  - console_contains: "mqtt [b'hi']"
  - console_contains: "httpbin 200 {'a': 1}"
  - console_contains: "https httpbin.org"
  - console_contains: "status 404"
  - console_contains: "Package not found: https://micropython.org/pi/v2/package/6/nothing-here/latest.json"
  - mqtt_published: {broker: test.mosquitto.org, topic: demo/hello, payload: hi}
  - http_requested: {host: httpbin.org, method: POST, path: /post, body: '"a": 1'}
`)
	expectAll(t, res)
}

// mip installs from the simulated index at micropython.org (HTTPS): the
// package and its dependency land in /lib and import; after a reboot they
// are still there; installing again finds the files current by hash; a
// pinned version, another target and an unknown package behave like the
// real mip.
func TestMIPInstallSurvivesReboot(t *testing.T) {
	res := runNetlib(t, `
internet_hosts:
  - name: micropython.org
    services:
      mip:
        packages:
          - name: ledfx
            version: 0.1.0
            files: [{path: ledfx.py, content: "def hello():\n    return 'old'\n"}]
          - name: ledfx
            version: 0.2.0
            files:
              - {path: ledfx.py, content: "from ledfx_core import RATE\ndef hello():\n    return 'blink at %d Hz' % RATE\n"}
            deps: [ledfx-core]
          - name: ledfx-core
            files:
              - {path: ledfx_core.py, content: "RATE = 2\n"}
              - {path: fx/__init__.py, content: "KIND = 'pkg'\n"}
boards:
  - name: esp1
    code: |
      import os
      try:
          os.stat("/lib/ledfx.py")
          first = False
      except OSError:
          first = True
`+strings.ReplaceAll(wifiUp, "      ", "          ")+`
      import mip
      if first:
          print("lib before", "lib" in os.listdir("/"))
          mip.install("ledfx")
          import ledfx, fx
          print("says", ledfx.hello(), fx.KIND)
          import machine
          machine.reset()
          print("no reset")
      print("after reboot", sorted(os.listdir("/lib")))
      import ledfx
      print("still", ledfx.hello())
      mip.install("ledfx")
      mip.install("ledfx", version="0.1.0", target="/old")
      print("old", open("/old/ledfx.py").read().split("'")[1])
      mip.install("nosuch")
expect:
  - console_contains: "lib before False"
  - console_not_contains: "no reset"
  - console_contains: "Installing ledfx (latest) from https://micropython.org/pi/v2 to /lib"
  - console_contains: "Copying: /lib/ledfx.py"
  - console_contains: "Copying: /lib/fx/__init__.py"
  - console_contains: "says blink at 2 Hz pkg"
  - console_contains: "after reboot ['fx', 'ledfx.py', 'ledfx_core.py']"
  - console_contains: "still blink at 2 Hz"
  - console_contains: "Exists: /lib/ledfx.py"
  - console_contains: "Copying: /old/ledfx.py"
  - console_contains: "old old"
  - console_contains: "Package not found: https://micropython.org/pi/v2/package/6/nosuch/latest.json\nPackage may be partially installed"
  - exit: clean
  - http_requested: {host: micropython.org, method: GET, path: /pi/v2/package/6/ledfx-core/latest.json}
`)
	expectAll(t, res)
	if n := strings.Count(res.Boards[0].Console, "lib before"); n != 1 {
		t.Errorf("the first boot ran %d times, want once", n)
	}
}

// upysh at the REPL: "from upysh import *" prints the manual, then the
// bare words and calls work on the flash filesystem.
func TestUpyshAtTheREPL(t *testing.T) {
	res := runNetlib(t, `
duration: 30s
boards:
  - name: esp1
    files:
      - {path: /notes.txt, content: "one\ntwo\nthree\n"}
console_input:
  - {at: 1s, line: "from upysh import *"}
  - {at: 2s, line: "mkdir('d')"}
  - {at: 3s, line: "cp('notes.txt', 'd')"}
  - {at: 4s, line: "cd('d')"}
  - {at: 5s, line: "pwd"}
  - {at: 6s, line: "ls"}
  - {at: 7s, line: "head('notes.txt', 2)"}
  - {at: 8s, line: "mv('notes.txt', 'n2.txt'); cat('n2.txt')"}
  - {at: 9s, line: "cd('/'); rm('d', recursive=True); ls"}
expect:
  - console_matches: '>>> from upysh import \*\r\n\r\nupysh is intended to be imported using:'
  - console_contains: "upysh commands:"
  - console_matches: '>>> pwd\r\n/d\r\n>>> ls\r\n {7}14 notes.txt\r\n\r\n[0-9,]+k free\r\n\r\n>>> '
  - console_matches: '>>> head\(''notes.txt'', 2\)\r\none\r\ntwo\r\n>>> '
  - console_matches: 'one\r\ntwo\r\nthree\r\n>>> '
  - console_matches: 'rm\(''d'', recursive=True\); ls\r\n {6}\d{3} boot.py\r\n {7}14 notes.txt\r\n\r\n[0-9,]+k free'
  - {console_matches: "rm of", description: "nothing fails"}
`)
	for i, e := range res.Expectations {
		if want := i != 6; e.Passed != want {
			t.Errorf("expectation %q passed=%v, want %v (%s)", e.Description, e.Passed, want, e.Reason)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%q", res.Boards[0].Console)
	}
}

// The same seed gives the same MQTT run: console, broker's verdicts with
// their times, frames and end time.
func TestMQTTSameSeedSameRun(t *testing.T) {
	// One CPU, as `esp8266sim run` runs a fast world (TestSameSeedSameRun).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	a, b := runNetlib(t, mqttSensorYAML), runNetlib(t, mqttSensorYAML)
	if a.Boards[0].Console != b.Boards[0].Console || a.Frames != b.Frames || a.SimTime != b.SimTime {
		t.Errorf("two runs differ: frames %d/%d, end %v/%v, consoles\n%s\n---\n%s", a.Frames, b.Frames, a.SimTime, b.SimTime, a.Boards[0].Console, b.Boards[0].Console)
	}
	for i := range a.Expectations {
		if a.Expectations[i].Reason != b.Expectations[i].Reason {
			t.Errorf("expectation %q: %q then %q", a.Expectations[i].Description, a.Expectations[i].Reason, b.Expectations[i].Reason)
		}
	}
}

// A broker that wants credentials refuses a client without them (CONNACK
// 5, MQTTException(5) as umqtt raises it) and one with a wrong password
// (4); with the right ones QoS 1 publications all arrive across a link
// that loses a fifth of its frames and adds latency.
func TestMQTTAuthAndLossyLink(t *testing.T) {
	res := runNetlib(t, `
internet_hosts:
  - name: broker.sim
    services:
      mqtt: {username: esp, password: s3cret}
links:
  - {node: broker.sim, loss: 20%, latency: 80ms, jitter: 20ms}
boards:
  - name: esp1
    code: |
`+wifiUp+`
      import time
      from umqtt.simple import MQTTClient, MQTTException
      for user, pw in ((None, None), ("esp", "wrong")):
          try:
              MQTTClient("esp1", "broker.sim", user=user, password=pw).connect()
          except MQTTException as e:
              print("refused", e)
      c = MQTTClient("esp1", "broker.sim", user="esp", password="s3cret", keepalive=30)
      c.connect()
      for i in range(10):
          c.publish(b"lossy/n", b"%d" % i, qos=1)
      c.disconnect()
      time.sleep(5)
      print("sent 10")
expect:
  - console_contains: "refused 5"
  - console_contains: "refused 4"
  - console_contains: "sent 10"
  - {mqtt_published: {broker: broker.sim, topic: lossy/n, payload_matches: '^\d$', count: 10}}
  - {mqtt_published: {broker: broker.sim, topic: lossy/n, payload: "9"}, within: 3s, description: the lossy link takes its time}
`)
	for i, e := range res.Expectations {
		if want := i != len(res.Expectations)-1; e.Passed != want {
			t.Errorf("expectation %q passed=%v, want %v (%s)", e.Description, e.Passed, want, e.Reason)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", res.Boards[0].Console)
	}
}
