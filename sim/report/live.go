package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Live serves the HTML report of a world while it runs (run --ui): the
// page, a server-sent event stream of console output and trace lines, and
// fault buttons. Snapshot renders the current state; Inject makes a fault
// happen. Publish feeds the stream. Safe for concurrent use.
type Live struct {
	// Snapshot returns the report as it stands.
	Snapshot func() *HTML
	// Inject makes a fault of kind happen now at target.
	Inject func(kind, target string) error
	// Buttons are the faults the page offers.
	Buttons []FaultButton

	mu     sync.Mutex
	subs   map[chan liveEvent]struct{}
	closed bool
}

// FaultButton is one fault the live page can cause.
type FaultButton struct {
	Label, Kind, Target string
}

type liveEvent struct {
	name string
	data []byte
}

// LiveConsole is the data of a "console" event.
type LiveConsole struct {
	Board string `json:"board"`
	Text  string `json:"text"`
	// At is the simulated time of the print, in seconds.
	At float64 `json:"at"`
	// Sent is when the server received it (Unix milliseconds): a client
	// can tell how late it arrived.
	Sent int64 `json:"sent"`
}

// LiveTrace is the data of a "trace" event.
type LiveTrace struct {
	At     float64 `json:"at"`
	Source string  `json:"source"`
	Text   string  `json:"text"`
}

// PublishConsole sends a console chunk to every open page.
func (l *Live) PublishConsole(board, text string, at time.Duration) {
	b, _ := json.Marshal(LiveConsole{Board: board, Text: text, At: at.Seconds(), Sent: time.Now().UnixMilli()})
	l.publish(liveEvent{"console", b})
}

// PublishTrace sends a trace line to every open page.
func (l *Live) PublishTrace(at time.Duration, source, text string) {
	b, _ := json.Marshal(LiveTrace{At: at.Seconds(), Source: source, Text: text})
	l.publish(liveEvent{"trace", b})
}

// publish never blocks the world: a page that does not keep up loses
// events (it reloads the diagram from the snapshot anyway).
func (l *Live) publish(e liveEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range l.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// Close ends every event stream.
func (l *Live) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for ch := range l.subs {
		close(ch)
	}
	l.subs = nil
}

func (l *Live) subscribe() (chan liveEvent, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, false
	}
	if l.subs == nil {
		l.subs = map[chan liveEvent]struct{}{}
	}
	ch := make(chan liveEvent, 1024)
	l.subs[ch] = struct{}{}
	return ch, true
}

func (l *Live) unsubscribe(ch chan liveEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.subs[ch]; ok {
		delete(l.subs, ch)
		close(ch)
	}
}

// ServeHTTP serves / (the page), /events (the stream) and POST /fault.
func (l *Live) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		var buf bytes.Buffer
		h := l.Snapshot()
		h.Live = l.Buttons
		if h.Live == nil {
			h.Live = []FaultButton{}
		}
		if err := WriteHTML(&buf, h); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(buf.Bytes())
	case "/events":
		l.serveEvents(w, r)
	case "/fault":
		if r.Method != http.MethodPost {
			http.Error(w, "POST kind and target to cause a fault", http.StatusMethodNotAllowed)
			return
		}
		if err := l.Inject(r.FormValue("kind"), r.FormValue("target")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, "ok")
	default:
		http.NotFound(w, r)
	}
}

func (l *Live) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch, ok := l.subscribe()
	if !ok {
		http.Error(w, "the run has ended", http.StatusGone)
		return
	}
	defer l.unsubscribe(ch)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprint(w, ": esp8266sim live view\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-ch:
			if !ok {
				fmt.Fprint(w, "event: end\ndata: {}\n\n")
				fl.Flush()
				return
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, e.data)
			fl.Flush()
		}
	}
}

// liveScript keeps the page current: console chunks are appended as they
// arrive; trace lines make the diagrams reload from the server (at most
// twice a second).
const liveScript = `
const es=new EventSource('/events');
es.addEventListener('console',e=>{const d=JSON.parse(e.data);const s=document.querySelector('section[data-board="'+CSS.escape(d.board)+'"] pre.console');if(s){s.textContent+=d.text;s.scrollTop=s.scrollHeight;}});
let pending=false;
es.addEventListener('trace',()=>{if(pending)return;pending=true;setTimeout(()=>{pending=false;fetch('/').then(r=>r.text()).then(t=>{const doc=new DOMParser().parseFromString(t,'text/html');const nd=doc.querySelectorAll('.diagram,.topology');document.querySelectorAll('.diagram,.topology').forEach((d,i)=>{if(nd[i])d.innerHTML=nd[i].innerHTML;});});},500);});
es.addEventListener('end',()=>{es.close();document.body.classList.add('ended');});
function fault(kind,target){fetch('/fault',{method:'POST',body:new URLSearchParams({kind:kind,target:target})}).then(r=>r.text()).then(t=>{document.getElementById('faultmsg').textContent=t;});}
`
