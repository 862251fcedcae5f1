package scenario

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// scalar is one leaf value of a scenario document, whatever the format.
type scalar struct {
	// tag is the resolved type: "str", "int", "float", "bool" or "null".
	tag string
	// text is the value in canonical form: integers in decimal, floats as
	// strconv formats them, strings as they are.
	text string
	// raw is the value exactly as written ("0x1F", "01234567"), used when
	// a number is read into a string field.
	raw string
}

// describe names the value for an error message: `string "abc"`, `integer 5`.
func (s scalar) describe() string {
	switch s.tag {
	case "str":
		return fmt.Sprintf("string %q", s.text)
	case "int":
		return "integer " + s.text
	case "float":
		return "number " + s.text
	case "bool":
		return "boolean " + s.text
	case "null":
		return "null"
	}
	return fmt.Sprintf("%q", s.text)
}

// scalarDecoder is implemented by field types that are written as one
// scalar with their own syntax (durations, percentages, bandwidths, enums).
// The returned error message becomes the FieldError message.
type scalarDecoder interface {
	decodeScalar(s scalar) error
}

// shorthand is implemented by struct types that may also be written as one
// scalar (a forward as "8080:esp1:80", an exit expectation as "clean").
type shorthand interface {
	fromScalar(s scalar) error
}

// Duration is a span of simulator time written as a Go duration string:
// "10s", "250ms", "1h30m", "1.5s". A bare 0 is accepted; other bare numbers
// are rejected because their unit would be a guess.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats the duration the way time.Duration does ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the duration as time.Duration does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	return d.decodeScalar(scalar{tag: "str", text: string(b)})
}

const durationHint = `write a duration like "10s", "250ms" or "1h"`

func (d *Duration) decodeScalar(s scalar) error {
	switch s.tag {
	case "int", "float":
		if f, err := strconv.ParseFloat(s.text, 64); err == nil && f == 0 {
			*d = 0
			return nil
		}
		return fmt.Errorf("%s has no unit: %s (e.g. %q)", s.describe(), durationHint, s.text+"ms")
	case "str":
		v, err := time.ParseDuration(strings.TrimSpace(s.text))
		if err != nil {
			return fmt.Errorf("bad duration %q: %s", s.text, durationHint)
		}
		*d = Duration(v)
		return nil
	}
	return fmt.Errorf("want a duration, got %s: %s", s.describe(), durationHint)
}

// Percent is a percentage from 0 to 100, written as a number (10, 0.5) or a
// string with a percent sign ("10%"). Range is checked by Validate.
type Percent float64

// Fraction returns the percentage as a probability from 0 to 1.
func (p Percent) Fraction() float64 { return float64(p) / 100 }

// String formats the percentage as "10%".
func (p Percent) String() string { return strconv.FormatFloat(float64(p), 'g', -1, 64) + "%" }

const percentHint = `write a percentage from 0 to 100, like 10 or "10%"`

func (p *Percent) decodeScalar(s scalar) error {
	switch s.tag {
	case "int", "float", "str":
		t := strings.TrimSpace(s.text)
		if s.tag == "str" {
			t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
		}
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("bad percentage %s: %s", s.describe(), percentHint)
		}
		*p = Percent(f)
		return nil
	}
	return fmt.Errorf("want a percentage, got %s: %s", s.describe(), percentHint)
}

// Bandwidth is a data rate in bits per second, written like tc(8): "10mbit",
// "500kbit", "1gbit", "64kbps" (bps = bytes per second), or a bare number of
// bits per second. k, m, g are powers of 1000; ki, mi, gi powers of 1024.
type Bandwidth int64

// BitsPerSecond returns the rate in bits per second.
func (b Bandwidth) BitsPerSecond() int64 { return int64(b) }

// String formats the rate with the largest exact unit ("10mbit").
func (b Bandwidth) String() string {
	v := int64(b)
	for _, u := range []struct {
		name string
		mul  int64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}} {
		if v != 0 && v%u.mul == 0 {
			return strconv.FormatInt(v/u.mul, 10) + u.name
		}
	}
	return strconv.FormatInt(v, 10) + "bit"
}

// MarshalText writes the rate as String does.
func (b Bandwidth) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText parses a rate.
func (b *Bandwidth) UnmarshalText(t []byte) error {
	return b.decodeScalar(scalar{tag: "str", text: string(t)})
}

