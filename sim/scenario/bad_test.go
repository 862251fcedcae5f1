package scenario

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBadScenarios loads one broken scenario per error class from
// testdata/bad and checks the exact messages: file, line, field, problem
// and fix, every problem of the file, in file order.
func TestBadScenarios(t *testing.T) {
	tests := []struct {
		file string
		// class is the kind of mistake the file shows.
		class string
		want  []string
	}{
		{
			file:  "bad_duration.yaml",
			class: "bad durations",
			want: []string{
				`@:1: duration: bad duration "10 parsecs": write a duration like "10s", "250ms" or "1h"`,
				`@:4: links[0].latency: integer 250 has no unit: write a duration like "10s", "250ms" or "1h" (e.g. "250ms")`,
			},
		},
		{
			file:  "bad_enum.yaml",
			class: "values outside an enumeration",
			want: []string{
				`@:1: time_mode: string "slow" is not one of "fast" or "realtime"`,
				`@:4: wifi.access_points[0].security: string "wpa3" is not one of "open", "wep", "wpa-psk", "wpa2-psk" or "wpa-wpa2-psk"`,
				`@:7: faults[0].kind: string "shake" is not one of "ap_down", "ap_up", "deauth", "rssi", "link", "dns_fail", "dns_ok", "dhcp_silent", "dhcp_nak", "host_fault", "host_ok" or "board_reset"`,
				`@:9: forwards[0]: bad forward "tcp:8080:esp1": write [tcp:|udp:][HOSTADDR:]HOSTPORT:BOARD:PORT, e.g. "8080:esp1:80"`,
			},
		},
		{
			file:  "bad_wifi.yaml",
			class: "WPA/open passphrases, channel, duplicate BSSID",
			want: []string{
				`@:3: wifi.access_points[0].passphrase: a wpa2-psk passphrase is 8 to 63 characters, got 5`,
				`@:3: wifi.access_points[0].channel: 15 is not a 2.4 GHz channel; use 1 to 14`,
				`@:4: wifi.access_points[1].passphrase: a wpa-psk passphrase is 8 to 63 characters, got 68`,
				`@:4: wifi.access_points[1].bssid: 02:00:00:00:00:01 is also the BSSID of wifi.access_points[0]; each access point needs its own`,
				`@:5: wifi.access_points[2].passphrase: an open network takes no passphrase; remove it or set security: wpa2-psk`,
			},
		},
		{
			file:  "duplicate_key.yaml",
			class: "a key given twice",
			want: []string{
				`@:3: key "seed" appears twice (first on line 1); remove one`,
			},
		},
		{
			file:  "duplicates.yaml",
			class: "duplicate IPs, board names and MACs",
			want: []string{
				`@:2: lan_peers[0].ip: address 192.168.1.1 is also wifi.access_points[0].router; every node needs its own address`,
				`@:5: internet_hosts[1].ip: address 93.184.216.34 is also internet_hosts[0].ip; every node needs its own address`,
				`@:8: boards[1].name: board name "esp1" is already used by boards[0].name; boards, access points and hosts need distinct names`,
				`@:8: boards[1].mac: board esp1 gets MAC 5c:cf:7f:00:00:01, already used by esp1; every board needs its own MAC`,
			},
		},
		{
			file:  "expect.yaml",
			class: "malformed expectations",
			want: []string{
				`@:3: expect[0]: console_contains and exit are separate checks; put each in its own list entry`,
				"@:4: expect[1].console_matches: bad regular expression: missing closing ): `(unclosed`",
				`@:5: expect[2].sim_time: min 10s is after max 5s`,
				`@:6: expect[3].within: sockets_empty_at_end has no deadline; remove within`,
				`@:7: expect[4]: no check: set one of console_contains, console_matches, console_not_contains, peer_received, exit, sockets_empty_at_end, capture, sim_time, http_requested, mqtt_published, pin, reset_cause, neopixel, display, pwm`,
			},
		},
		{
			file:  "devices.yaml",
			class: "devices and hardware expectations",
			want: []string{
				`@:6: boards[0].devices[0].kind: unknown device "buton"; use button, switch, led, potentiometer, light_sensor, dht11, dht22, ds18b20, neopixel, servo, ssd1306, bme280 or uart_peer`,
				`@:7: boards[0].devices[1].pin: missing: name the GPIO the button is on, e.g. pin: 0`,
				`@:8: boards[0].devices[2].pin: GPIO 7 is not a pin the ESP8266 offers; use 0-5, 9, 10, 12-16`,
				`@:9: boards[0].devices[3].pin: a potentiometer is on the ADC input A0; leave pin out`,
				`@:9: boards[0].devices[3].value: 2000 is out of range; the ADC reads 0..1024`,
				`@:10: boards[0].devices[4].timeline[0].level: 2: a pin level is 0 or 1`,
				`@:10: boards[0].devices[4].presses: only a button has presses`,
				`@:11: boards[0].devices[5].pin: GPIO 4 already has devices[4]`,
				`@:12: boards[0].devices[6]: an ssd1306 on SPI needs both cs and dc`,
				`@:13: boards[0].devices[7].cs: only an ssd1306 goes on the SPI bus`,
				`@:15: expect[0].pin.pin: GPIO 6 is not a pin the ESP8266 offers; use 0-5, 9, 10, 12-16`,
				`@:15: expect[0].pin.value: 3: a pin level is 0 or 1`,
				`@:15: expect[0].pin.at: 20s is after the end of the scenario (duration 10s); it would never happen`,
				`@:16: expect[1].reset_cause: 2 is not a reset cause; use 0 (PWRON), 1 (WDT), 4 (SOFT), 5 (DEEPSLEEP) or 6 (HARD)`,
				`@:17: expect[2].display.text: 25 characters: a 128-pixel panel shows at most 16`,
				`@:17: expect[2].display.cs: cs picks an SPI panel by its chip-select GPIO (0-5, 9, 10, 12-16), without addr`,
			},
		},
		{
			file:  "faults.yaml",
			class: "fault timeline misuse",
			want: []string{
				`@:4: faults[0].for: board_reset cannot be undone; remove for (reversible kinds: ap_down, rssi, link, dns_fail, dhcp_silent, dhcp_nak, host_fault)`,
				`@:5: faults[1].at: 2m0s is after the end of the scenario (duration 1m0s); it would never happen`,
				`@:6: faults[2].rssi: ap_up does not use rssi; remove it`,
				`@:7: faults[3].target: unknown host "esp1"; the scenario has no lan_peers or internet_hosts`,
				`@:7: faults[3].host_fault: missing: the fault, e.g. host_fault: {kind: refuse}`,
			},
		},
		{
			file:  "forwards.yaml",
			class: "forward ports out of range, duplicate host ports",
			want: []string{
				`@:4: forwards[0].host_port: port 70000 is out of range; use 1 to 65535`,
				`@:5: forwards[1].board_port: port 0 is out of range; use 1 to 65535`,
				`@:6: forwards[2].host_port: tcp port 8080 on 127.0.0.1 is already forwarded by forwards[1]`,
				`@:7: allow_host_ports[1]: port 8888 is already allowed by allow_host_ports[0]`,
			},
		},
		{
			file:  "impossible_link.yaml",
			class: "impossible impairments (loss 150 %, negative latency)",
			want: []string{
				`@:4: links[0].loss: 150% is out of range; use 0 to 100`,
				`@:5: links[0].latency: must not be negative, got -5ms`,
				`@:6: links[0].duplicate: -1% is out of range; use 0 to 100`,
				`@:7: links[0].mtu: 20 is out of range; use 576 to 9000`,
			},
		},
		{
			file:  "missing_file.yaml",
			class: "files the scenario names that do not exist",
			want: []string{
				`@:3: boards[0].script: file "nope.py" not found (looked for testdata/bad/nope.py); paths are relative to the scenario file`,
				`@:5: boards[0].files[0].from: file "data/missing.txt" not found (looked for testdata/bad/data/missing.txt); paths are relative to the scenario file`,
			},
		},
		{
			file:  "no_boards.yaml",
			class: "a scenario without boards",
			want: []string{
				`@: boards: no boards: add at least one, e.g. boards: [{name: esp1, script: main.py}]`,
			},
		},
		{
			file:  "not_a_mapping.yaml",
			class: "a document that is not a mapping",
			want: []string{
				`@:1: a scenario is a mapping of keys (name:, boards:, …), not a list`,
			},
		},
		{
			file:  "overlapping_subnets.yaml",
			class: "overlapping subnets",
			want: []string{
				`@:4: wifi.access_points[1].subnet: 10.0.5.0/24 overlaps 10.0.0.0/16 of wifi.access_points[0]; give each access point its own subnet`,
			},
		},
		{
			file:  "replicas.yaml",
			class: "replicas < 1 and MAC collisions of replicas",
			want: []string{
				`@:2: boards[0].replicas: must be 1 or more, got 0`,
				`@:3: boards[1].replicas: must be 1 or more, got -3`,
				`@:5: boards[3].mac: board four gets MAC 5c:cf:7f:00:00:08, already used by three-2; every board needs its own MAC`,
			},
		},
		{
			file:  "unknown_key.toml",
			class: "unknown key in TOML, with its line",
			want: []string{
				`@:3: boards[0].heep: unknown key "heep" (did you mean "heap"?)`,
			},
		},
		{
			file:  "unknown_key.yaml",
			class: "unknown key, with a suggestion",
			want: []string{
				`@:3: boards[0].heep: unknown key "heep" (did you mean "heap"?)`,
			},
		},
		{
			file:  "unknown_names.yaml",
			class: "unknown board, host and AP names in faults, forwards and expect",
			want: []string{
				`@:3: faults[0].target: unknown board "esp3"; known: esp1, esp2`,
				`@:4: faults[1].target: unknown host "nowhere.com"; the scenario has no lan_peers or internet_hosts`,
				`@:5: faults[2].target: unknown access point "Nope"; known: SimNet`,
				`@:7: forwards[0].board: unknown board "esp9"; known: esp1, esp2`,
				`@:9: expect[0].peer_received.peer: unknown host "pc"; the scenario has no lan_peers or internet_hosts`,
				`@:10: expect[1].board: missing: name the board (there are 2)`,
			},
		},
		{
			file:  "wrong_type.json",
			class: "wrong type in JSON, with its line",
			want: []string{
				`@:3: boards[0].heap: bad size string "lots": write a size like 1500, "4kb" or "64KiB"`,
			},
		},
		{
			file:  "wrong_type.yaml",
			class: "wrong types",
			want: []string{
				`@:1: seed: want a whole number (0 or more), got string "many"`,
				`@:4: boards[0].replicas: want an integer, got a list`,
			},
		},
		{
			file:  "yaml_syntax.yaml",
			class: "YAML syntax",
			want: []string{
				`@:1: not valid YAML: did not find expected '-' indicator`,
			},
		},
		{
			file:  "netlibs.yaml",
			class: "HTTP API, broker and their expectations",
			want: []string{
				`@:7: internet_hosts[0].services.http_api.routes[0].path: "nope": a URL path starts with /`,
				`@:7: internet_hosts[0].services.http_api.routes[0].status: 42 is not an HTTP status; use 100 to 599`,
				`@:7: internet_hosts[0].services.http_api.routes[0]: set at most one of json, body, file and echo`,
				`@:7: internet_hosts[0].services.http_api.routes[0].headers[0]: "no colon": write a header as "Name: value"`,
				`@:9: internet_hosts[0].services.mqtt.port: port 80 is already used by internet_hosts[0].services.http_api.port`,
				`@:10: internet_hosts[0].services.mqtt.publish[0].topic: "a/#": a publication needs a topic without wildcards`,
				`@:10: internet_hosts[0].services.mqtt.publish[0].qos: 2: the broker publishes with QoS 0 or 1`,
				`@:13: internet_hosts[0].services.mip.packages[0].name: "a/b": a package needs a name without slashes or spaces`,
				`@:13: internet_hosts[0].services.mip.packages[0].version: "latest": give a version like 1.0.0 (the last one listed is latest)`,
				`@:13: internet_hosts[0].services.mip.packages[0].files[0].path: "/abs.py": write a clean path relative to /lib, like "pkg/__init__.py"`,
				`@:13: internet_hosts[0].services.mip.packages[0].files[1]: set content or file (exactly one)`,
				`@:15: expect[0].http_requested.host: unknown host "nowhere"; known: api.sim`,
				"@:15: expect[0].http_requested.body_matches: bad regular expression: missing closing ): `(x`",
				`@:16: expect[1].mqtt_published.topic: missing: the topic the broker must receive`,
				`@:16: expect[1].mqtt_published.count: must not be negative, got -1`,
			},
		},
		{
			file:  "lines.toml",
			class: "TOML errors at every depth, with their lines",
			want: []string{
				`@:2: seed: want a whole number (0 or more), got string "x"`,
				`@:10: lan_peers[0].services.chat.steps[1].sned: unknown key "sned" (did you mean "send"?)`,
				`@:18: boards[1].files[1].contnet: unknown key "contnet" (did you mean "content"?)`,
				`@:19: boards[1].heap: bad size string "lots": write a size like 1500, "4kb" or "64KiB"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tt.file)
			_, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%s) succeeded, want errors (%s)", path, tt.class)
			}
			want := strings.ReplaceAll(strings.Join(tt.want, "\n"), "@", path)
			if got := err.Error(); got != want {
				t.Errorf("Load(%s) errors (%s):\n%s\nwant:\n%s", path, tt.class, got, want)
			}
			if n := len(AsErrors(err)); n != len(tt.want) {
				t.Errorf("AsErrors: %d problems, want %d", n, len(tt.want))
			}
		})
	}
}
