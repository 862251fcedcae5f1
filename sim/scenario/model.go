package scenario

import (
	"io/fs"
)

// Scenario is one simulated world: the network, the boards and their
// programs, what goes wrong when, and what must be true for the run to
// pass. Field names in the file are the json tag names. Zero values mean
// "use the default" (see ApplyDefaults) unless a comment says otherwise.
type Scenario struct {
	// Name identifies the scenario in reports; default: the file name
	// without its extension.
	Name string `json:"name,omitempty"`
	// Description is free text shown by `esp8266sim list`.
	Description string `json:"description,omitempty"`
	// Seed seeds every random decision of the run (loss, jitter, faults with
	// a probability, the boards' random numbers). Default 1; 0 means the
	// default.
	Seed uint64 `json:"seed,omitempty"`
	// Duration is the longest simulated time the run may take; the run
	// also ends earlier once every board's program has ended. Default 5m.
	Duration Duration `json:"duration,omitempty"`
	// TimeMode is "fast" (default) or "realtime"; realtime is the default
	// when the scenario has forwards or allow_host_ports.
	TimeMode TimeMode `json:"time_mode,omitempty"`
	// CPU is "board" (default: executed code costs ESP8266 CPU time at
	// 80 or 160 MHz, console output UART time) or "native" (code takes no
	// simulated time, as before the CPU model).
	CPU CPUModel `json:"cpu,omitempty"`
	// WiFi holds the access points. When the key is absent one default
	// access point is created (see DefaultSSID); an explicit empty list
	// means no WiFi at all.
	WiFi WiFi `json:"wifi"`
	// LANPeers are computers on an access point's LAN (the tutorial's PC).
	LANPeers []Host `json:"lan_peers,omitempty"`
	// InternetHosts are servers on the simulated internet behind the
	// routers; each is resolvable by its name.
	InternetHosts []Host `json:"internet_hosts,omitempty"`
	// DNS holds extra records and the initial failure mode of the routers'
	// DNS servers.
	DNS DNS `json:"dns"`
	// Boards are the simulated ESP8266 boards. At least one is required.
	Boards []Board `json:"boards"`
	// Links impair the attachment of a node to the medium.
	Links []Link `json:"links,omitempty"`
	// Forwards open ports on the real host that lead to a board's port.
	// A run with forwards or allowed host ports runs in realtime (real
	// programs are on the other end).
	Forwards []Forward `json:"forwards,omitempty"`
	// AllowHostPorts lists the real host's loopback ports that boards may
	// reach through the name host.sim.internal.
	AllowHostPorts []int `json:"allow_host_ports,omitempty"`
	// Internet opens the host's real network to the boards (off unless
	// asked; see Internet).
	Internet *Internet `json:"internet,omitempty"`
	// Faults is the timeline of things that go wrong (and right again).
	Faults []Fault `json:"faults,omitempty"`
	// ConsoleInput is what a person types at a board's serial console, and
	// when.
	ConsoleInput []ConsoleInput `json:"console_input,omitempty"`
	// Expect lists what must hold for the run to pass.
	Expect []Expect `json:"expect,omitempty"`

	// File is the scenario file as named to the loader ("" when built in
	// Go). Paths inside the scenario (scripts, flash files, pages) have been
	// resolved against its directory by the loader.
	File string `json:"-"`
	// FS is the file system the resolved paths are in; nil means the
	// operating system's. Read them with ReadFile.
	FS fs.FS `json:"-"`

	// lines maps field paths ("boards[0].heap") to their line in File.
	lines map[string]int
	// origins maps field paths set by an override to that override
	// ("--set boards[0].heap=1").
	origins map[string]string
	// defaultAP is set when ApplyDefaults created the access point.
	defaultAP bool
}

// WiFi is the radio environment.
type WiFi struct {
	// AccessPoints are the networks boards can scan and join. Each access
	// point is also the router of its own subnet (DHCP, DNS, gateway).
	AccessPoints []AccessPoint `json:"access_points"`
}

