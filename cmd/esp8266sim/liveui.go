package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/sim"
	"github.com/esp8266sim/esp8266sim/sim/report"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// liveUI is `run --ui PORT`: the HTML report served on 127.0.0.1 while the
// world runs, kept current over server-sent events, with buttons for the
// scenario's faults.
type liveUI struct {
	port int
	sc   *scenario.Scenario
	w    *sim.World
	live *report.Live
	srv  *http.Server
	done chan struct{}

	mu    sync.Mutex
	lines []trace.Line
}

// newLiveUI returns nil without a port; the world then keeps no trace for
// it. With one, the world traces (silently unless --trace).
func newLiveUI(port int, opts *sim.Options) (*liveUI, error) {
	if port == 0 {
		return nil, nil
	}
	if port < 0 || port > 65535 {
		return nil, usagef("--ui takes a port number 1-65535, e.g. --ui 8080")
	}
	if opts.Trace == nil {
		opts.Trace = io.Discard
	}
	return &liveUI{port: port}, nil
}

// start subscribes to the world and listens; it says where on stderr.
func (u *liveUI) start(w *sim.World, sc *scenario.Scenario, stderr io.Writer) error {
	if u == nil {
		return nil
	}
	u.w, u.sc = w, sc
	u.live = &report.Live{Snapshot: u.snapshot, Inject: u.inject, Buttons: faultButtons(sc)}
	if t := w.Trace(); t != nil {
		t.Subscribe(func(l trace.Line) {
			u.mu.Lock()
			u.lines = append(u.lines, l)
			u.mu.Unlock()
			u.live.PublishTrace(l.At, l.Source, l.Text)
		})
	}
	w.WatchConsoles(u.live.PublishConsole)
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(u.port)))
	if err != nil {
		return usagef("cannot serve the live view on 127.0.0.1:%d: %v", u.port, err)
	}
	u.srv = &http.Server{Handler: u.live, ReadHeaderTimeout: 10 * time.Second}
	u.done = make(chan struct{})
	go func() {
		defer close(u.done)
		if err := u.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "live view stopped: %v\n", err)
		}
	}()
	fmt.Fprintf(stderr, "live view at http://127.0.0.1:%d/\n", u.port)
	return nil
}

// close ends the event streams and the server.
func (u *liveUI) close() {
	if u == nil || u.srv == nil {
		return
	}
	u.live.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = u.srv.Shutdown(ctx)
	<-u.done
}

// snapshot is the report as the world stands.
func (u *liveUI) snapshot() *report.HTML {
	u.mu.Lock()
	lines := append([]trace.Line(nil), u.lines...)
	u.mu.Unlock()
	h := &report.HTML{
		Run:   &report.Run{Scenario: u.sc.Name, File: u.sc.File, Seed: u.sc.Seed, SimTime: u.w.Clock().Elapsed(), EndReason: "running"},
		Trace: lines,
	}
	var boards []report.TopoNode
	for _, in := range u.sc.Instances() {
		h.Boards = append(h.Boards, report.HTMLBoard{Name: in.Name, Console: u.w.ConsoleText(in.Name)})
		boards = append(boards, report.TopoNode{Name: in.Name})
	}
	h.Topology = topologyOf(u.sc, boards)
	for _, f := range u.sc.Faults {
		h.Faults = append(h.Faults, report.Fault{At: f.At.D(), For: f.For.D(), Desc: fmt.Sprintf("%s %s", f.Kind, f.Target)})
	}
	return h
}

// The live page's faults: switch an access point off and on, fail its DNS,
// lose 30 % of a board's frames.
func faultButtons(sc *scenario.Scenario) []report.FaultButton {
	var out []report.FaultButton
	for _, a := range sc.WiFi.AccessPoints {
		out = append(out,
			report.FaultButton{Label: a.Name + " down", Kind: string(scenario.APDown), Target: a.Name},
			report.FaultButton{Label: a.Name + " up", Kind: string(scenario.APUp), Target: a.Name},
			report.FaultButton{Label: "DNS of " + a.Name + " fails", Kind: string(scenario.DNSFail), Target: a.Name},
			report.FaultButton{Label: "DNS of " + a.Name + " ok", Kind: string(scenario.DNSOK), Target: a.Name})
	}
	for _, in := range sc.Instances() {
		out = append(out,
			report.FaultButton{Label: "30% loss on " + in.Name, Kind: "loss", Target: in.Name},
			report.FaultButton{Label: "no loss on " + in.Name, Kind: "no_loss", Target: in.Name})
	}
	return out
}

// inject makes a button's fault happen now.
func (u *liveUI) inject(kind, target string) error {
	f := scenario.Fault{Kind: scenario.FaultKind(kind), Target: target}
	switch kind {
	case string(scenario.APDown), string(scenario.APUp), string(scenario.DNSOK):
	case string(scenario.DNSFail):
		f.Mode = scenario.DNSServfail
	case "loss":
		f.Kind, f.Link = scenario.LinkChange, &scenario.Impairment{Loss: 30}
	case "no_loss":
		f.Kind, f.Link = scenario.LinkChange, &scenario.Impairment{}
	default:
		return fmt.Errorf("the live view offers no fault %q", kind)
	}
	return u.w.InjectFault(f)
}