const bandwidthHint = `write a rate like "10mbit", "500kbit" or "64kbps"`

var rateUnits = map[string]float64{
	"": 1, "bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12,
	"kibit": 1 << 10, "mibit": 1 << 20, "gibit": 1 << 30,
	"bps": 8, "kbps": 8e3, "mbps": 8e6, "gbps": 8e9,
	"kibps": 8 << 10, "mibps": 8 << 20, "gibps": 8 << 30,
}

func (b *Bandwidth) decodeScalar(s scalar) error {
	switch s.tag {
	case "int", "str", "float":
		f, err := numberWithUnit(s.text, rateUnits)
		if err != nil || f > math.MaxInt64/2 {
			return fmt.Errorf("bad bandwidth %s: %s", s.describe(), bandwidthHint)
		}
		*b = Bandwidth(math.Round(f))
		return nil
	}
	return fmt.Errorf("want a bandwidth, got %s: %s", s.describe(), bandwidthHint)
}

// ByteSize is a number of bytes, written as a number or with a unit: "1500",
// "4kb", "64KiB", "1mb". k, m are powers of 1000; ki, mi powers of 1024.
type ByteSize int64

// String formats the size as a plain number of bytes.
func (n ByteSize) String() string { return strconv.FormatInt(int64(n), 10) }

const byteSizeHint = `write a size like 1500, "4kb" or "64KiB"`

var sizeUnits = map[string]float64{
	"": 1, "b": 1, "byte": 1, "bytes": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20, "gi": 1 << 30, "gib": 1 << 30,
}

func (n *ByteSize) decodeScalar(s scalar) error {
	switch s.tag {
	case "int", "str":
		f, err := numberWithUnit(s.text, sizeUnits)
		if err != nil || f > math.MaxInt64/2 || f != math.Trunc(f) {
			return fmt.Errorf("bad size %s: %s", s.describe(), byteSizeHint)
		}
		*n = ByteSize(f)
		return nil
	}
	return fmt.Errorf("want a size in bytes, got %s: %s", s.describe(), byteSizeHint)
}

// numberWithUnit parses "10mbit", "10 mbit", "1.5kb" with the given
// case-insensitive unit table.
func numberWithUnit(text string, units map[string]float64) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(text))
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.' || t[i] == '-' || t[i] == '+') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	mul, ok := units[unit]
	if !ok || num == "" {
		return 0, fmt.Errorf("unknown unit %q", unit)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("bad number %q", num)
	}
	return f * mul, nil
}

// enum is implemented by the string types that take one of a fixed set of
// values; the decoder rejects anything else and lists the valid values.
type enum interface {
	enumValues() []string
}