// AccessPoint is one WiFi network with its router.
type AccessPoint struct {
	// Name identifies the access point in faults and links; default: SSID.
	// Two access points with one SSID (roaming) need distinct names.
	Name string `json:"name,omitempty"`
	// SSID is the network name, 1 to 32 bytes.
	SSID string `json:"ssid"`
	// Security is open, wep, wpa-psk, wpa2-psk (default) or wpa-wpa2-psk.
	Security Security `json:"security,omitempty"`
	// Passphrase is the key: none for open; 5 or 13 characters (or 10/26
	// hex digits) for WEP; 8 to 63 characters (or 64 hex digits) for WPA.
	Passphrase string `json:"passphrase,omitempty"`
	// Channel is the 2.4 GHz channel, 1 to 14; default 6.
	Channel int `json:"channel,omitempty"`
	// BSSID is the access point's MAC ("aa:bb:cc:dd:ee:ff"); default
	// derived from the access point's position.
	BSSID string `json:"bssid,omitempty"`
	// Hidden hides the SSID from scans; boards can still join by name.
	Hidden bool `json:"hidden,omitempty"`
	// RSSI is the signal strength every board sees, in dBm (-100 to 0);
	// default -55.
	RSSI int `json:"rssi,omitempty"`
	// RSSIByBoard overrides RSSI for single boards.
	RSSIByBoard []BoardRSSI `json:"rssi_by_board,omitempty"`
	// Subnet is the LAN behind the access point in CIDR notation; default
	// 192.168.N.0/24 for the N-th access point (10.N.0.0/16 when the
	// scenario has more than 150 board instances).
	Subnet string `json:"subnet,omitempty"`
	// Router is the address of the router on the LAN (gateway, DHCP and DNS
	// server); default the first address of Subnet.
	Router string `json:"router,omitempty"`
	// DHCP configures the router's DHCP server.
	DHCP DHCP `json:"dhcp"`
	// MaxStations is a soft limit of associated stations; 0 means no limit.
	MaxStations int `json:"max_stations,omitempty"`
	// Down starts the access point switched off (an ap_up fault starts it).
	Down bool `json:"down,omitempty"`
}

// BoardRSSI is the signal strength one board sees from one access point.
type BoardRSSI struct {
	// Board is the board's name (all its replicas).
	Board string `json:"board"`
	// RSSI is the signal strength in dBm, -100 to 0.
	RSSI int `json:"rssi"`
}

// DHCP configures a router's DHCP server.
type DHCP struct {
	// RangeStart is the first address handed out; default the 100th address
	// of the subnet.
	RangeStart string `json:"range_start,omitempty"`
	// RangeEnd is the last address handed out; default the last usable
	// address of the subnet.
	RangeEnd string `json:"range_end,omitempty"`
	// Lease is the lease time; default 2h.
	Lease Duration `json:"lease,omitempty"`
	// Disabled turns the DHCP server off (boards need a static ifconfig).
	Disabled bool `json:"disabled,omitempty"`
}

// Host is a LAN peer or an internet host: a computer with services.
type Host struct {
	// Name identifies the host; an internet host's name is also its DNS
	// name (an A record is created for it).
	Name string `json:"name"`
	// IP is the host's IPv4 address. Default: LAN peers get the 2nd, 3rd, …
	// address of their access point's subnet; internet hosts get
	// 203.0.113.10, .11, … (TEST-NET-3).
	IP string `json:"ip,omitempty"`
	// AP names the access point whose LAN a LAN peer is on; default the
	// first. Not used for internet hosts.
	AP string `json:"ap,omitempty"`
	// Aliases are more DNS names for an internet host.
	Aliases []string `json:"aliases,omitempty"`
	// Services are the servers the host runs.
	Services Services `json:"services"`
	// Faults are host faults active from the start (host_fault events in
	// the timeline add more).
	Faults []HostFault `json:"faults,omitempty"`
	// Blackhole makes the host drop every packet sent to a port it has no
	// service on, silently: a connection attempt completes no handshake
	// (the client's SYNs go unanswered until it times out) where a host
	// without the port would answer with a reset. Its services still work.
	Blackhole bool `json:"blackhole,omitempty"`
}

