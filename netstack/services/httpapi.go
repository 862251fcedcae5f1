package services

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
)

// APIRoute is one answer of an HTTP API: the requests it matches and what
// it sends back.
type APIRoute struct {
	// Method matches the request method (GET, POST, …); empty: any.
	Method string
	// Path matches the URL path exactly, or every path with that prefix
	// when it ends in "*".
	Path string
	// Status is the HTTP status; 0 means 200.
	Status int
	// Body is the answer's body (ignored when Echo is set).
	Body []byte
	// ContentType is the Content-Type; empty: application/json.
	ContentType string
	// Headers are extra response headers, each "Name: value".
	Headers []string
	// Echo answers with a JSON description of the request (method, path,
	// args, headers, data, json, origin), like httpbin.org.
	Echo bool
	// Location, when set, is sent as the Location header (a redirect with
	// a 3xx Status).
	Location string
	// Chunked sends the body with Transfer-Encoding: chunked.
	Chunked bool
}

// HTTPAPIConfig describes an HTTP API endpoint.
type HTTPAPIConfig struct {
	// Port is the TCP port (80 or 443 usually).
	Port int
	// Routes are tried in order; the first whose path and method match
	// answers. A path some route has but not for this method answers 405,
	// any other path 404, both with a JSON error body.
	Routes []APIRoute
	// CA, when set, serves the API over TLS with a certificate for Names.
	CA    *CA
	Names []string
}

// HTTPRequest is a request an HTTP API received.
type HTTPRequest struct {
	// Method, Path and Query are from the request line.
	Method, Path, Query string
	// Header holds the request's headers.
	Header http.Header
	// Body is the request body (chunked bodies decoded), up to
	// maxAPIBody bytes.
	Body []byte
	// Status is what the API answered.
	Status int
	// At is when the request arrived, in simulator time since the clock's
	// start.
	At time.Duration
}

// maxAPIBody bounds a request body the API keeps; a script cannot make
// the simulator grow beyond it.
const maxAPIBody = 256 << 10

// maxAPILog bounds how many requests an API remembers.
const maxAPILog = 10000

// HTTPAPI is a running HTTP API endpoint.
type HTTPAPI struct {
	h   *Host
	cfg HTTPAPIConfig

	mu sync.Mutex
	// log is guarded by mu.
	log []HTTPRequest
}

// Requests returns a copy of the requests received so far, in order.
func (a *HTTPAPI) Requests() []HTTPRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]HTTPRequest(nil), a.log...)
}

func validateRoutes(routes []APIRoute) error {
	for i, r := range routes {
		if !strings.HasPrefix(r.Path, "/") {
			return fmt.Errorf("services: route %d: path %q must start with /", i, r.Path)
		}
		if r.Status != 0 && (r.Status < 100 || r.Status > 999) {
			return fmt.Errorf("services: route %d: status %d is not an HTTP status", i, r.Status)
		}
		for _, hd := range r.Headers {
			if k, _, ok := strings.Cut(hd, ":"); !ok || strings.TrimSpace(k) == "" {
				return fmt.Errorf("services: route %d: header %q is not \"Name: value\"", i, hd)
			}
		}
	}
	return nil
}

// AddHTTPAPI starts an HTTP API endpoint on cfg.Port (over TLS when cfg.CA
// is set).
func (h *Host) AddHTTPAPI(cfg HTTPAPIConfig) (*HTTPAPI, error) {
	if err := validateRoutes(cfg.Routes); err != nil {
		return nil, err
	}
	a := &HTTPAPI{h: h, cfg: cfg}
	if cfg.CA == nil {
		return a, h.addTCP(cfg.Port, "http-api", a.serve)
	}
	// As AddHTTPS: an ECDSA and an RSA certificate (the ESP8266's axTLS
	// offers RSA key exchange only), its AES-CBC suites beside crypto/tls's
	// defaults, and randomness from the host's seed per connection.
	var certs []tls.Certificate
	for _, k := range []KeyType{KeyECDSA, KeyRSA} {
		cert, err := cfg.CA.IssueWith(CertOptions{Key: k}, cfg.Names...)
		if err != nil {
			return nil, err
		}
		certs = append(certs, cert)
	}
	base := &tls.Config{
		Certificates:           certs,
		Time:                   h.cfg.Clock.Now,
		MinVersion:             tls.VersionTLS12,
		CipherSuites:           DefaultCipherSuites(),
		SessionTicketsDisabled: true,
	}
	var mu sync.Mutex
	n := 0
	return a, h.addTCP(cfg.Port, "https-api", func(c net.Conn) {
		mu.Lock()
		n++
		tcfg := base.Clone()
		tcfg.Rand = simrand.Reader(h.cfg.Seed, fmt.Sprintf("tls/%s/%d/%d", h.cfg.Name, cfg.Port, n))
		mu.Unlock()
		tc := tls.Server(c, tcfg)
		if err := tc.Handshake(); err != nil {
			h.trace("https-api: TLS handshake with %v failed: %v", c.RemoteAddr(), err)
			return
		}
		a.serve(tc)
		tc.Close()
	})
}

