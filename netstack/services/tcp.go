package services

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
)

// AddTCPEcho starts a TCP echo server: everything a client sends comes
// back; the server closes when the client does.
func (h *Host) AddTCPEcho(port int) error {
	return h.addTCP(port, "tcp-echo", func(c net.Conn) {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
}

// AddTCPDiscard starts a discard server (RFC 863): it reads everything a
// client sends and answers nothing, the usual sink for throughput tests.
func (h *Host) AddTCPDiscard(port int) error {
	return h.addTCP(port, "tcp-discard", func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c)
	})
}

// Page is one resource of a static site.
type Page struct {
	// Body is the content.
	Body []byte
	// ContentType is the Content-Type header; empty: from the path's
	// extension, text/html when it has none.
	ContentType string
	// Status is the HTTP status; 0 means 200.
	Status int
	// Headers are response headers of this page, applied over the
	// defaults (Server, Date, Content-Type, Content-Length) and the site's
	// (HTTPOptions.Headers): a header of the same name replaces the
	// earlier one, an empty value removes it.
	Headers []Header
}

// Header is one HTTP response header.
type Header struct {
	Name, Value string
}

// Site is a static web site: path → page. Other paths answer 404.
type Site map[string]Page

// CheckHeader reports a header HTTP/1.1 cannot carry: a name that is not a
// token, a value with a line break (it would end the header block).
func CheckHeader(name, value string) error {
	if name == "" || strings.ContainsAny(name, " \t\r\n:()<>@,;\\\"/[]?={}") {
		return fmt.Errorf("services: %q is not an HTTP header name", name)
	}
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("services: header %s: a value cannot contain a line break", name)
	}
	return nil
}

func checkHeaders(hs []Header) error {
	for _, x := range hs {
		if err := CheckHeader(x.Name, x.Value); err != nil {
			return err
		}
	}
	return nil
}

func (s Site) validate() error {
	for p, pg := range s {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("services: page path %q must start with /", p)
		}
		if err := checkHeaders(pg.Headers); err != nil {
			return fmt.Errorf("services: page %s: %w", p, err)
		}
		if pg.Status != 0 && (pg.Status < 100 || pg.Status > 999) {
			return fmt.Errorf("services: page %s: status %d is not an HTTP status", p, pg.Status)
		}
	}
	return nil
}