// Services are the built-in servers of a host. A zero port means "off".
type Services struct {
	// HTTP serves a static site over plain HTTP.
	HTTP *Site `json:"http,omitempty"`
	// HTTPS serves a static site over TLS with a certificate for the host's
	// names, signed by the simulator's CA.
	HTTPS *Site `json:"https,omitempty"`
	// TCPEcho is the port of a TCP echo server.
	TCPEcho int `json:"tcp_echo,omitempty"`
	// TCPDiscard is the port of a TCP discard server (RFC 863): it reads
	// and drops everything, a sink for uploads and throughput tests.
	TCPDiscard int `json:"tcp_discard,omitempty"`
	// UDPEcho is the port of a UDP echo server.
	UDPEcho int `json:"udp_echo,omitempty"`
	// Chat is a line-based peer that sends and expects text (the
	// tutorial's PC program).
	Chat *Chat `json:"chat,omitempty"`
	// NTP runs an NTP server on UDP port 123 serving simulator time.
	NTP bool `json:"ntp,omitempty"`
	// HTTPAPI is an HTTP API answering by method and path (JSON, status,
	// headers, an echo of the request); HTTPSAPI the same over TLS.
	HTTPAPI  *API `json:"http_api,omitempty"`
	HTTPSAPI *API `json:"https_api,omitempty"`
	// MQTT runs an MQTT 3.1.1 broker.
	MQTT *Broker `json:"mqtt,omitempty"`
	// MIP serves a mip package index (micropython.org/pi/v2) over HTTPS.
	MIP *MIPIndex `json:"mip,omitempty"`
}

// Site is a static web site. Plain http may listen on 443 (a client that
// speaks TLS to it gets an HTTP 400 answer, which the ESP8266's axTLS reads
// as an oversized record).
type Site struct {
	// Port is the TCP port; default 80 for http, 443 for https.
	Port int `json:"port,omitempty"`
	// Pages are the site's resources; other paths answer 404.
	Pages []Page `json:"pages,omitempty"`
	// Headers are response headers sent with every answer of the site, in
	// this order after Server, Date, Content-Type, Content-Length and
	// Connection (a header of the same name replaces that default in its
	// place; an empty value removes it).
	Headers []Header `json:"headers,omitempty"`
	// HTTP11 answers HTTP/1.0 requests with an HTTP/1.1 status line, as
	// nginx and Apache do (micropython.org does); by default the answer
	// echoes the request's version.
	HTTP11 bool `json:"http11,omitempty"`
	// TLS shapes an https site's TLS (not allowed for http).
	TLS *SiteTLS `json:"tls,omitempty"`
}

// SiteTLS shapes an https site's TLS server.
type SiteTLS struct {
	// CipherSuites are the TLS 1.2 suites the server accepts, by name
	// (TLS_RSA_WITH_AES_128_CBC_SHA) or number (0x002f); default: Go's
	// defaults plus the RSA AES-CBC suites the ESP8266 offers. A list
	// without those makes an ESP8266's handshake fail (alert 40:
	// OSError(-40)).
	CipherSuites []string `json:"cipher_suites,omitempty"`
	// MaxVersion caps the TLS version: "1.2" or "1.3" (default).
	MaxVersion string `json:"max_version,omitempty"`
	// FullRecords sends 16 KB records from the start, as nginx does by
	// default (the default grows them from about 1.4 KB): an ESP8266 then
	// fails on pages over about 5 KB with RECORD_OVERFLOW, as it does
	// against such servers.
	FullRecords bool `json:"full_records,omitempty"`
	// Key is the certificate's key: rsa, ecdsa, or empty for both (the
	// client's offer picks; an ESP8266 gets RSA).
	Key string `json:"key,omitempty"`
	// SelfSigned serves a self-signed certificate instead of one from the
	// simulator's CA (clients that verify reject it; axTLS never checks).
	SelfSigned bool `json:"self_signed,omitempty"`
	// Intermediates is how many intermediate CAs stand between the
	// simulator's root CA and the site's certificate (0 to 8); the server
	// sends the whole chain.
	Intermediates int `json:"intermediates,omitempty"`
}