// route picks the answer for method and path; nil with a status when
// nothing matches.
func (a *HTTPAPI) route(method, path string) (*APIRoute, int) {
	status := http.StatusNotFound
	for i := range a.cfg.Routes {
		r := &a.cfg.Routes[i]
		match := r.Path == path
		if p, ok := strings.CutSuffix(r.Path, "*"); ok {
			match = strings.HasPrefix(path, p)
		}
		if !match {
			continue
		}
		if r.Method == "" || strings.EqualFold(r.Method, method) {
			return r, 0
		}
		status = http.StatusMethodNotAllowed
	}
	return nil, status
}

// serve answers requests on one connection until it closes.
func (a *HTTPAPI) serve(c net.Conn) {
	lim := &headerLimit{r: c}
	br := bufio.NewReader(lim)
	for {
		lim.n = 0
		// Go ignores Transfer-Encoding in HTTP/1.0 requests, but requests
		// sends its chunked uploads as HTTP/1.0 and servers such as nginx
		// decode them: parse the request as 1.1 and remember it was 1.0
		// (such a connection then carries this one request).
		line, err := br.ReadString('\n')
		http10 := strings.HasSuffix(strings.TrimRight(line, "\r\n"), " HTTP/1.0")
		if http10 {
			line = strings.TrimRight(line, "\r\n")
			line = line[:len(line)-len("1.0")] + "1.1\r\n"
		}
		var req *http.Request
		if err == nil {
			req, err = http.ReadRequest(bufio.NewReader(io.MultiReader(strings.NewReader(line), br)))
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			}
			return
		}
		lim.n = -1 << 40
		body, _ := io.ReadAll(io.LimitReader(req.Body, maxAPIBody))
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
		if http10 {
			req.Proto, req.ProtoMinor = "HTTP/1.0", 0
		}
		out, status := a.answer(req, body, c.RemoteAddr())
		a.mu.Lock()
		if len(a.log) < maxAPILog {
			a.log = append(a.log, HTTPRequest{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery,
				Header: req.Header.Clone(), Body: body, Status: status, At: a.h.cfg.Clock.Elapsed()})
		}
		a.mu.Unlock()
		a.h.trace("http-api: %s %s (%d bytes) → %d", req.Method, req.URL.Path, len(body), status)
		if _, err := c.Write(out); err != nil {
			return
		}
		if req.Close || http10 {
			return
		}
	}
}

// answer builds the whole response to one request.
func (a *HTTPAPI) answer(req *http.Request, body []byte, from net.Addr) ([]byte, int) {
	r, status := a.route(req.Method, req.URL.Path)
	hdr := http.Header{}
	hdr.Set("Server", "esp8266sim")
	hdr.Set("Date", a.h.cfg.Clock.Now().UTC().Format(http.TimeFormat))
	hdr.Set("Content-Type", "application/json")
	var payload []byte
	chunked := false
	if r == nil {
		payload, _ = json.Marshal(map[string]any{"error": http.StatusText(status), "method": req.Method, "path": req.URL.Path})
	} else {
		status = r.Status
		if status == 0 {
			status = http.StatusOK
		}
		payload = r.Body
		if r.Echo {
			payload = echoJSON(req, body, from)
		}
		if r.ContentType != "" {
			hdr.Set("Content-Type", r.ContentType)
		}
		for _, hd := range r.Headers {
			k, v, _ := strings.Cut(hd, ":")
			hdr.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
		if r.Location != "" {
			hdr.Set("Location", r.Location)
		}
		chunked = r.Chunked
	}
	if chunked {
		hdr.Set("Transfer-Encoding", "chunked")
	} else {
		hdr.Set("Content-Length", strconv.Itoa(len(payload)))
	}
	proto := "HTTP/1.1"
	if !req.ProtoAtLeast(1, 1) {
		proto = "HTTP/1.0"
		hdr.Set("Connection", "close")
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "%s %d %s\r\n", proto, status, http.StatusText(status))
	keys := make([]string, 0, len(hdr))
	for k := range hdr {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range hdr[k] {
			fmt.Fprintf(&out, "%s: %s\r\n", k, v)
		}
	}
	out.WriteString("\r\n")
	if req.Method == http.MethodHead {
		return out.Bytes(), status
	}
	if chunked {
		if len(payload) > 0 {
			fmt.Fprintf(&out, "%x\r\n%s\r\n", len(payload), payload)
		}
		out.WriteString("0\r\n\r\n")
	} else {
		out.Write(payload)
	}
	return out.Bytes(), status
}

// echoJSON describes a request the way httpbin.org does.
func echoJSON(req *http.Request, body []byte, from net.Addr) []byte {
	headers := map[string]string{}
	for k, v := range req.Header {
		headers[k] = strings.Join(v, ", ")
	}
	if req.Host != "" {
		headers["Host"] = req.Host
	}
	if len(req.TransferEncoding) > 0 {
		// Go moves the header into TransferEncoding when it decodes it.
		headers["Transfer-Encoding"] = strings.Join(req.TransferEncoding, ", ")
	}
	args := map[string]string{}
	for k, v := range req.URL.Query() {
		args[k] = strings.Join(v, ",")
	}
	var parsed any
	if json.Valid(body) {
		_ = json.Unmarshal(body, &parsed)
	}
	origin := ""
	if from != nil {
		origin, _, _ = net.SplitHostPort(from.String())
	}
	out, _ := json.Marshal(map[string]any{
		"method": req.Method, "path": req.URL.Path, "args": args, "headers": headers,
		"data": string(body), "json": parsed, "origin": origin,
	})
	return out
}
