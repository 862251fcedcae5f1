package main

// The real network when asked (issue 18): the unmodified HTTP GET
// tutorial, pointed at a name pinned with --resolve to the host's
// loopback, fetches a page from a server this test runs on 127.0.0.2.
// Nothing here sends to an address outside 127.0.0.0/8.

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// internetPage is the page the host serves: long enough that --loss 10%
// costs segments on the way.
func internetPage() string {
	var b strings.Builder
	b.WriteString("<html><body><h1>api.test on the host</h1>\n")
	for i := range 120 {
		fmt.Fprintf(&b, "<p>line %03d of the page the board fetched through the NAT</p>\n", i)
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

// hostWebServer serves the page on 127.0.0.2:80 (the tutorial always
// connects to port 80) and reports each request line and Host header.
func hostWebServer(t *testing.T) <-chan string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:80")
	if err != nil {
		t.Skipf("SKIPPING: cannot listen on 127.0.0.2:80 (%v): the tutorial connects to port 80, so the real network was NOT tested", err)
	}
	reqs := make(chan string, 8)
	page := internetPage()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs <- r.Method + " " + r.URL.Path + " Host: " + r.Host
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, page)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return reqs
}

func TestInternetHTTPGetTutorial(t *testing.T) {
	// The copy differs from the tutorial in its URL only.
	orig, err := os.ReadFile(filepath.Join("..", "..", "scripts", "http_get.py"))
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join("testdata", "internet", "http_get_api.py")
	cp, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Replace(orig, []byte("http_get('http://micropython.org/ks/test.html')"), []byte("http_get('http://api.test/ks/test.html')"), 1); !bytes.Equal(cp, want) {
		t.Fatalf("%s must be scripts/http_get.py with only the URL changed", script)
	}
	reqs := hostWebServer(t)
	bin := buildBinary(t)
	page := internetPage()

	t.Run("through the NAT under 10% loss", func(t *testing.T) {
		pcap := filepath.Join(t.TempDir(), "run.pcapng")
		// First as a user runs it: stdout is exactly what the board
		// printed, the whole page.
		plain := bridgeStart(t, bin, "run", script, "--internet", "--resolve", "api.test:127.0.0.2",
			"--loss", "10%", "--pcap", pcap, "--timeout", "2m")
		if code := plain.wait(t, 90*time.Second); code != 0 {
			t.Fatalf("esp8266sim exited %d\nstdout:\n%s\nstderr:\n%s", code, bridgeTail(plain.stdout.String(), 4000), plain.stderr.String())
		}
		if out := plain.stdout.String(); !strings.Contains(out, "HTTP/1.0 200 OK\r\n") || !strings.HasSuffix(out, "\r\n\r\n"+page) {
			t.Errorf("the board did not print the whole page:\n%s", bridgeTail(out, 3000))
		}
		if errOut := plain.stderr.String(); !strings.Contains(errOut, "this run used the real network (internet passthrough); flows through the NAT: 1") {
			t.Errorf("the text report does not say the run used the real network:\n%s", errOut)
		}
		// Then with the trace and the JSON report, which show the loss,
		// the host endpoint and the flows.
		sim := bridgeStart(t, bin, "run", script, "--internet", "--resolve", "api.test:127.0.0.2",
			"--loss", "10%", "--trace", "--format", "json", "--timeout", "2m")
		if code := sim.wait(t, 90*time.Second); code != 0 {
			t.Fatalf("esp8266sim exited %d\nstdout:\n%s\nstderr:\n%s", code, bridgeTail(sim.stdout.String(), 4000), sim.stderr.String())
		}
		// stdout is the trace, then the JSON report.
		out := sim.stdout.String()
		var rep struct {
			Boards []struct {
				Console []string `json:"console"`
			} `json:"boards"`
			Internet struct {
				RealNetwork bool     `json:"real_network"`
				Flows       []string `json:"flows"`
			} `json:"internet"`
		}
		trace := splitReport(t, out, &rep)
		if len(rep.Boards) != 1 {
			t.Fatalf("JSON report has %d boards, want 1\n%s", len(rep.Boards), bridgeTail(out, 4000))
		}
		if c := rep.Boards[0].Console; len(c) == 0 || c[len(c)-1] != "</body></html>" {
			t.Errorf("the board's console does not end with the page: %q", c)
		}
		// The loss applied on the board's simulated link, and TCP
		// recovered every byte.
		if n := strings.Count(trace, "DROP (loss)"); n == 0 {
			t.Errorf("the trace shows no frame lost to --loss 10%%")
		} else {
			t.Logf("%d frames lost on the board's link", n)
		}
		if !strings.Contains(trace, "connected via host 127.0.0.2:80") {
			t.Errorf("the trace does not name the host endpoint")
		}
		if !rep.Internet.RealNetwork || len(rep.Internet.Flows) != 1 ||
			!regexp.MustCompile(`^tcp 192\.168\.1\.100:\d+ → api\.test \(198\.19\.0\.1:80\) via host 127\.0\.0\.2:80: 46 B out, \d+ B in, (closed|open)$`).MatchString(rep.Internet.Flows[0]) {
			t.Errorf("the report's flows: %+v", rep.Internet)
		}
		errOut := sim.stderr.String()
		if !strings.Contains(errOut, "boards reach api.test (host 127.0.0.2) as 198.19.0.1") {
			t.Errorf("stderr does not announce the pin:\n%s", errOut)
		}
		for range 2 {
			select {
			case r := <-reqs:
				if r != "GET /ks/test.html Host: api.test" {
					t.Errorf("the host server got %q", r)
				}
			default:
				t.Error("the host server got no request")
			}
		}
		// The capture shows the flow on the simulated side: the board's
		// request and the page's bytes, to and from the alias.
		data, err := os.ReadFile(pcap)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"GET /ks/test.html HTTP/1.0", "line 119 of the page", "\xc6\x13\x00\x01"} {
			if !bytes.Contains(data, []byte(want)) {
				t.Errorf("the capture lacks %q", want)
			}
		}
	})

	t.Run("without --internet the board's DNS fails as before", func(t *testing.T) {
		sim := bridgeStart(t, bin, "run", script, "--timeout", "1m")
		if code := sim.wait(t, 60*time.Second); code != 1 {
			t.Errorf("esp8266sim exited %d; want 1 (the program ended by an exception)", code)
		}
		if out := sim.stdout.String() + sim.stderr.String(); !strings.Contains(out, "OSError: -2") || strings.Contains(out, "real network") {
			t.Errorf("want the board's DNS failure (OSError: -2) and no real network:\n%s", out)
		}
		select {
		case r := <-reqs:
			t.Errorf("the host server got %q from a board without --internet", r)
		default:
		}
	})

	t.Run("a loopback pin needs --internet", func(t *testing.T) {
		sim := bridgeStart(t, bin, "run", script, "--resolve", "api.test:127.0.0.2")
		if code := sim.wait(t, 30*time.Second); code != 2 {
			t.Errorf("esp8266sim exited %d; want 2 (usage)", code)
		}
		if !strings.Contains(sim.stderr.String(), "points at the host's loopback, which boards reach only through the real network; add internet.mode: passthrough (--internet)") {
			t.Errorf("stderr:\n%s", sim.stderr.String())
		}
	})
}