// Page is one resource of a site.
type Page struct {
	// Path is the URL path, starting with "/".
	Path string `json:"path"`
	// Body is the content, inline. Exactly one of Body and File is set.
	Body string `json:"body,omitempty"`
	// File is a file with the content, relative to the scenario file.
	File string `json:"file,omitempty"`
	// ContentType is the Content-Type header; default from the path's
	// extension, text/html for none.
	ContentType string `json:"content_type,omitempty"`
	// Status is the HTTP status code; default 200.
	Status int `json:"status,omitempty"`
	// Headers are response headers of this page, over the site's.
	Headers []Header `json:"headers,omitempty"`
}

// Header is an HTTP response header.
type Header struct {
	// Name is the header's name, e.g. ETag, sent as written; it matches a
	// default header whatever its case.
	Name string `json:"name"`
	// Value is the header's value; empty removes a default header.
	Value string `json:"value,omitempty"`
}

// Chat is a scripted line-based TCP peer.
type Chat struct {
	// Port is the port the peer listens on (listen) or connects to on the
	// board (connect).
	Port int `json:"port"`
	// Mode is listen (default: wait for the board) or connect (connect to
	// Board's server).
	Mode ChatMode `json:"mode,omitempty"`
	// Board is the board to connect to (connect mode).
	Board string `json:"board,omitempty"`
	// Start is when to connect (connect mode); default 0: as soon as the
	// board's port accepts, retrying every second.
	Start Duration `json:"start,omitempty"`
	// Steps run in order on each connection.
	Steps []ChatStep `json:"steps,omitempty"`
	// Echo, when true, echoes every received line back after the steps.
	Echo bool `json:"echo,omitempty"`
}

// ChatStep is one step of a chat script; exactly one field is set.
type ChatStep struct {
	// Send writes this text.
	Send string `json:"send,omitempty"`
	// Expect waits until the received text contains this.
	Expect string `json:"expect,omitempty"`
	// Wait pauses for this long.
	Wait Duration `json:"wait,omitempty"`
	// Close closes the connection.
	Close bool `json:"close,omitempty"`
}

// HostFault is a fault of a host's services, in fault-injection-proxy
// terms. Which fields apply depends on Kind.
type HostFault struct {
	// Kind is refuse, blackhole, reset_after, slow_close, bandwidth, slice
	// or latency.
	Kind HostFaultKind `json:"kind"`
	// Port limits the fault to one port; 0 means every port of the host.
	Port int `json:"port,omitempty"`
	// After: reset_after resets a connection this long after it opened.
	After Duration `json:"after,omitempty"`
	// Bytes: reset_after resets a connection after this much data (in
	// Direction); slice cuts writes into pieces of this size.
	Bytes ByteSize `json:"bytes,omitempty"`
	// Delay: slow_close delays the FIN; latency adds it to every write;
	// slice waits it between pieces.
	Delay Duration `json:"delay,omitempty"`
	// Jitter: latency varies Delay by up to this much.
	Jitter Duration `json:"jitter,omitempty"`
	// Rate: bandwidth limits the connection to this rate.
	Rate Bandwidth `json:"rate,omitempty"`
	// Probability is the chance that a connection is affected; default 100.
	Probability *Percent `json:"probability,omitempty"`
	// Direction is both (default), upstream (board → host) or downstream.
	Direction StreamDirection `json:"direction,omitempty"`
}

// DNS configures the routers' DNS servers. Every internet host's name and
// aliases are added as A records automatically.
type DNS struct {
	// Records are extra names.
	Records []DNSRecord `json:"records,omitempty"`
	// Fail is the failure mode at start: none (default), timeout, servfail,
	// nxdomain or wrong.
	Fail DNSFailMode `json:"fail,omitempty"`
	// WrongAddress is the answer in "wrong" mode; default 198.51.100.66.
	WrongAddress string `json:"wrong_address,omitempty"`
	// TTL is the TTL of answers; default 5m.
	TTL Duration `json:"ttl,omitempty"`
}

// DNSRecord is one name. Exactly one of A and CNAME is set.
type DNSRecord struct {
	// Name is the DNS name.
	Name string `json:"name"`
	// A is an IPv4 address for Name.
	A string `json:"a,omitempty"`
	// CNAME is another name that Name is an alias of.
	CNAME string `json:"cname,omitempty"`
}

