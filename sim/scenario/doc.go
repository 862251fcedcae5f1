// Package scenario defines what a scenario is (the simulated world a run
// takes place in), loads it from YAML, TOML or JSON, checks it, and fills
// in defaults. It knows nothing of boards, networks or WiFi: the runner in
// package sim builds a world from a Scenario.
//
// # Loading
//
// Load reads a file; Parse reads bytes; ParseFS reads from an fs.FS (the
// embedded scenarios, see MountFS). Each decodes strictly (unknown keys
// and wrong types are errors), resolves the paths the scenario names
// (scripts, flash files, pages) against the scenario file's directory and
// checks that they exist, applies ApplyDefaults, and runs Validate:
//
//	s, err := scenario.Overrides{Set: []string{"seed=7"}, Env: true}.Load("scenarios/http_get.yaml")
//	if err != nil {
//		fmt.Fprintln(os.Stderr, err) // one line per problem
//	}
//
// Every error is an Errors list of FieldError values, in file order, each
// formatted "file:line: field: what is wrong; how to fix it":
//
//	scenarios/x.yaml:12: boards[0].heep: unknown key "heep" (did you mean "heap"?)
//	scenarios/x.yaml:20: links[0].loss: 150% is out of range; use 0 to 100
//	--set boards[3].heap=1: boards[3]: index 3 is out of range: the list has 1 entries (use index 1 to append)
//
// YAML and JSON files carry line numbers (JSON is read as YAML), and so
// do TOML files (viper reads the values, go-toml's syntax tree gives the
// lines; viper folds TOML keys to lower case, so there "Name" is "name").
// Overrides apply before decoding, so an
// overridden value is checked like one in the file: first ESP8266SIM_NAME,
// _DESCRIPTION, _SEED, _DURATION and _TIME_MODE from the environment
// (through viper) when Overrides.Env is set, then each --set key=value
// with a key like "boards[0].heap" ("forwards[+]" appends) and a YAML
// value.
//
// # Values
//
// Durations are Go duration strings ("10s", "250ms", "1h"). Percentages
// are numbers from 0 to 100 or strings like "10%". Bandwidths follow
// tc: "10mbit", "500kbit", "64kbps" (bytes). Sizes are numbers of bytes
// or strings like "4kb", "64KiB". Names refer to boards (a replicated
// board's name means all its replicas, "name-N" one of them), access
// points (by name, which defaults to the SSID) and hosts (LAN peers and
// internet hosts); they share one namespace.
//
// # A complete example
//
// The top-level key cpu (not in the example) is board (the default: the
// boards' code costs ESP8266 CPU time, see board/cputime.go) or native (code
// is free in simulated time).
//
// Every section, annotated (testdata/good/full.yaml; the same scenario is
// in full.toml and full.json):
//
//	# A complete scenario: every section, annotated. Paths are relative to this file.
//	name: http-get-under-faults
//	description: The HTTP GET tutorial, with a lossy link, an AP outage and a DNS failure.
//	seed: 42                 # every random decision derives from it
//	duration: 2m             # longest simulated time; the run ends earlier when every program has ended
//	time_mode: realtime      # fast (discrete-event, default) or realtime (needed by forwards)
//
//	wifi:
//	  access_points:
//	    - ssid: HomeNet
//	      security: wpa2-psk   # open | wep | wpa-psk | wpa2-psk | wpa-wpa2-psk
//	      passphrase: "secret-pass"
//	      channel: 11
//	      bssid: "a4:2b:b0:00:00:01"
//	      rssi: -60            # dBm, as every board sees it
//	      rssi_by_board:
//	        - {board: esp2, rssi: -82}
//	      subnet: 192.168.10.0/24
//	      router: 192.168.10.1
//	      dhcp: {range_start: 192.168.10.100, range_end: 192.168.10.199, lease: 1h}
//	      max_stations: 8
//
//	lan_peers:
//	  - name: pc               # the tutorial's PC program: a chat server on port 8888
//	    ip: 192.168.10.20
//	    services:
//	      chat:
//	        port: 8888
//	        steps:
//	          - expect: "Hello"
//	          - send: "hi board\n"
//	        echo: true
//
//	internet_hosts:
//	  - name: micropython.org
//	    ip: 176.58.119.26
//	    services:
//	      http:
//	        pages:
//	          - path: /ks/test.html
//	            file: site/test.html     # content from a file next to the scenario
//	      https:
//	        pages:
//	          - {path: /, body: "<h1>secure</h1>"}
//	      tcp_echo: 7
//	      udp_echo: 7
//	      ntp: true
//	    faults:
//	      - {kind: latency, delay: 50ms, jitter: 10ms, probability: 50%, direction: downstream}
//
//	dns:
//	  records:
//	    - {name: www.micropython.org, cname: micropython.org}
//	    - {name: printer.lan, a: 192.168.10.30}
//
//	boards:
//	  - name: esp1
//	    script: main.py                 # installed as /main.py
//	    files:
//	      - {path: /config.json, content: '{"debug": true}'}
//	      - {path: /boot.py, from: boot.py}
//	    heap: 40000
//	    mac: "5c:cf:7f:00:00:01"
//	  - name: esp2
//	    code: |
//	      print("hello from esp2")
//	    replicas: 3                     # esp2-1, esp2-2, esp2-3
//	    wifi: {ssid: HomeNet, password: secret-pass}   # remembered network: joins at boot
//
//	links:
//	  - node: esp1
//	    latency: 200ms
//	    jitter: 20ms
//	    distribution: normal
//	    loss: 10%
//	    duplicate: 1
//	    reorder: 0.5
//	    corrupt: 0.1
//	    bandwidth: 1mbit
//	    queue_limit: 50
//	    mtu: 1400
//	  - node: micropython.org
//	    direction: in
//	    gilbert_elliott: {p: 1, r: 25}
//
//	forwards:
//	  - "8080:esp1:80"
//	  - {proto: udp, host_port: 5005, board: esp2-1, board_port: 5005}
//	allow_host_ports: [8888]
//
//	faults:
//	  - {at: 10s, for: 5s, kind: ap_down, target: HomeNet}
//	  - {at: 20s, kind: link, target: esp1, link: {loss: 30}}
//	  - {at: 30s, duration: 10s, kind: dns_fail, mode: servfail, name: micropython.org}
//	  - {at: 45s, kind: host_fault, target: micropython.org, host_fault: {kind: reset_after, bytes: 1kb}}
//	  - {at: 50s, kind: host_ok, target: micropython.org}
//	  - {at: 55s, kind: deauth, target: esp2-1}
//	  - {at: 60s, kind: board_reset, target: esp1}
//
//	console_input:
//	  - {at: 1m, board: esp1, text: "\x03"}
//	  - {at: 61s, board: esp1, line: "print(42)"}
//
//	expect:
//	  - console_contains: "<html>"
//	    board: esp1
//	    within: 30s
//	  - {console_matches: 'got \d+ bytes', board: esp1}
//	  - {console_not_contains: Traceback, board: esp2}
//	  - peer_received: {peer: pc, text: Hello}
//	  - {exit: clean, board: esp1}
//	  - exit: {kind: exception, type: OSError, message: ECONNRESET}
//	    board: esp2
//	  - {sockets_empty_at_end: true, board: esp1}
//	  - capture: {tcp_handshake: {from: esp1, to: micropython.org, port: 80}}
//	  - capture: {dhcp_dora: esp1}
//	  - capture: {dns_query: micropython.org}
//	  - sim_time: {max: 90s}
//	    description: finishes in time
package scenario