func decodeEnum(s scalar, valid []string, set func(string)) error {
	if s.tag == "str" {
		for _, v := range valid {
			if s.text == v {
				set(v)
				return nil
			}
		}
	}
	return fmt.Errorf("%s is not one of %s", s.describe(), quoteList(valid))
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// TimeMode says how the simulator clock advances.
type TimeMode string

// Time modes.
const (
	// Fast is discrete-event time: when every board waits, time jumps to the
	// next event. Reproducible for a seed.
	Fast TimeMode = "fast"
	// Realtime follows the wall clock (REPL, host bridges).
	Realtime TimeMode = "realtime"
)

func (TimeMode) enumValues() []string { return []string{string(Fast), string(Realtime)} }
func (m *TimeMode) decodeScalar(s scalar) error {
	return decodeEnum(s, m.enumValues(), func(v string) { *m = TimeMode(v) })
}

// CPUModel says whether the boards' executed code costs simulated time.
type CPUModel string

// CPU models.
const (
	// CPUBoard charges ESP8266 CPU time for executed code (the default).
	CPUBoard CPUModel = "board"
	// CPUNative makes executed code free in simulated time.
	CPUNative CPUModel = "native"
)

func (CPUModel) enumValues() []string { return []string{string(CPUBoard), string(CPUNative)} }
func (m *CPUModel) decodeScalar(s scalar) error {
	return decodeEnum(s, m.enumValues(), func(v string) { *m = CPUModel(v) })
}

// Security is an access point's authentication mode.
type Security string

// Security modes, as the ESP8266 port names them (network.SEC_*).
const (
	SecOpen    Security = "open"
	SecWEP     Security = "wep"
	SecWPA     Security = "wpa-psk"
	SecWPA2    Security = "wpa2-psk"
	SecWPAWPA2 Security = "wpa-wpa2-psk"
)

func (Security) enumValues() []string {
	return []string{string(SecOpen), string(SecWEP), string(SecWPA), string(SecWPA2), string(SecWPAWPA2)}
}
func (m *Security) decodeScalar(s scalar) error {
	return decodeEnum(s, m.enumValues(), func(v string) { *m = Security(v) })
}

// Distribution is the shape of a link's jitter.
type Distribution string

// Jitter distributions.
const (
	Uniform Distribution = "uniform"
	Normal  Distribution = "normal"
	Pareto  Distribution = "pareto"
)

func (Distribution) enumValues() []string {
	return []string{string(Uniform), string(Normal), string(Pareto)}
}
func (m *Distribution) decodeScalar(s scalar) error {
	return decodeEnum(s, m.enumValues(), func(v string) { *m = Distribution(v) })
}

// LinkDirection selects which of an attachment's two links an impairment
// applies to.
type LinkDirection string

// Link directions, seen from the attached node.
const (
	// Both applies the impairment to frames sent and received by the node.
	Both LinkDirection = "both"
	// Out applies it to frames the node sends (node → medium).
	Out LinkDirection = "out"
	// In applies it to frames the node receives (medium → node).
	In LinkDirection = "in"
)

func (LinkDirection) enumValues() []string { return []string{string(Both), string(Out), string(In)} }
func (m *LinkDirection) decodeScalar(s scalar) error {
	return decodeEnum(s, m.enumValues(), func(v string) { *m = LinkDirection(v) })
}

// StreamDirection selects which direction of a host connection a host
// fault affects, in fault-injection-proxy terms.
type StreamDirection string

// Stream directions.
const (
	// BothWays affects data in both directions.
	BothWays StreamDirection = "both"
	// Upstream is data from the client (the board) to the host.
	Upstream StreamDirection = "upstream"
	// Downstream is data from the host to the client (the board).
	Downstream StreamDirection = "downstream"
)

func (StreamDirection) enumValues() []string {
	return []string{string(BothWays), string(Upstream), string(Downstream)}
}
func (m *StreamDirection) decodeScalar(s scalar) error {
	return decodeEnum(s, m.enumValues(), func(v string) { *m = StreamDirection(v) })
}

// HostFaultKind is what a host does wrong.
type HostFaultKind string

// Host fault kinds (the toxics of fault-injection proxies).
const (
	// Refuse answers connection attempts with RST (port closed, host down).
	Refuse HostFaultKind = "refuse"
	// Blackhole accepts connections and never sends anything back.
	Blackhole HostFaultKind = "blackhole"
	// ResetAfter resets each connection After a time or Bytes of data.
	ResetAfter HostFaultKind = "reset_after"
	// SlowClose delays the host's FIN by Delay.
	SlowClose HostFaultKind = "slow_close"
	// Throttle limits the connection to Rate.
	Throttle HostFaultKind = "bandwidth"
	// Slice cuts writes into Size-byte segments Delay apart.
	Slice HostFaultKind = "slice"
	// Latency adds Delay (± Jitter) to each write.
	Latency HostFaultKind = "latency"
)

func (HostFaultKind) enumValues() []string {
	return []string{string(Refuse), string(Blackhole), string(ResetAfter), string(SlowClose),
		string(Throttle), string(Slice), string(Latency)}
}
func (m *HostFaultKind) decodeScalar(s scalar) error {
	return decodeEnum(s, m.enumValues(), func(v string) { *m = HostFaultKind(v) })
}

// DNSFailMode is how the router's DNS server fails.
type DNSFailMode string

// DNS failure modes.
const (
	// DNSNone answers normally.
	DNSNone DNSFailMode = "none"
	// DNSTimeout drops queries (the client times out).
	DNSTimeout DNSFailMode = "timeout"
	// DNSServfail answers SERVFAIL.
	DNSServfail DNSFailMode = "servfail"
	// DNSNXDomain answers NXDOMAIN for every name.
	DNSNXDomain DNSFailMode = "nxdomain"
	// DNSWrong answers with DNS.WrongAddress instead of the real address.
	DNSWrong DNSFailMode = "wrong"
)

func (DNSFailMode) enumValues() []string {
	return []string{string(DNSNone), string(DNSTimeout), string(DNSServfail), string(DNSNXDomain), string(DNSWrong)}
}
func (m *DNSFailMode) decodeScalar(s scalar) error {
	return decodeEnum(s, m.enumValues(), func(v string) { *m = DNSFailMode(v) })
}

// ChatMode says which side of the chat connection a peer plays.
type ChatMode string

// Chat modes.
const (
	// Listen waits for the board to connect (the tutorial's PC server).
	Listen ChatMode = "listen"
	// Connect connects to a board's server (the tutorial's PC client).
	Connect ChatMode = "connect"
)

func (ChatMode) enumValues() []string { return []string{string(Listen), string(Connect)} }
func (m *ChatMode) decodeScalar(s scalar) error {
	return decodeEnum(s, m.enumValues(), func(v string) { *m = ChatMode(v) })
}

// Proto is a transport protocol of a port forward.
type Proto string

// Transport protocols.
const (
	TCP Proto = "tcp"
	UDP Proto = "udp"
)

func (Proto) enumValues() []string { return []string{string(TCP), string(UDP)} }
func (m *Proto) decodeScalar(s scalar) error {
	return decodeEnum(s, m.enumValues(), func(v string) { *m = Proto(v) })
}

// FaultKind is one kind of timeline event.
type FaultKind string

// Fault kinds. Those marked "reversible" accept For: after it the opposite
// event happens (ap_down → ap_up, link → the previous impairment, …).
const (
	// APDown switches access point Target off (reversible).
	APDown FaultKind = "ap_down"
	// APUp switches access point Target on.
	APUp FaultKind = "ap_up"
	// Deauth disconnects board Target from its access point (or from AP).
	Deauth FaultKind = "deauth"
	// RSSIChange sets the signal board Target sees from AP (or every AP) to
	// RSSI dBm (reversible).
	RSSIChange FaultKind = "rssi"
	// LinkChange replaces the impairment of node Target's attachment with
	// Link (reversible).
	LinkChange FaultKind = "link"
	// DNSFail makes the DNS server of access point Target fail with Mode
	// (default timeout), for Name only when given (reversible).
	DNSFail FaultKind = "dns_fail"
	// DNSOK ends a dns_fail.
	DNSOK FaultKind = "dns_ok"
	// DHCPSilent makes the DHCP server of AP Target ignore requests (reversible).
	DHCPSilent FaultKind = "dhcp_silent"
	// DHCPNak makes the DHCP server of AP Target NAK requests (reversible).
	DHCPNak FaultKind = "dhcp_nak"
	// HostFaultOn starts HostFault on host or LAN peer Target (reversible).
	HostFaultOn FaultKind = "host_fault"
	// HostOK clears every host fault of Target.
	HostOK FaultKind = "host_ok"
	// BoardReset presses the reset button of board Target.
	BoardReset FaultKind = "board_reset"
)

func (FaultKind) enumValues() []string {
	return []string{string(APDown), string(APUp), string(Deauth), string(RSSIChange), string(LinkChange),
		string(DNSFail), string(DNSOK), string(DHCPSilent), string(DHCPNak), string(HostFaultOn),
		string(HostOK), string(BoardReset)}
}
func (m *FaultKind) decodeScalar(s scalar) error {
	return decodeEnum(s, m.enumValues(), func(v string) { *m = FaultKind(v) })
}

// Reversible reports whether a fault of this kind accepts For.
func (k FaultKind) Reversible() bool {
	switch k {
	case APDown, RSSIChange, LinkChange, DNSFail, DHCPSilent, DHCPNak, HostFaultOn:
		return true
	}
	return false
}

// ExitKind is how a board's program ended.
type ExitKind string

// Exit kinds, shared with the report package's vocabulary.
const (
	// ExitClean: main.py returned (or called sys.exit(0)).
	ExitClean ExitKind = "clean"
	// ExitException: main.py ended with an uncaught exception.
	ExitException ExitKind = "exception"
	// ExitRunning: the program was still running when the scenario ended
	// (servers, loops).
	ExitRunning ExitKind = "running"
)

func (ExitKind) enumValues() []string {
	return []string{string(ExitClean), string(ExitException), string(ExitRunning)}
}
func (m *ExitKind) decodeScalar(s scalar) error {
	return decodeEnum(s, m.enumValues(), func(v string) { *m = ExitKind(v) })
}