func contentType(p string, pg Page) string {
	if pg.ContentType != "" {
		return pg.ContentType
	}
	ext := path.Ext(p)
	if ext == "" {
		return "text/html"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// AddHTTP starts a plain HTTP/1.1 static site on port (80 usually).
func (h *Host) AddHTTP(port int, site Site) error {
	return h.AddHTTPWith(port, site, HTTPOptions{})
}

// HTTPOptions shape an HTTP (or HTTPS) site's answers.
type HTTPOptions struct {
	// Headers are response headers sent with every answer (404s too), in
	// order after the defaults (Server, Date, Content-Type,
	// Content-Length, Connection): the same name replaces a default in
	// its place, an empty value removes it. Page.Headers apply over these.
	Headers []Header
	// AlwaysHTTP11 answers HTTP/1.0 requests with an HTTP/1.1 status
	// line, as nginx and Apache do (RFC 9110 section 6.2); by default the
	// answer echoes the request's version.
	AlwaysHTTP11 bool
}

// AddHTTPWith is AddHTTP with options. Plain HTTP may listen on 443: a TLS
// client then gets "400 Bad Request" to its ClientHello.
func (h *Host) AddHTTPWith(port int, site Site, o HTTPOptions) error {
	if err := site.validate(); err != nil {
		return err
	}
	if err := checkHeaders(o.Headers); err != nil {
		return err
	}
	return h.addTCP(port, "http", func(c net.Conn) { h.serveHTTP(c, site, o) })
}

// AddHTTPS starts an HTTPS static site on port (443 usually) with a
// certificate for names (the host's DNS names) issued by ca, with the
// default HTTPSOptions.
func (h *Host) AddHTTPS(port int, site Site, ca *CA, names []string) error {
	return h.AddHTTPSWith(port, site, ca, names, HTTPSOptions{})
}

// HTTPSOptions shape an HTTPS service's TLS.
type HTTPSOptions struct {
	// CipherSuites are the TLS 1.2 suites the server accepts (IANA numbers,
	// e.g. 0x002f for TLS_RSA_WITH_AES_128_CBC_SHA); empty means
	// DefaultCipherSuites. TLS 1.3 (which has no choice of suites) stays
	// available unless MaxTLS12 is set.
	CipherSuites []uint16
	// MaxTLS12 caps the server at TLS 1.2.
	MaxTLS12 bool
	// FullRecords sends full-size (16 KB) records from the start, as nginx
	// does by default; crypto/tls otherwise starts small and grows. An
	// ESP8266 (axTLS holds records up to 5 KB) fails with RECORD_OVERFLOW
	// on a larger page from such a server.
	FullRecords bool
	// HTTP shapes the answers.
	HTTP HTTPOptions
	// Cert shapes the certificate. With Cert.Key empty the server holds an
	// ECDSA and an RSA certificate and the client's offer picks one (an
	// ESP8266, which offers RSA key exchange only, gets the RSA one).
	Cert CertOptions
}

// DefaultCipherSuites are crypto/tls's default TLS 1.2 suites plus the RSA
// key-exchange AES-CBC suites the ESP8266's axTLS offers, which most public
// servers still accept.
func DefaultCipherSuites() []uint16 {
	var out []uint16
	for _, cs := range tls.CipherSuites() {
		out = append(out, cs.ID)
	}
	return append(out, tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA256)
}

// AddHTTPSWith is AddHTTPS with options. Each connection's TLS randomness
// comes from the host's seed (a stream per port and connection), and the
// keys and signatures from the CA's, so one seed gives the same handshake
// bytes every run for clients that avoid ECDHE (crypto/ecdh ignores custom
// random sources since Go 1.26: ECDHE shares still differ between runs).
func (h *Host) AddHTTPSWith(port int, site Site, ca *CA, names []string, o HTTPSOptions) error {
	if err := site.validate(); err != nil {
		return err
	}
	if err := checkHeaders(o.HTTP.Headers); err != nil {
		return err
	}
	if ca == nil {
		return errors.New("services: AddHTTPS needs a CA")
	}
	var certs []tls.Certificate
	kinds := []KeyType{o.Cert.Key}
	if o.Cert.Key == "" {
		kinds = []KeyType{KeyECDSA, KeyRSA}
	}
	for _, k := range kinds {
		co := o.Cert
		co.Key = k
		cert, err := ca.IssueWith(co, names...)
		if err != nil {
			return err
		}
		certs = append(certs, cert)
	}
	suites := o.CipherSuites
	if len(suites) == 0 {
		suites = DefaultCipherSuites()
	}
	for _, cs := range suites {
		if tls.CipherSuiteName(cs)[:2] == "0x" {
			return fmt.Errorf("services: cipher suite %#04x is not implemented", cs)
		}
	}
	base := &tls.Config{
		Certificates:                certs,
		Time:                        h.cfg.Clock.Now,
		MinVersion:                  tls.VersionTLS12,
		CipherSuites:                suites,
		SessionTicketsDisabled:      true,
		DynamicRecordSizingDisabled: o.FullRecords,
	}
	if o.MaxTLS12 {
		base.MaxVersion = tls.VersionTLS12
	}
	var mu sync.Mutex
	n := 0
	return h.addTCP(port, "https", func(c net.Conn) {
		mu.Lock()
		n++
		cfg := base.Clone()
		cfg.Rand = simrand.Reader(h.cfg.Seed, fmt.Sprintf("tls/%s/%d/%d", h.cfg.Name, port, n))
		mu.Unlock()
		tc := tls.Server(c, cfg)
		if err := tc.Handshake(); err != nil {
			h.trace("https: TLS handshake with %v failed: %v", c.RemoteAddr(), err)
			return
		}
		h.serveHTTP(tc, site, o.HTTP)
		tc.Close()
	})
}

// maxRequestHeader bounds a request's line and headers, so a script that
// sends an endless line cannot make the simulator grow without limit.
const maxRequestHeader = 64 << 10

// headerLimit fails reads once more than maxRequestHeader bytes were read
// since n was last reset (at the start of each request).
type headerLimit struct {
	r io.Reader
	n int
}

var errHeaderTooLarge = errors.New("request header too large")

func (l *headerLimit) Read(p []byte) (int, error) {
	if l.n >= maxRequestHeader {
		return 0, errHeaderTooLarge
	}
	if len(p) > maxRequestHeader-l.n {
		p = p[:maxRequestHeader-l.n]
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

// serveHTTP answers requests on one connection until the client or the
// request asks to close. One goroutine, no background reads: the conn's
// actor is only ever parked by this goroutine.
// setHeader replaces the header of x's name (case-insensitively) in place,
// removes it when x.Value is empty, or appends x spelt as given (servers
// write "ETag", which canonical form would turn into "Etag").
func setHeader(hs []Header, x Header) []Header {
	for i := range hs {
		if strings.EqualFold(hs[i].Name, x.Name) {
			if x.Value == "" {
				return append(hs[:i], hs[i+1:]...)
			}
			hs[i].Value = x.Value
			return hs
		}
	}
	if x.Value == "" {
		return hs
	}
	return append(hs, x)
}

func (h *Host) serveHTTP(c net.Conn, site Site, o HTTPOptions) {
	lim := &headerLimit{r: c}
	br := bufio.NewReader(lim)
	for {
		lim.n = 0
		req, err := http.ReadRequest(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			}
			return
		}
		// Drain any request body so the next request parses (a body does
		// not count against the header limit).
		lim.n = -1 << 40
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
		pg, ok := site[req.URL.Path]
		status := http.StatusOK
		body := pg.Body
		ctype := contentType(req.URL.Path, pg)
		switch {
		case !ok:
			status = http.StatusNotFound
			body = []byte("<html><body><h1>404 Not Found</h1></body></html>\n")
			ctype = "text/html"
		case pg.Status != 0:
			status = pg.Status
		}
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			status = http.StatusMethodNotAllowed
			body = nil
		}
		closeAfter := req.Close || req.ProtoAtLeast(1, 1) == false && !strings.EqualFold(req.Header.Get("Connection"), "keep-alive")
		var out bytes.Buffer
		proto := "HTTP/1.1"
		if !req.ProtoAtLeast(1, 1) && !o.AlwaysHTTP11 {
			proto = "HTTP/1.0"
		}
		fmt.Fprintf(&out, "%s %d %s\r\n", proto, status, http.StatusText(status))
		// Defaults in the order nginx sends them, then the site's and the
		// page's headers: a name already present keeps its place.
		hdr := []Header{
			{"Server", "esp8266sim"},
			{"Date", h.cfg.Clock.Now().UTC().Format(http.TimeFormat)},
			{"Content-Type", ctype},
			{"Content-Length", strconv.Itoa(len(body))},
		}
		if closeAfter {
			hdr = append(hdr, Header{"Connection", "close"})
		}
		for _, extra := range [][]Header{o.Headers, pg.Headers} {
			for _, x := range extra {
				hdr = setHeader(hdr, x)
			}
		}
		for _, x := range hdr {
			fmt.Fprintf(&out, "%s: %s\r\n", x.Name, x.Value)
		}
		out.WriteString("\r\n")
		if req.Method != http.MethodHead {
			out.Write(body)
		}
		h.trace("http: %s %s → %d (%d bytes)", req.Method, req.URL.Path, status, len(body))
		if _, err := c.Write(out.Bytes()); err != nil {
			return
		}
		if closeAfter {
			return
		}
	}
}