// Board is one simulated ESP8266 (or Replicas identical ones).
type Board struct {
	// Name identifies the board (console prefix, reports, references);
	// letters, digits, '-' and '_'.
	Name string `json:"name"`
	// Profile is the board model; only "esp8266" (default) exists.
	Profile string `json:"profile,omitempty"`
	// Script is the file installed as /main.py, relative to the scenario
	// file. At most one of Script and Code; with neither the board boots
	// to the REPL.
	Script string `json:"script,omitempty"`
	// Code is the content of /main.py, inline.
	Code string `json:"code,omitempty"`
	// Files are more files on the board's flash (boot.py, data, modules).
	Files []FlashFile `json:"files,omitempty"`
	// Heap is the MicroPython heap in bytes; default the profile's (the
	// real board's 38 KiB budget).
	Heap ByteSize `json:"heap,omitempty"`
	// MAC is the station MAC; default an Espressif address derived from
	// the board's position. Replicas get consecutive addresses.
	MAC string `json:"mac,omitempty"`
	// Replicas clones the board this many times (default 1). Replicas are
	// named Name-1 … Name-N; a reference to Name means all of them.
	Replicas int `json:"replicas,omitempty"`
	// WiFi is the network the board remembers from an earlier connect():
	// like a real board it joins it at boot without being told.
	WiFi *RememberedWiFi `json:"wifi,omitempty"`
	// RSSI overrides the signal strength this board sees from every access
	// point, in dBm; 0 means no override.
	RSSI int `json:"rssi,omitempty"`
	// Devices are the parts wired to the board's pins and ADC (devices.go).
	Devices []Device `json:"devices,omitempty"`
}

// RememberedWiFi is the station configuration saved in a board's flash.
type RememberedWiFi struct {
	// SSID is the saved network.
	SSID string `json:"ssid"`
	// Password is the saved key.
	Password string `json:"password,omitempty"`
}

// FlashFile is one file on a board's flash file system.
type FlashFile struct {
	// Path is the absolute path on the board ("/boot.py", "/data/x.txt");
	// /lib is the simulator's and read-only.
	Path string `json:"path"`
	// From is a file relative to the scenario file to copy. Exactly one of
	// From and Content is set.
	From string `json:"from,omitempty"`
	// Content is the file's content, inline.
	Content string `json:"content,omitempty"`
}

// Link is the impairment of one node's attachment to the medium.
type Link struct {
	// Node is the attached node: a board (all its replicas), an access
	// point's name, a LAN peer or an internet host.
	Node string `json:"node"`
	// Direction is both (default), out (frames the node sends) or in.
	Direction LinkDirection `json:"direction,omitempty"`
	// Impairment is what happens to frames on the link.
	Impairment
}

// Impairment is what a link does to frames. The zero value is a perfect
// link.
type Impairment struct {
	// Latency is the one-way delay.
	Latency Duration `json:"latency,omitempty"`
	// Jitter is the random variation of Latency; frames never overtake
	// each other because of it (use Reorder for that).
	Jitter Duration `json:"jitter,omitempty"`
	// Distribution is the shape of the jitter: uniform (default), normal
	// or pareto.
	Distribution Distribution `json:"distribution,omitempty"`
	// Loss is the chance that a frame is lost, 0 to 100 (independent
	// losses; see GilbertElliott for bursts).
	Loss Percent `json:"loss,omitempty"`
	// GilbertElliott is bursty loss; not together with Loss.
	GilbertElliott *GilbertElliott `json:"gilbert_elliott,omitempty"`
	// Duplicate is the chance that a frame is delivered twice.
	Duplicate Percent `json:"duplicate,omitempty"`
	// Reorder is the chance that a frame is delivered without Latency,
	// overtaking earlier frames (netem's reorder: with no latency nothing
	// is reordered).
	Reorder Percent `json:"reorder,omitempty"`
	// Corrupt is the chance that one bit of a frame is flipped. The frame
	// keeps its bad checksum: a router drops it if the IPv4 header is hit,
	// else forwards it and the receiving stack drops it; the capture shows
	// it.
	Corrupt Percent `json:"corrupt,omitempty"`
	// Bandwidth is the link rate (serialization delay); 0 means unlimited.
	Bandwidth Bandwidth `json:"bandwidth,omitempty"`
	// QueueLimit is the number of frames waiting for the link beyond which
	// frames are dropped; default 1000 when Bandwidth is set.
	QueueLimit int `json:"queue_limit,omitempty"`
	// MTU is the largest IP packet the link carries; default 1500. It is
	// the node's interface MTU: its TCP advertises an MSS that fits, and a
	// router sends ICMP fragmentation-needed for a don't-fragment packet
	// too large for it. A larger frame arriving on the link is dropped.
	MTU int `json:"mtu,omitempty"`
	// Down cuts the link: every frame is dropped.
	Down bool `json:"down,omitempty"`
}

