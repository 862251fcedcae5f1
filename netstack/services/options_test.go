package services

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// HTTP answers carry the site's and the page's headers over the defaults;
// an empty value removes a default.
func TestHTTPHeaders(t *testing.T) {
	w := newWorld(t)
	site := Site{
		"/": {Body: []byte("hi"), Headers: []Header{{"X-Page", "p"}, {"x-both", "page"}}},
	}
	if err := w.host.AddHTTPWith(8080, site, HTTPOptions{Headers: []Header{{"X-Site", "s"}, {"X-Both", "site"}, {"server", ""}}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path      string
		want, not []string
	}{
		{"/", []string{"X-Site: s\r\n", "X-Page: p\r\n", "X-Both: page\r\n", "Content-Length: 2\r\n"}, []string{"Server:"}},
		{"/missing", []string{"HTTP/1.0 404 Not Found\r\n", "X-Site: s\r\n", "X-Both: site\r\n"}, []string{"Server:", "X-Page"}},
	} {
		c := w.dial(t, 8080)
		c.Write([]byte("GET " + tc.path + " HTTP/1.0\r\n\r\n"))
		raw, err := readAll(c, w.lan.Clock, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range tc.want {
			if !strings.Contains(string(raw), s) {
				t.Errorf("%s: answer lacks %q:\n%s", tc.path, s, raw)
			}
		}
		for _, s := range tc.not {
			if strings.Contains(string(raw), s) {
				t.Errorf("%s: answer has %q:\n%s", tc.path, s, raw)
			}
		}
	}
	if err := w.host.AddHTTPWith(8081, site, HTTPOptions{Headers: []Header{{"X-Bad", "a\r\nInjected: 1"}}}); err == nil {
		t.Error("a header value with a line break was accepted")
	}
}

// Plain HTTP on 443: a TLS ClientHello gets an HTTP 400 answer.
func TestPlainHTTPOn443(t *testing.T) {
	w := newWorld(t)
	if err := w.host.AddHTTP(4430, Site{"/": {Body: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	c := w.dial(t, 4430)
	err := tls.Client(c, &tls.Config{InsecureSkipVerify: true}).Handshake()
	var rh tls.RecordHeaderError
	if !errors.As(err, &rh) || !strings.HasPrefix(string(rh.RecordHeader[:]), "HTTP/") {
		t.Fatalf("handshake with plain HTTP: %v, want a record header error showing HTTP/", err)
	}
}

// The HTTPS server accepts only the cipher suites it is given, and its
// certificate is self-signed or chained through intermediates as asked.
func TestHTTPSOptions(t *testing.T) {
	w := newWorld(t)
	names := []string{"micropython.org"}
	site := Site{"/": {Body: []byte("x")}}
	for port, o := range map[int]HTTPSOptions{
		8441: {CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_256_CBC_SHA}, MaxTLS12: true},
		8442: {Cert: CertOptions{SelfSigned: true}},
		8443: {Cert: CertOptions{Intermediates: 2, Key: KeyRSA}},
	} {
		if err := w.host.AddHTTPSWith(port, site, w.ca, names, o); err != nil {
			t.Fatal(err)
		}
	}
	hs := func(port uint16, cfg *tls.Config) (tls.ConnectionState, error) {
		c := w.dial(t, port)
		cfg.Time = w.lan.Clock.Now
		tc := tls.Client(c, cfg)
		err := tc.Handshake()
		return tc.ConnectionState(), err
	}
	// Suites: only AES256-SHA.
	if _, err := hs(8441, &tls.Config{InsecureSkipVerify: true, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}}); err == nil {
		t.Error("a client offering only AES128-SHA was accepted by a server limited to AES256-SHA")
	}
	st, err := hs(8441, &tls.Config{InsecureSkipVerify: true, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA}})
	if err != nil || st.CipherSuite != tls.TLS_RSA_WITH_AES_256_CBC_SHA {
		t.Errorf("negotiated %s (%v), want TLS_RSA_WITH_AES_256_CBC_SHA", tls.CipherSuiteName(st.CipherSuite), err)
	}
	// Self-signed: the CA does not vouch for it; it vouches for itself.
	_, err = hs(8442, &tls.Config{ServerName: "micropython.org", RootCAs: w.ca.Pool()})
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		t.Errorf("self-signed certificate against the CA: %v, want unknown authority", err)
	}
	st, err = hs(8442, &tls.Config{InsecureSkipVerify: true})
	if err != nil || len(st.PeerCertificates) != 1 || st.PeerCertificates[0].Issuer.String() != st.PeerCertificates[0].Subject.String() {
		t.Errorf("self-signed: %v, chain %d long", err, len(st.PeerCertificates))
	}
	// Chain: leaf, two intermediates, root; verifies against the root.
	st, err = hs(8443, &tls.Config{ServerName: "micropython.org", RootCAs: w.ca.Pool(), CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("chain of two intermediates: %v", err)
	}
	if n := len(st.PeerCertificates); n != 4 {
		t.Errorf("chain has %d certificates, want 4 (leaf, 2 intermediates, root)", n)
	}
	if len(st.VerifiedChains) != 1 || len(st.VerifiedChains[0]) != 4 {
		t.Errorf("verified chains %v", len(st.VerifiedChains))
	}
	if err := (CertOptions{SelfSigned: true, Intermediates: 1}).Validate(); err == nil {
		t.Error("self-signed with intermediates accepted")
	}
}

// A blackhole host answers a SYN to a closed port with nothing (a host
// without it answers with a reset); its services still work.
func TestBlackhole(t *testing.T) {
	for _, hole := range []bool{false, true} {
		w := newWorld(t)
		if hole {
			w.host.Blackhole()
		}
		ctx, cancel := context.WithCancel(context.Background())
		start := w.now()
		done := make(chan error, 1)
		go func() {
			c, err := DialTCP(ctx, w.client.Stack, netip.AddrPortFrom(hostIP, 1234), w.actor)
			if err == nil {
				c.Close()
			}
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("dial never returned")
		}
		cancel()
		took := w.now() - start
		if !hole && (err == nil || !strings.Contains(err.Error(), "refused")) {
			t.Errorf("closed port without blackhole: %v, want connection refused", err)
		}
		if hole {
			if err == nil || strings.Contains(err.Error(), "refused") || took < 10*time.Second {
				t.Errorf("blackhole: %v after %v, want a timeout after the SYN retries", err, took)
			}
			if !strings.Contains(w.trace.String(), "blackhole: SYN from") {
				t.Errorf("trace lacks the dropped SYN:\n%s", w.trace)
			}
			c := w.dial(t, 7)
			c.Write([]byte("still here"))
			buf := make([]byte, 10)
			c.SetReadDeadline(w.lan.Clock.Now().Add(5 * time.Second))
			if n, _ := c.Read(buf); string(buf[:n]) != "still here" {
				t.Errorf("echo behind the blackhole answered %q", buf[:n])
			}
		}
	}
}

// Headers keep the defaults' nginx order with the configured ones after
// them in their order, and AlwaysHTTP11 answers a 1.0 request with 1.1.
func TestHTTPHeaderOrderAndVersion(t *testing.T) {
	w := newWorld(t)
	site := Site{"/": {Body: []byte("0123456789")}}
	o := HTTPOptions{AlwaysHTTP11: true, Headers: []Header{{"Vary", "Accept-Encoding"}, {"ETag", `"x"`}, {"Content-Type", "text/plain"}, {"Accept-Ranges", "bytes"}}}
	if err := w.host.AddHTTPWith(8082, site, o); err != nil {
		t.Fatal(err)
	}
	c := w.dial(t, 8082)
	c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	raw, err := readAll(c, w.lan.Clock, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	if lines[0] != "HTTP/1.1 200 OK" {
		t.Errorf("status line %q, want HTTP/1.1 200 OK", lines[0])
	}
	for _, l := range lines[1:] {
		n, _, _ := strings.Cut(l, ":")
		names = append(names, n)
	}
	want := "Server Date Content-Type Content-Length Connection Vary ETag Accept-Ranges"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("header order %q, want %q", got, want)
	}
	if !strings.Contains(head, "Content-Type: text/plain\r\n") {
		t.Errorf("Content-Type not replaced:\n%s", head)
	}
}

// Certificates of every shape are the same bytes for the same seed (the
// RSA key is derived, not drawn from the system's randomness).
func TestIssueWithDeterministic(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	issue := func(seed uint64) [][]byte {
		ca, err := NewCA(seed, start)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]byte
		for _, o := range []CertOptions{{Key: KeyRSA}, {Key: KeyECDSA, Intermediates: 2}, {SelfSigned: true, Key: KeyRSA}} {
			c, err := ca.IssueWith(o, "a.sim")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c.Certificate...)
		}
		return out
	}
	a, b, c := issue(7), issue(7), issue(8)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different certificates")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds, same certificates")
	}
}
