package report

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
)

// HTML is what the HTML report draws beyond Run: the trace the diagrams
// come from, each board's whole console, the faults and the world's shape.
type HTML struct {
	Run    *Run
	Boards []HTMLBoard
	// Trace is the run's readable trace, in order.
	Trace []trace.Line
	// Faults are the scenario's faults, drawn as bands.
	Faults []Fault
	// Topology is the world: access points, boards, LAN peers, internet
	// hosts and the links' impairments.
	Topology Topology
	// Live, when not nil, makes the page the live view (Live): its fault
	// buttons and the script that follows the event stream.
	Live []FaultButton
}

// HTMLBoard is one board as the diagram needs it.
type HTMLBoard struct {
	Name string
	// IP is the board's address at the end of the run ("" if none).
	IP string
	// AP names the access point it joined ("" if none).
	AP string
	// Console is everything the board printed.
	Console string
}

// Fault is one scheduled fault.
type Fault struct {
	At, For time.Duration
	// Desc says what it does ("ap_down SimNet").
	Desc string
}

// Topology is the world's shape.
type Topology struct {
	APs      []TopoAP
	Boards   []TopoNode
	LANPeers []TopoNode
	Internet []TopoNode
}

// TopoAP is an access point with its router.
type TopoAP struct {
	Name, SSID, Security, Subnet string
	Channel                      int
	Down                         bool
}

// TopoNode is a board or a host: where it is and what its link does.
type TopoNode struct {
	Name, IP string
	// AP is the access point it is behind ("" for internet hosts).
	AP string
	// Link describes its link's impairments ("" for a perfect link).
	Link string
}

// WriteHTML writes one self-contained HTML page (inline CSS and SVG, no
// fetches; a few lines of inline script for the zoom slider): per board a
// sequence diagram in simulated time beside its console and the
// expectations' verdicts, and a topology picture. Same input, same bytes.
func WriteHTML(w io.Writer, h *HTML) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	r := h.Run
	if r == nil {
		r = &Run{}
	}
	verdict := "PASS"
	if !r.Passed() {
		verdict = "FAIL"
	}
	p("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	p("<title>%s %s — esp8266sim report</title>\n<style>%s</style>\n</head>\n<body>\n", esc(verdict), esc(r.Scenario), css)
	p("<header><h1><span class=\"verdict %s\">%s</span> %s</h1>\n", strings.ToLower(verdict), verdict, esc(r.Scenario))
	p("<p class=\"meta\">seed %d · simulated %s · %s</p>\n", r.Seed, trace.FormatTime(r.SimTime), esc(r.EndReason))
	p("<label class=\"zoom\">zoom <input type=\"range\" min=\"0.4\" max=\"2.5\" step=\"0.1\" value=\"1\" oninput=\"document.body.style.setProperty('--zoom', this.value)\"></label>\n")
	if h.Live != nil {
		p("<div class=\"faults\">live · cause a fault: ")
		for _, b := range h.Live {
			p("<button type=\"button\" data-kind=\"%s\" data-target=\"%s\" onclick=\"fault(this.dataset.kind, this.dataset.target)\">%s</button> ", esc(b.Kind), esc(b.Target), esc(b.Label))
		}
		p("<span id=\"faultmsg\"></span></div>\n")
	}
	p("</header>\n")

	p("<section class=\"topology\"><h2>The world</h2>\n")
	writeTopology(bw, h.Topology)
	p("</section>\n")

	names := map[string]string{}
	for _, n := range h.Topology.Boards {
		if n.IP != "" {
			names[n.IP] = n.Name
		}
	}
	for _, b := range h.Boards {
		if b.IP != "" {
			names[b.IP] = b.Name
		}
	}
	for _, n := range append(append([]TopoNode{}, h.Topology.LANPeers...), h.Topology.Internet...) {
		if n.IP != "" {
			names[n.IP] = n.Name
		}
	}
	for _, b := range h.Boards {
		cols, arrows := Sequence(b, h.Trace, names)
		p("<section class=\"board\" data-board=\"%s\"><h2>Board %s</h2>\n<div class=\"split\">\n<div class=\"diagram\">\n", esc(b.Name), esc(b.Name))
		writeDiagram(bw, b, cols, arrows, h.Faults)
		p("</div>\n<div class=\"side\">\n<h3>Console</h3>\n<pre class=\"console\">%s</pre>\n", esc(b.Console))
		p("<h3>Expectations</h3>\n<ul class=\"expect\">\n")
		for _, e := range r.Expectations {
			cls, word := "pass", "pass"
			if !e.Passed {
				cls, word = "fail", "FAIL"
			}
			p("<li class=\"%s\"><b>%s</b> %s", cls, word, esc(e.Description))
			if e.Reason != "" {
				p(" <span class=\"reason\">— %s</span>", esc(e.Reason))
			}
			p("</li>\n")
		}
		p("</ul>\n</div>\n</div>\n</section>\n")
	}
	p("<footer>esp8266sim · every time is simulated time since the world started</footer>\n")
	if h.Live != nil {
		p("<script>%s</script>\n", liveScript)
	}
	p("</body>\n</html>\n")
	return bw.Flush()
}