// GilbertElliott is the four-parameter bursty-loss model (netem's
// "loss gemodel p r 1-h 1-k"), each a percentage.
type GilbertElliott struct {
	// P is the chance of moving from the good to the bad state.
	P Percent `json:"p"`
	// R is the chance of moving from the bad to the good state.
	R Percent `json:"r"`
	// H is the chance that a frame survives in the bad state; default 0.
	H *Percent `json:"h,omitempty"`
	// K is the chance that a frame survives in the good state; default 100.
	K *Percent `json:"k,omitempty"`
}

// Forward opens a port on the real host leading to a board's port.
type Forward struct {
	// Proto is tcp (default) or udp.
	Proto Proto `json:"proto,omitempty"`
	// HostAddr is the host address to bind; default 127.0.0.1.
	HostAddr string `json:"host_addr,omitempty"`
	// HostPort is the port to bind on the host.
	HostPort int `json:"host_port"`
	// Board is the board (not a replicated one: name one replica).
	Board string `json:"board"`
	// BoardPort is the port on the board.
	BoardPort int `json:"board_port"`
}

// Fault is one event of the fault timeline. Which fields apply depends on
// Kind; see the FaultKind constants.
type Fault struct {
	// At is when the event happens, in simulator time from the start.
	At Duration `json:"at"`
	// For, on a reversible kind, undoes the event this long after At. Also
	// written "duration".
	For Duration `json:"for,omitempty" alias:"duration"`
	// Kind is what happens.
	Kind FaultKind `json:"kind"`
	// Target names what it happens to: an access point (ap_*, dns_*,
	// dhcp_*), a board (deauth, rssi, board_reset), a node (link) or a
	// host (host_*).
	Target string `json:"target,omitempty"`
	// AP narrows deauth and rssi to one access point.
	AP string `json:"ap,omitempty"`
	// RSSI is the new signal strength for rssi, in dBm.
	RSSI int `json:"rssi,omitempty"`
	// Link is the new impairment for link.
	Link *Impairment `json:"link,omitempty"`
	// Mode is how dns_fail fails: timeout, servfail, nxdomain or wrong.
	Mode DNSFailMode `json:"mode,omitempty"`
	// Name narrows dns_fail to one DNS name.
	Name string `json:"name,omitempty"`
	// HostFault is the fault for host_fault.
	HostFault *HostFault `json:"host_fault,omitempty"`
}

// ConsoleInput is text typed at a board's serial console.
type ConsoleInput struct {
	// At is when it is typed.
	At Duration `json:"at"`
	// Board receives it (every replica when replicated); may be omitted
	// when there is one board.
	Board string `json:"board,omitempty"`
	// Text is sent byte for byte ("\x03" is Ctrl-C, "\x04" Ctrl-D).
	Text string `json:"text,omitempty"`
	// Line is sent followed by Enter ("\r"). Exactly one of Text and Line.
	Line string `json:"line,omitempty"`
}

