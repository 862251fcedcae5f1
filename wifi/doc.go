// Package wifi is the simulator's 802.11 layer: access points, the radio
// "air" they share with stations, scanning, the station's join state machine
// (probe → authenticate → associate → WPA 4-way handshake → DHCP) with the
// ESP8266 SDK's status codes, and the faults a scenario injects (AP down,
// deauthentication, signal changes, DHCP failure).
//
// Use it in this order:
//
//  1. Make one Air per world with New(Config{Clock, Seed, Trace, Timing}).
//  2. Add access points with Air.AddAP(APConfig{...}); the config is
//     validated and errors name the offending field.
//  3. Add a station per board with Air.NewStation(StationConfig{...}),
//     giving it an Uplink (how its network interface reaches the LAN behind
//     an access point) and an Addressing (its DHCP client and static
//     configuration). Both are small interfaces the sim layer satisfies with
//     netstack; the wifi layer only decides when the link is up and when the
//     DHCP client runs.
//  4. Drive the station the way the MicroPython network module drives the
//     ESP8266 SDK: SetActive, Connect, Disconnect, Status, StartScan.
//
// For a board, NewRadio wraps its station together with its soft-AP (SSID
// MicroPython-xxxxxx, key micropythoN, 192.168.4.1/24 with a DHCP server on
// a LAN of its own) and the state the SDK keeps for the network module; a
// Radio satisfies the board package's WLAN interface. NICUplink, LANs and
// NetAddressing are the netstack implementations of Uplink and Addressing
// (a board NIC moved onto the LAN behind the access point it joins, and
// netstack's lwIP-like DHCP client).
//
// Status follows the SDK: CONNECTING while a join or DHCP is in progress;
// WRONG_PASSWORD, NO_AP_FOUND or CONNECT_FAIL when an attempt fails, and
// that failure stays visible while the SDK keeps retrying in the background
// (until an attempt succeeds or disconnect() is called); CONNECTING again
// when an established association is lost; 255 while the interface is off.
// Scan results come in the order a channel sweep collects them: by
// channel, strongest first within a channel, then by BSSID.
//
// Every step takes simulator time from the world's vclock (defaults in
// DefaultTiming follow a real ESP8266: a successful join plus DHCP takes
// two to three seconds, a wrong passphrase is reported after the access
// point's handshake retransmissions time out, an unknown SSID after a scan of
// every channel). Every 802.11 step is reported as a readable trace line
// ("esp1 → SimNet assoc request").
//
// WPA/WPA2 passphrases are checked the real way: both sides derive the PMK
// with PBKDF2-HMAC-SHA1, the PTK with the 802.11 PRF, and the access point
// verifies the MIC of EAPOL-Key message 2 — so a wrong passphrase fails
// because the MIC does not verify, and the failure surfaces exactly as on the
// board (status STAT_WRONG_PASSWORD after the handshake times out).
//
// Concurrency: all state lives under one lock per Air. Timer callbacks run
// on the clock's goroutine; calls into Uplink, Addressing and the trace log
// are made after the lock is released, so they may call back into the
// package.
package wifi