func esc(s string) string { return html.EscapeString(s) }

// Diagram geometry, in SVG user units.
const (
	colW    = 220
	timeW   = 78
	headH   = 44
	rowH    = 24
	gapRows = 1
	// gapAfter is the pause between arrows that gets a "later" row.
	gapAfter = 500 * time.Millisecond
)

type row struct {
	at    time.Duration
	arrow *Arrow
	gap   time.Duration // a "… later" row when > 0
}

func writeDiagram(w io.Writer, b HTMLBoard, cols []string, arrows []Arrow, faults []Fault) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	var rows []row
	for i := range arrows {
		a := &arrows[i]
		if i > 0 && a.At-arrows[i-1].At >= gapAfter {
			rows = append(rows, row{at: a.At, gap: a.At - arrows[i-1].At})
		}
		rows = append(rows, row{at: a.At, arrow: a})
	}
	x := map[string]int{}
	for i, c := range cols {
		x[c] = timeW + colW/2 + i*colW
	}
	width := timeW + len(cols)*colW
	height := headH + (len(rows)+1)*rowH
	p("<svg class=\"seq\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"sequence diagram of %s\">\n", width, height, width, height, esc(b.Name))
	p("<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"context-stroke\"/></marker></defs>\n")
	// Fault bands behind everything: from the first row at or after the
	// fault to the last row before it ends.
	yOf := func(i int) int { return headH + i*rowH + rowH/2 }
	for _, f := range faults {
		end := f.At + f.For
		first, last := -1, -1
		for i, r := range rows {
			if r.at >= f.At && first < 0 {
				first = i
			}
			if r.at >= f.At && (r.at <= end || f.For == 0 && i == first) {
				last = i
			}
		}
		if first < 0 {
			first, last = len(rows), len(rows)
		}
		if last < first {
			last = first
		}
		y0, y1 := yOf(first)-rowH/2, yOf(last)+rowH/2
		p("<g class=\"fault\" data-at=\"%s\"><rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\"/><text x=\"%d\" y=\"%d\">%s at %s", secs3(f.At), y0, width, y1-y0, width-6, y0+12, esc("fault: "+f.Desc), trace.FormatTime(f.At))
		if f.For > 0 {
			p(" for %s", f.For)
		}
		p("</text></g>\n")
	}
	for _, c := range cols {
		p("<g class=\"col\" data-col=\"%s\"><text class=\"colname\" x=\"%d\" y=\"24\">%s</text><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/></g>\n", esc(c), x[c], esc(c), x[c], headH-8, x[c], height)
	}
	for i, r := range rows {
		y := yOf(i)
		if r.arrow == nil {
			p("<text class=\"gap\" x=\"%d\" y=\"%d\">⋯ %s later</text>\n", timeW+8, y+4, roundDur(r.gap))
			continue
		}
		a := r.arrow
		cls := "arrow " + a.Kind
		if a.Retrans {
			cls += " retrans"
		}
		if a.Dropped {
			cls += " dropped"
		}
		x1, x2 := x[a.From], x[a.To]
		p("<g class=\"%s\" data-kind=\"%s\" data-label=\"%s\" data-from=\"%s\" data-to=\"%s\" data-t=\"%s\"", cls, a.Kind, esc(a.Label), esc(a.From), esc(a.To), secs3(a.At))
		if a.Retrans {
			p(" data-retrans=\"1\"")
		}
		if a.Dropped {
			p(" data-dropped=\"%s\"", esc(a.DropWhy))
		}
		p(">")
		p("<title>%s %s → %s %s</title>", trace.FormatTime(a.At), esc(a.From), esc(a.To), esc(a.Label))
		p("<text class=\"t\" x=\"4\" y=\"%d\">%s</text>", y+4, trace.FormatTime(a.At))
		end := x2
		if a.Dropped {
			// A lost frame stops short of its receiver, ending in a cross.
			end = x1 + (x2-x1)*3/4
			p("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><text class=\"x\" x=\"%d\" y=\"%d\">✗</text>", x1, y, end, y, end, y+5)
		} else {
			p("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" marker-end=\"url(#head)\"/>", x1, y, end, y)
		}
		label := a.Label
		if a.Dropped {
			label += " — lost (" + a.DropWhy + ")"
		}
		// Labels start at the arrow's left end: a long one runs on to
		// the right rather than over the time column.
		p("<text class=\"label\" x=\"%d\" y=\"%d\">%s</text></g>\n", min(x1, x2)+8, y-4, esc(label))
	}
	if len(rows) == 0 {
		p("<text class=\"gap\" x=\"%d\" y=\"%d\">no messages to or from %s in the trace</text>\n", timeW+8, headH+rowH, esc(b.Name))
	}
	p("</svg>\n")
}

