package report

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
)

// The live server: the page carries the fault buttons and the script,
// /events streams what is published, /fault reaches Inject (bad kinds get
// one sentence back), and Close ends the streams.
func TestLiveServer(t *testing.T) {
	var injected []string
	l := &Live{
		Snapshot: func() *HTML {
			// Mid-run the board's address is known only from its trace line.
			lines := append([]trace.Line{{At: ms(2090), Source: "esp1", Text: "esp1 ip:192.168.1.100,mask:255.255.255.0,gw:192.168.1.1"}}, sampleTrace...)
			return &HTML{Run: &Run{Scenario: "live"}, Boards: []HTMLBoard{{Name: "esp1"}}, Trace: lines}
		},
		Inject: func(kind, target string) error {
			if kind != "ap_down" {
				return errors.New("no such fault")
			}
			injected = append(injected, kind+" "+target)
			return nil
		},
		Buttons: []FaultButton{{Label: "SimNet down", Kind: "ap_down", Target: "SimNet"}},
	}
	srv := httptest.NewServer(l)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`data-kind="ap_down" data-target="SimNet"`, "EventSource('/events')", `data-label="TCP SYN"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q", want)
		}
	}

	ev, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Body.Close()
	r := bufio.NewReader(ev.Body)
	if _, err := r.ReadString('\n'); err != nil { // the stream's opening comment
		t.Fatal(err)
	}
	l.PublishConsole("esp1", "hello\n", 1500*time.Millisecond)
	l.PublishTrace(2*time.Second, "SimNet", "SimNet switched off")
	var got []string
	for len(got) < 2 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v (got %v)", err, got)
		}
		if strings.HasPrefix(line, "data: ") {
			got = append(got, strings.TrimSpace(line))
		}
	}
	if !strings.Contains(got[0], `"board":"esp1","text":"hello\n","at":1.5`) || !strings.Contains(got[1], `"text":"SimNet switched off"`) {
		t.Errorf("events %q", got)
	}

	for _, tc := range []struct {
		kind string
		code int
	}{{"ap_down", 200}, {"meteor", 400}} {
		resp, err := http.PostForm(srv.URL+"/fault", url.Values{"kind": {tc.kind}, "target": {"SimNet"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("POST /fault %s: %d, want %d", tc.kind, resp.StatusCode, tc.code)
		}
	}
	if len(injected) != 1 || injected[0] != "ap_down SimNet" {
		t.Errorf("injected %v", injected)
	}

	l.Close()
	rest, _ := io.ReadAll(r)
	if !strings.Contains(string(rest), "event: end") {
		t.Errorf("Close did not end the stream: %q", rest)
	}
}
