package netstack

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// needTshark finds tshark, installing it with apt-get when missing; it skips
// (loudly) only when installation is impossible.
func needTshark(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("tshark"); err == nil {
		return p
	}
	if _, err := exec.LookPath("apt-get"); err == nil && os.Geteuid() == 0 {
		t.Log("tshark missing: installing it with apt-get")
		cmd := exec.Command("sh", "-c", "apt-get update && apt-get install -y tshark")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("apt-get install tshark failed: %v\n%s", err, out)
		}
	}
	p, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("SKIPPING: tshark is not installed and could not be installed (need root and apt-get); the capture was NOT checked by tshark")
	}
	return p
}

func dhcpDiscover(t *testing.T, mac net.HardwareAddr) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: mac, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4zero.To4(), DstIP: net.IPv4bcast.To4()}
	udp := &layers.UDP{SrcPort: 68, DstPort: 67}
	udp.SetNetworkLayerForChecksum(ip)
	dhcp := &layers.DHCPv4{
		Operation: layers.DHCPOpRequest, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6,
		Xid: 0x3903f326, ClientHWAddr: mac,
		Options: layers.DHCPOptions{
			layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(layers.DHCPMsgTypeDiscover)}),
			layers.NewDHCPOption(layers.DHCPOptHostname, []byte("ESP-1A2B3C")),
			layers.NewDHCPOption(layers.DHCPOptEnd, nil),
		},
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, dhcp); err != nil {
		t.Fatalf("building DHCP DISCOVER: %v", err)
	}
	return buf.Bytes()
}

