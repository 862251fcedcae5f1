package report

import (
	"net/netip"
	"strings"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
)

// The sequence diagram's arrows come from the readable trace: its frame
// lines name sender and receiver ("esp1 → SimNet auth request",
// "192.168.1.100:22336 → micropython.org:80 TCP SYN"), its DROP lines say
// which of them a link lost. The trace is what the simulator already
// writes for people; reading it back keeps the report and the trace
// telling the same story.

// Arrow is one message in a board's sequence diagram.
type Arrow struct {
	At       time.Duration
	From, To string // column names
	Label    string
	// Kind is wifi, dhcp, arp, dns, tcp, udp, icmp or other.
	Kind string
	// Retrans marks a TCP retransmission; Dropped a frame a link lost
	// (DropWhy: loss, corrupt, down, queue …).
	Retrans bool
	Dropped bool
	DropWhy string
	// text is the trace text a DROP line repeats.
	text string
}

// dnsColumn is the column of every DNS server (port 53).
const dnsColumn = "DNS"

// Sequence returns board b's arrows from the trace lines, in time order,
// and the columns they use: the board, its access point, DNS, then the
// other hosts in order of first appearance. names maps IP addresses to
// node names (boards' leases, hosts).
func Sequence(b HTMLBoard, lines []trace.Line, names map[string]string) (cols []string, arrows []Arrow) {
	resolve := func(tok string) string {
		host := tok
		if ap, err := netip.ParseAddrPort(tok); err == nil {
			host = ap.Addr().String()
		} else if i := strings.LastIndexByte(tok, ':'); i > 0 {
			host = tok[:i]
		}
		if n, ok := names[host]; ok {
			return n
		}
		return host
	}
	column := func(tok string) string {
		if strings.HasSuffix(tok, ":53") {
			return dnsColumn
		}
		return resolve(tok)
	}
	// Boards' addresses the caller did not know are learnt from their
	// "esp1 ip:192.168.1.100,mask:…" lines (a live view runs before the
	// result).
	learnt := map[string]string{}
	for k, v := range names {
		learnt[k] = v
	}
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l.Text, l.Source+" ip:"); ok && l.Source != "" {
			ip, _, _ := strings.Cut(rest, ",")
			if _, known := learnt[ip]; !known {
				learnt[ip] = l.Source
			}
		}
	}
	names = learnt
	ap := b.AP
	if ap == "" {
		// The access point is the first peer of the board's 802.11 steps.
		for _, l := range lines {
			if src, dst, label, ok := splitArrow(l.Text); ok && kindOf(label) == "wifi" {
				if src == b.Name && dst != "*" {
					ap = dst
				} else if dst == b.Name {
					ap = src
				}
				if ap != "" {
					break
				}
			}
		}
	}
	for _, l := range lines {
		text := l.Text
		if why, inner, ok := parseDrop(text); ok {
			// Mark the last arrow with the same text, else draw the lost
			// frame on its own.
			for i := len(arrows) - 1; i >= 0; i-- {
				if arrows[i].text == inner && !arrows[i].Dropped {
					arrows[i].Dropped, arrows[i].DropWhy = true, why
					break
				}
			}
			continue
		}
		src, dst, label, ok := splitArrow(text)
		if !ok {
			continue
		}
		// Forwarded copies (a router's line about someone else's packet)
		// are left out: each message is drawn once, from its sender.
		if resolve(src) != l.Source {
			continue
		}
		from, to := column(src), column(dst)
		if from != b.Name && to != b.Name {
			continue
		}
		kind := kindOf(label)
		if to == "*" || to == "broadcast" {
			if from == b.Name {
				to = ap
				if to == "" {
					to = "AP"
				}
			} else {
				to = b.Name
			}
			label += " (broadcast)"
		}
		if from == to {
			continue
		}
		a := Arrow{At: l.At, From: from, To: to, Label: label, Kind: kind, text: text}
		if strings.HasSuffix(label, "(retransmission)") {
			a.Retrans = true
		}
		arrows = append(arrows, a)
	}
	cols = []string{b.Name}
	seen := map[string]bool{b.Name: true}
	add := func(c string) {
		if c != "" && !seen[c] {
			seen[c] = true
			cols = append(cols, c)
		}
	}
	add(ap)
	for _, a := range arrows {
		if a.From == dnsColumn || a.To == dnsColumn {
			add(dnsColumn)
		}
	}
	for _, a := range arrows {
		add(a.From)
		add(a.To)
	}
	return cols, arrows
}

// splitArrow splits "A → B label".
func splitArrow(text string) (src, dst, label string, ok bool) {
	src, rest, ok := strings.Cut(text, " → ")
	if !ok || strings.Contains(src, " ") {
		return "", "", "", false
	}
	dst, label, ok = strings.Cut(rest, " ")
	return src, dst, label, ok
}

// parseDrop reads "DROP (why) link: text".
func parseDrop(text string) (why, inner string, ok bool) {
	rest, ok := strings.CutPrefix(text, "DROP (")
	if !ok {
		return "", "", false
	}
	why, rest, ok = strings.Cut(rest, ") ")
	if !ok {
		return "", "", false
	}
	_, inner, ok = strings.Cut(rest, ": ")
	return why, inner, ok
}

func kindOf(label string) string {
	first, _, _ := strings.Cut(label, " ")
	switch first {
	case "probe", "auth", "assoc", "EAPOL", "deauth", "disassoc":
		return "wifi"
	case "DHCP":
		return "dhcp"
	case "ARP":
		return "arp"
	case "DNS":
		return "dns"
	case "TCP":
		return "tcp"
	case "UDP":
		return "udp"
	case "ICMP":
		return "icmp"
	}
	return "other"
}