func secs3(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func roundDur(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

// writeTopology draws the internet hosts on top, the access points below
// the internet, and under each its boards (over the air) and LAN peers
// (wired), each link labelled with its impairments.
func writeTopology(w io.Writer, t Topology) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	const boxW, boxH, gapX = 240, 46, 24
	perAP := map[string][]TopoNode{}
	for _, n := range t.Boards {
		perAP[n.AP] = append(perAP[n.AP], n)
	}
	for _, n := range t.LANPeers {
		perAP[n.AP] = append(perAP[n.AP], n)
	}
	isBoard := map[string]bool{}
	for _, n := range t.Boards {
		isBoard[n.Name] = true
	}
	// Each access point gets a column group as wide as its nodes.
	groupW := func(ap string) int { return max(1, len(perAP[ap])) * (boxW + gapX) }
	width := 0
	for _, a := range t.APs {
		width += groupW(a.Name)
	}
	width = max(width, len(t.Internet)*(boxW+gapX), boxW+gapX) + gapX
	const yHost, yCloud, yAP, yNode = 10, 120, 190, 320
	height := yNode + boxH + 30
	p("<svg class=\"topo\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"topology\">\n", width, height, width, height)
	box := func(cls string, x, y int, title, sub string) {
		p("<g class=\"node %s\" data-node=\"%s\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"8\"/><text x=\"%d\" y=\"%d\" class=\"name\">%s</text><text x=\"%d\" y=\"%d\" class=\"sub\">%s</text></g>\n",
			cls, esc(title), x, y, boxW, boxH, x+boxW/2, y+19, esc(title), x+boxW/2, y+36, esc(sub))
	}
	link := func(cls string, x1, y1, x2, y2 int, label string) {
		p("<g class=\"link %s\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", cls, x1, y1, x2, y2)
		if label != "" {
			p("<text x=\"%d\" y=\"%d\">%s</text>", (x1+x2)/2+4, (y1+y2)/2, esc(label))
		}
		p("</g>\n")
	}
	cx := width / 2
	hx := cx - len(t.Internet)*(boxW+gapX)/2 + gapX/2
	for i, n := range t.Internet {
		x := hx + i*(boxW+gapX)
		link("wired", x+boxW/2, yHost+boxH, cx, yCloud, n.Link)
	}
	gx := gapX
	for _, a := range t.APs {
		gw := groupW(a.Name)
		link("wired", gx+gw/2, yAP, cx, yCloud, "")
		gx += gw
	}
	p("<g class=\"node internet\"><ellipse cx=\"%d\" cy=\"%d\" rx=\"%d\" ry=\"20\"/><text x=\"%d\" y=\"%d\" class=\"name\">internet</text></g>\n", cx, yCloud, boxW/2, cx, yCloud+5)
	for i, n := range t.Internet {
		box("host", hx+i*(boxW+gapX), yHost, n.Name, n.IP)
	}
	gx = gapX
	for _, a := range t.APs {
		gw := groupW(a.Name)
		ax := gx + gw/2 - boxW/2
		sub := fmt.Sprintf("%q ch %d %s %s", a.SSID, a.Channel, a.Security, a.Subnet)
		cls := "ap"
		if a.Down {
			cls += " down"
		}
		for i, n := range perAP[a.Name] {
			nx := gx + i*(boxW+gapX)
			lcls := "wired"
			if isBoard[n.Name] {
				lcls = "air"
			}
			link(lcls, nx+boxW/2, yNode, ax+boxW/2, yAP+boxH, n.Link)
			ncls := "peer"
			if isBoard[n.Name] {
				ncls = "board"
			}
			box(ncls, nx, yNode, n.Name, n.IP)
		}
		box(cls, ax, yAP, a.Name+" (AP + router)", sub)
		gx += gw
	}
	p("</svg>\n")
}

const css = `
:root{--zoom:1}
body{font:14px/1.4 system-ui,sans-serif;margin:1em;color:#222;background:#fff}
header h1{margin:.2em 0}
.verdict{padding:0 .3em;border-radius:4px;color:#fff}
.verdict.pass{background:#2a7}.verdict.fail{background:#c33}
.meta{color:#555;margin:.2em 0}
.zoom{float:right}
section{margin:1.5em 0;page-break-inside:avoid}
.split{display:flex;gap:1.5em;align-items:flex-start}
.diagram{overflow:auto;max-height:85vh;border:1px solid #ddd;flex:0 1 auto}
.side{flex:1 1 22em;min-width:18em}
svg.seq,svg.topo{zoom:var(--zoom)}
svg text{font:12px system-ui,sans-serif}
.colname{font-weight:bold;text-anchor:middle;font-size:13px}
.col line{stroke:#999;stroke-dasharray:4 3}
.arrow line{stroke:#333;stroke-width:1.4}
.arrow .t{fill:#777;font-size:11px}
.arrow .label{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.arrow.wifi line{stroke:#6a3d9a}.arrow.wifi .label{fill:#6a3d9a}
.arrow.dhcp line{stroke:#1f78b4}.arrow.dhcp .label{fill:#1f78b4}
.arrow.arp line{stroke:#777}.arrow.arp .label{fill:#555}
.arrow.dns line{stroke:#33a02c}.arrow.dns .label{fill:#227a1c}
.arrow.tcp line{stroke:#222}
.arrow.retrans line{stroke:#e08000;stroke-width:2.2;stroke-dasharray:6 3}.arrow.retrans .label{fill:#b36200;font-weight:bold}
.arrow.dropped line{stroke:#d00;stroke-dasharray:3 3}.arrow.dropped .label{fill:#d00}
.arrow .x{fill:#d00;font-size:16px;font-weight:bold;text-anchor:middle}
.gap{fill:#999;font-style:italic}
.fault rect{fill:#fdd;opacity:.7}.fault text{fill:#a00;text-anchor:end;font-weight:bold}
.console{background:#111;color:#eee;padding:.6em;max-height:30em;overflow:auto;white-space:pre-wrap;font:12px ui-monospace,monospace}
.expect li.pass b{color:#2a7}.expect li.fail b{color:#c33}.reason{color:#666}
.topo .node rect,.topo .node ellipse{fill:#f4f4f4;stroke:#555}
.topo .node.ap rect{fill:#efe6fb;stroke:#6a3d9a}.topo .node.ap.down rect{fill:#fdd;stroke:#c33}
.topo .node.board rect{fill:#e6f0fb;stroke:#1f78b4}
.topo .node.host rect{fill:#eef7ea;stroke:#33a02c}
.topo .name{font-weight:bold;text-anchor:middle}.topo .sub{text-anchor:middle;fill:#555;font-size:11px}
.topo .link line{stroke:#555;stroke-width:1.5}.topo .link.air line{stroke:#6a3d9a;stroke-dasharray:5 4}
.topo .link text{fill:#b36200;font-size:11px}
.faults button{margin:0 .2em}.faults{margin:.3em 0}
footer{color:#888;font-size:12px;margin-top:2em}
@media print{.zoom{display:none}.split{display:block}.diagram{max-height:none;overflow:visible;border:0}.console{max-height:none;background:#fff;color:#000;border:1px solid #999}svg.seq,svg.topo{zoom:1;max-width:100%;height:auto}}
`