func dnsMessage(t *testing.T, answer bool) []byte {
	t.Helper()
	d := &layers.DNS{ID: 0x1234, RD: true, Questions: []layers.DNSQuestion{{Name: []byte("micropython.org"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	if answer {
		d.QR, d.RA = true, true
		d.Answers = []layers.DNSResourceRecord{{Name: []byte("micropython.org"), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 300, IP: net.IPv4(176, 58, 119, 26).To4()}}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatalf("building DNS message: %v", err)
	}
	return buf.Bytes()
}

// TestCaptureAndTrace runs ARP, DHCP, DNS and a TCP exchange, then checks
// the readable trace and has tshark decode the pcapng.
func TestCaptureAndTrace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lan.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := newWorld(t, vclock.Fast, 1)
	capt, err := NewCapture(f, w.clock)
	if err != nil {
		t.Fatal(err)
	}
	w.medium.SetCapture(capt)
	a, anic := w.node("esp1", 1, 1, Impairments{})
	b, _ := w.node("router", 2, 1, Impairments{})

	// DHCP: a crafted DISCOVER, as a client with no address sends it.
	disc := dhcpDiscover(t, anic.MAC())
	fr := getFrame(len(disc))
	copy(fr.b, disc)
	anic.Attachment().transmit(fr)

	// DNS over real UDP sockets.
	srv := w.sockets(b, "dns")
	cli := w.sockets(a, "client")
	sc, err := srv.ListenUDP(addr(2, 53))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cli.ListenUDP(addr(1, 49200))
	if err != nil {
		t.Fatal(err)
	}
	dnsDone := make(chan error, 1)
	go func() {
		defer srv.Actor.Close()
		buf := make([]byte, 512)
		_, from, err := sc.ReadFrom(buf, 5*time.Second)
		if err == nil {
			_, err = sc.WriteTo(dnsMessage(t, true), from)
		}
		dnsDone <- err
	}()
	if _, err := cc.WriteTo(dnsMessage(t, false), addr(2, 53)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cc.ReadFrom(make([]byte, 512), 5*time.Second); err != nil {
		t.Fatalf("DNS answer: %v", err)
	}
	if err := <-dnsDone; err != nil {
		t.Fatalf("DNS server: %v", err)
	}

	// TCP: handshake, data, close.
	tcpSrv := w.sockets(b, "web")
	l, err := tcpSrv.ListenTCP(addr(2, 80), 1)
	if err != nil {
		t.Fatal(err)
	}
	errc := echoServer(tcpSrv, l)
	if got := echo(t, cli, addr(2, 80), []byte("hello")); string(got) != "hello" {
		t.Fatalf("echo = %q, want hello", got)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	// A negative control for the tshark check below: one UDP datagram
	// (to port 9999) with a broken checksum must be the only frame flagged.
	bad := getFrame(60)
	copy(bad.b, disc[:14])
	{
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(10, 0, 0, 1).To4(), DstIP: net.IPv4(10, 0, 0, 2).To4()}
		udp := &layers.UDP{SrcPort: 9999, DstPort: 9999}
		udp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, udp, gopacket.Payload("corrupt me")); err != nil {
			t.Fatal(err)
		}
		pkt := buf.Bytes()
		pkt[len(pkt)-1] ^= 0x40 // the UDP checksum no longer matches
		bad.b = append(bad.b[:14], pkt...)
		copy(bad.b[0:6], b.NICs()[0].MAC())
	}
	anic.Attachment().transmit(bad)

	if err := capt.Close(); err != nil {
		t.Fatalf("capture: %v", err)
	}
	if capt.Frames() == 0 {
		t.Fatal("capture recorded no frames")
	}

	// The readable trace.
	text := w.trace.String()
	t.Logf("trace:\n%s", text)
	for _, want := range []string{
		`esp1 → broadcast ARP who-has 10.0.0.2 tell 10.0.0.1`,
		`router → esp1 ARP 10.0.0.2 is-at `,
		`esp1 → broadcast DHCP DISCOVER xid=0x3903f326`,
		`esp1:49200 → router:53 DNS query A micropython.org`,
		`router:53 → esp1:49200 DNS answer micropython.org A 176.58.119.26`,
		`TCP SYN
`, `TCP SYN-ACK
`, `TCP ACK
`, `TCP PSH,ACK len=5`, `TCP FIN,ACK`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("trace lacks %q; trace:\n%s", want, text)
		}
	}
	if ok, _ := regexp.MatchString(`(?m)^0\.000s esp1:\d+ → router:80 TCP SYN$`, text); !ok {
		t.Errorf("trace lacks a line like \"0.000s esp1:49152 → router:80 TCP SYN\"; trace:\n%s", text)
	}

	// tshark, once (it is slow to start): one line per frame.
	tshark := needTshark(t)
	cmd := exec.Command(tshark, "-r", path,
		"-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
		"-T", "fields", "-E", "separator=|",
		"-e", "frame.number", "-e", "frame.interface_name", "-e", "frame.protocols", "-e", "tcp.flags",
		"-e", "udp.dstport", "-e", "_ws.expert.severity", "-e", "_ws.malformed")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line != "" && !strings.Contains(line, "Running as user") {
			t.Errorf("tshark printed to stderr: %s", line)
		}
	}
	var protos, ifaces, tcpFlags []string
	flagged := 0
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 7 {
			t.Fatalf("tshark line %q: want 7 fields", line)
		}
		ifaces = append(ifaces, f[1])
		protos = append(protos, f[2])
		if f[3] != "" {
			tcpFlags = append(tcpFlags, f[3])
		}
		warn := f[6] != ""
		for _, sev := range strings.Split(f[5], ",") {
			// Expert severities: chat 0x200000, note 0x400000, warn
			// 0x600000, error 0x800000.
			if v, err := strconv.ParseUint(sev, 0, 32); err == nil && v >= 0x00600000 {
				warn = true
			}
		}
		if f[4] == "9999" {
			if !warn {
				t.Errorf("tshark did not flag the frame with a broken UDP checksum (%q): the warning check cannot work", line)
			}
			flagged++
			continue
		}
		if warn {
			t.Errorf("tshark flags frame %s with a warning or error: %q", f[0], line)
		}
	}
	if flagged != 1 {
		t.Errorf("found %d frames to port 9999, want the 1 negative control", flagged)
	}
	all := strings.Join(protos, "\n")
	for _, want := range []string{"eth:ethertype:arp", "eth:ethertype:ip:udp:dhcp", "eth:ethertype:ip:udp:dns", "eth:ethertype:ip:tcp"} {
		if !strings.Contains(all, want) {
			t.Errorf("tshark found no %s frame; protocols:\n%s", want, all)
		}
	}
	if len(tcpFlags) < 3 || tcpFlags[0] != "0x0002" || tcpFlags[1] != "0x0012" || tcpFlags[2] != "0x0010" {
		t.Errorf("tshark TCP flags %v, want a three-way handshake 0x0002 (SYN), 0x0012 (SYN-ACK), 0x0010 (ACK) first", tcpFlags)
	}
	names := strings.Join(ifaces, " ")
	if !strings.Contains(names, "esp1") || !strings.Contains(names, "router") {
		t.Errorf("capture interfaces %q, want them named after the nodes esp1 and router", names)
	}
}
