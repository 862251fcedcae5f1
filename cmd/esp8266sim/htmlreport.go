package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/sim"
	"github.com/esp8266sim/esp8266sim/sim/report"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// htmlReport collects what `run --report FILE.html` draws: the trace as
// it happens, then the result and the scenario's shape.
type htmlReport struct {
	path string
	out  *os.File
	mu   sync.Mutex
	// lines is the whole trace. A run's trace is as long as its frames;
	// the report draws every one of them anyway.
	lines []trace.Line
}

// newHTMLReport returns nil without a path. The file is created now, so a
// bad path is said before the run, not after it. The world keeps a trace
// only when someone reads it, so without --trace the report reads a
// silent one.
func newHTMLReport(path string, opts *sim.Options) (*htmlReport, error) {
	if path == "" {
		return nil, nil
	}
	out, err := os.Create(path)
	if err != nil {
		return nil, usagef("cannot write the report: %v", unwrap(err))
	}
	if opts.Trace == nil {
		opts.Trace = io.Discard
	}
	return &htmlReport{path: path, out: out}, nil
}

// close closes the file if the run ended before write.
func (h *htmlReport) close() {
	if h != nil {
		h.out.Close()
	}
}

// attach subscribes to the world's trace before it runs.
func (h *htmlReport) attach(w *sim.World) {
	if h == nil || w.Trace() == nil {
		return
	}
	w.Trace().Subscribe(func(l trace.Line) {
		h.mu.Lock()
		h.lines = append(h.lines, l)
		h.mu.Unlock()
	})
}

// write renders the report file.
func (h *htmlReport) write(sc *scenario.Scenario, res *sim.Result) error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	lines := append([]trace.Line(nil), h.lines...)
	h.mu.Unlock()
	rep := res.Report()
	// Wall time differs from run to run; the page is a function of the seed.
	rep.WallTime = 0
	doc := &report.HTML{Run: rep, Trace: lines, Topology: topology(sc, res)}
	for _, b := range res.Boards {
		doc.Boards = append(doc.Boards, report.HTMLBoard{Name: b.Name, IP: b.WiFiReport.IP, AP: apOf(sc, b.WiFiReport.SSID), Console: b.Console})
	}
	for _, f := range sc.Faults {
		desc := strings.TrimSpace(fmt.Sprintf("%s %s", f.Kind, f.Target))
		doc.Faults = append(doc.Faults, report.Fault{At: f.At.D(), For: f.For.D(), Desc: desc})
	}
	if err := report.WriteHTML(h.out, doc); err != nil {
		return fmt.Errorf("writing the report %s: %w", h.path, err)
	}
	if err := h.out.Close(); err != nil {
		return fmt.Errorf("writing the report %s: %w", h.path, err)
	}
	return nil
}

// apOf names the access point with ssid ("" when none has it).
func apOf(sc *scenario.Scenario, ssid string) string {
	for _, a := range sc.WiFi.AccessPoints {
		if ssid != "" && a.SSID == ssid {
			return a.Name
		}
	}
	return ""
}

func topology(sc *scenario.Scenario, res *sim.Result) report.Topology {
	var boards []report.TopoNode
	for _, b := range res.Boards {
		boards = append(boards, report.TopoNode{Name: b.Name, IP: b.WiFiReport.IP, AP: apOf(sc, b.WiFiReport.SSID)})
	}
	return topologyOf(sc, boards)
}

// topologyOf is the scenario's world with boards (AP "" puts a board
// under the first access point).
func topologyOf(sc *scenario.Scenario, boards []report.TopoNode) report.Topology {
	var t report.Topology
	firstAP := ""
	for _, a := range sc.WiFi.AccessPoints {
		if firstAP == "" {
			firstAP = a.Name
		}
		t.APs = append(t.APs, report.TopoAP{Name: a.Name, SSID: a.SSID, Security: string(a.Security), Subnet: a.Subnet, Channel: a.Channel, Down: a.Down})
	}
	links := map[string][]string{}
	for _, l := range sc.Links {
		d := describeImpairment(l.Impairment)
		if l.Direction != "" && d != "" {
			d = string(l.Direction) + ": " + d
		}
		if d != "" {
			links[l.Node] = append(links[l.Node], d)
		}
	}
	for _, b := range boards {
		if b.AP == "" {
			b.AP = firstAP
		}
		b.Link = strings.Join(links[b.Name], "; ")
		t.Boards = append(t.Boards, b)
	}
	for _, h := range sc.LANPeers {
		ap := h.AP
		if ap == "" {
			ap = firstAP
		}
		t.LANPeers = append(t.LANPeers, report.TopoNode{Name: h.Name, IP: h.IP, AP: ap, Link: strings.Join(links[h.Name], "; ")})
	}
	for _, h := range sc.InternetHosts {
		t.Internet = append(t.Internet, report.TopoNode{Name: h.Name, IP: h.IP, Link: strings.Join(links[h.Name], "; ")})
	}
	return t
}

// describeImpairment is a link's impairments in a few words ("200ms ±20ms,
// 10% loss").
func describeImpairment(i scenario.Impairment) string {
	var parts []string
	if i.Latency > 0 {
		s := i.Latency.String()
		if i.Jitter > 0 {
			s += " ±" + i.Jitter.String()
		}
		parts = append(parts, s)
	}
	add := func(p scenario.Percent, what string) {
		if p > 0 {
			parts = append(parts, p.String()+" "+what)
		}
	}
	add(i.Loss, "loss")
	if i.GilbertElliott != nil {
		parts = append(parts, "bursty loss")
	}
	add(i.Duplicate, "duplicate")
	add(i.Reorder, "reorder")
	add(i.Corrupt, "corrupt")
	if i.Bandwidth > 0 {
		parts = append(parts, i.Bandwidth.String())
	}
	return strings.Join(parts, ", ")
}
