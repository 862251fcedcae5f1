package sim

import "testing"

// The port and file fields of the library services: an HTTP API, a
// broker and a mip index on ports other than their defaults (a board that
// used the defaults would be refused), a route's body and a package's
// module read from files next to the scenario.
func TestNetlibPortsAndFiles(t *testing.T) {
	res := runNetlib(t, `
duration: 60s
internet_hosts:
  - name: api.sim
    services:
      http_api:
        port: 8080
        routes: [{path: /f, file: testdata/netlib_answer.txt, content_type: text/plain}]
      mqtt: {port: 1884}
  - name: pkgs.sim
    services:
      mip:
        port: 8443
        packages:
          - name: filemod
            files: [{path: filemod.py, file: testdata/netlib_mod.py}]
boards:
  - name: esp1
    code: |
`+wifiUp+`
      import requests, mip
      from umqtt.simple import MQTTClient
      r = requests.get("http://api.sim:8080/f")
      print("api", r.status_code, r.text.strip())
      c = MQTTClient("esp1", "api.sim", port=1884)
      c.connect()
      c.publish(b"fields/port", b"on 1884")
      c.disconnect()
      mip.install("filemod", index="https://pkgs.sim:8443/pi/v2")
      import filemod
      print("mip", filemod.WHO)
expect:
  - console_contains: "api 200 answered from a file"
  - console_contains: "mip a module from a file"
  - mqtt_published: {broker: api.sim, topic: fields/port, payload: "on 1884"}
  - exit: clean
`)
	expectAll(t, res)
}