// Expect is one expectation. Exactly one of the check fields
// (ConsoleContains … SimTime) is set; Board, Peer, Within and Description
// qualify it.
type Expect struct {
	// ConsoleContains passes once the board's console shows this text.
	ConsoleContains string `json:"console_contains,omitempty"`
	// ConsoleMatches passes once the console matches this regular
	// expression (Go RE2 syntax, multi-line mode).
	ConsoleMatches string `json:"console_matches,omitempty"`
	// ConsoleNotContains fails as soon as the console shows this text.
	ConsoleNotContains string `json:"console_not_contains,omitempty"`
	// PeerReceived passes once a host's service received the text.
	PeerReceived *PeerReceived `json:"peer_received,omitempty"`
	// Exit checks how the board's program ended.
	Exit *ExitExpect `json:"exit,omitempty"`
	// SocketsEmptyAtEnd passes when the board's socket table is empty at
	// the end (every socket closed and out of TIME_WAIT).
	SocketsEmptyAtEnd bool `json:"sockets_empty_at_end,omitempty"`
	// Capture passes when frames in the capture show an exchange.
	Capture *CaptureExpect `json:"capture,omitempty"`
	// SimTime bounds the simulated time at which the run ended.
	SimTime *TimeBounds `json:"sim_time,omitempty"`
	// HTTPRequested passes when a host's HTTP API received a request.
	HTTPRequested *HTTPRequested `json:"http_requested,omitempty"`
	// MQTTPublished passes when a broker received a publication.
	MQTTPublished *MQTTPublished `json:"mqtt_published,omitempty"`
	// Pin checks a GPIO's level (devices.go).
	Pin *PinExpect `json:"pin,omitempty"`
	// ResetCause passes when the board booted at least once with this
	// machine.reset_cause() (1 WDT_RESET, 5 DEEPSLEEP_RESET, …).
	ResetCause *int `json:"reset_cause,omitempty"`
	// NeoPixel checks an LED's colour on a strip (devices.go).
	NeoPixel *NeoPixelExpect `json:"neopixel,omitempty"`
	// PWM checks a pin's PWM output at the end of the run (devices.go).
	PWM *PWMExpect `json:"pwm,omitempty"`
	// Display checks an ssd1306's panel (devices.go).
	Display *DisplayExpect `json:"display,omitempty"`

	// Board is the board the check is about; may be omitted when there is
	// one board. For a replicated board the check must hold for each.
	Board string `json:"board,omitempty"`
	// Within is a deadline in simulator time for console_contains,
	// console_matches, peer_received and capture; default: the end of
	// the run.
	Within Duration `json:"within,omitempty"`
	// Description replaces the generated description in reports.
	Description string `json:"description,omitempty"`
}

// PeerReceived expects text to arrive at a host's service.
type PeerReceived struct {
	// Peer is the LAN peer or internet host.
	Peer string `json:"peer"`
	// Text must appear in what the host received.
	Text string `json:"text"`
	// Port narrows to one service port; 0 means any.
	Port int `json:"port,omitempty"`
}

// ExitExpect is the expected end of a program; written as a kind alone
// ("clean") or with details.
type ExitExpect struct {
	// Kind is clean, exception or running.
	Kind ExitKind `json:"kind"`
	// Type is the exception's class name, e.g. "OSError" (exception only).
	Type string `json:"type,omitempty"`
	// Message must appear in the exception's message, e.g. "ECONNRESET"
	// or "[Errno 104]" (exception only).
	Message string `json:"message,omitempty"`
}

// CaptureExpect is an exchange that must appear in the capture; exactly
// one field is set.
type CaptureExpect struct {
	// TCPHandshake is a SYN, SYN-ACK, ACK between a board and a host.
	TCPHandshake *HandshakeExpect `json:"tcp_handshake,omitempty"`
	// DHCPDORA is a board whose DISCOVER, OFFER, REQUEST, ACK must appear.
	DHCPDORA string `json:"dhcp_dora,omitempty"`
	// DNSQuery is a name that must be queried (and answered or not).
	DNSQuery string `json:"dns_query,omitempty"`
}

// HandshakeExpect is a TCP three-way handshake.
type HandshakeExpect struct {
	// From is the connecting board.
	From string `json:"from"`
	// To is the host (name of a host or peer, or an IPv4 address).
	To string `json:"to"`
	// Port is the destination port.
	Port int `json:"port"`
}

// TimeBounds bounds a simulated time; a zero bound is not checked.
type TimeBounds struct {
	// Min is the earliest allowed.
	Min Duration `json:"min,omitempty"`
	// Max is the latest allowed.
	Max Duration `json:"max,omitempty"`
}
