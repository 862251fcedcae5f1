package sockets

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"strings"
	"time"
)

// TLS verify modes (tls.CERT_*).
const (
	CertNone     = 0
	CertOptional = 1
	CertRequired = 2
)

// TLSOptions are the arguments of SSLContext.wrap_socket plus the context's
// state.
type TLSOptions struct {
	ServerSide bool
	// ServerHostname is server_hostname (SNI and, when verifying, the name
	// checked); empty means None.
	ServerHostname string
	// VerifyMode is CertNone, CertOptional or CertRequired (mbedTLS flavour
	// only; axTLS never verifies).
	VerifyMode int
	// CAData is load_verify_locations(cadata=...): DER or PEM.
	CAData []byte
	// Cert and Key are load_cert_chain's certificate and key: DER or PEM.
	Cert, Key []byte
	// DoHandshake is do_handshake_on_connect.
	DoHandshake bool
}

// tlsSock is a TLS connection over one of the table's TCP sockets.
type tlsSock struct {
	under *sock
	conn  tlsConn
	adapt *tcpConn
	// plain holds decrypted bytes not yet read by the script, so poll can
	// see them.
	plain  []byte
	buf    []byte
	eof    bool
	closed bool
}

// tlsConn is a TLS connection: crypto/tls's, or the axTLS client engine.
type tlsConn interface {
	Read([]byte) (int, error)
	Write([]byte) (int, error)
	Close() error
}

func (ts *tlsSock) close() {
	if ts.closed {
		return
	}
	ts.closed = true
	if ts.conn != nil && ts.adapt != nil && ts.under != nil && ts.under.ep != nil {
		// close_notify is best effort and must never block the script.
		ts.adapt.noWait = true
		ts.conn.Close()
	}
}

// errAgain is the temporary error the adapter returns to crypto/tls for a
// non-blocking socket with nothing to read: crypto/tls keeps a partial record
// and the next read continues it.
type errAgain struct{}

func (errAgain) Error() string   { return "EAGAIN" }
func (errAgain) Timeout() bool   { return true }
func (errAgain) Temporary() bool { return true }

var _ net.Error = errAgain{}

// tcpConn adapts a board TCP socket to net.Conn for crypto/tls. Reads and
// writes park the board's actor; they run on the board's goroutine.
type tcpConn struct {
	t      *Table
	s      *sock
	ctx    context.Context
	noWait bool
}

func (c *tcpConn) Read(p []byte) (int, error) {
	if c.s.ep == nil {
		return 0, c.t.checkConnected(c.s)
	}
	n, err := c.t.tcpRecv(c.ctx, c.s, p, 0)
	if err != nil {
		if Errno(err) == EAGAIN {
			return 0, errAgain{}
		}
		return 0, err
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (c *tcpConn) Write(p []byte) (int, error) {
	if c.noWait {
		// close_notify at close(): sent if it fits, never waited for.
		if c.s.ep != nil {
			saved := c.t.swapTimeout(c.s, 0)
			c.t.tcpSend(c.ctx, c.s, p)
			c.t.swapTimeout(c.s, saved)
		}
		return len(p), nil
	}
	done := 0
	if c.s.timeout == 0 {
		// axTLS/mbedTLS writes of a record block until sent.
		saved := c.t.swapTimeout(c.s, -1)
		defer c.t.swapTimeout(c.s, saved)
	}
	for done < len(p) {
		n, err := c.t.tcpSend(c.ctx, c.s, p[done:])
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

func (c *tcpConn) Close() error                     { return nil }
func (c *tcpConn) LocalAddr() net.Addr              { return addrPortAddr{s: addrPort(c.s.local).String()} }
func (c *tcpConn) RemoteAddr() net.Addr             { return addrPortAddr{s: addrPort(c.s.remote).String()} }
func (c *tcpConn) SetDeadline(time.Time) error      { return nil }
func (c *tcpConn) SetReadDeadline(time.Time) error  { return nil }
func (c *tcpConn) SetWriteDeadline(time.Time) error { return nil }

// addrPortAddr is a net.Addr for a tcpip address.
type addrPortAddr struct{ s string }

func (a addrPortAddr) Network() string { return "tcp" }
func (a addrPortAddr) String() string  { return a.s }

// parseCerts reads DER or PEM certificates.
func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) > 0 {
		return certs, nil
	}
	return x509.ParseCertificates(data)
}

func parseKeyPair(certData, keyData []byte) (tls.Certificate, error) {
	if kp, err := tls.X509KeyPair(certData, keyData); err == nil {
		return kp, nil
	}
	certs, err := parseCerts(certData)
	if err != nil || len(certs) == 0 {
		return tls.Certificate{}, &OSError{Value: true, Msg: "invalid cert"}
	}
	keyDER := keyData
	if b, _ := pem.Decode(keyData); b != nil {
		keyDER = b.Bytes
	}
	var key any
	if k, err := x509.ParsePKCS1PrivateKey(keyDER); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS8PrivateKey(keyDER); err == nil {
		key = k
	} else if k, err := x509.ParseECPrivateKey(keyDER); err == nil {
		key = k
	} else {
		return tls.Certificate{}, &OSError{Value: true, Msg: "invalid key"}
	}
	kp := tls.Certificate{PrivateKey: key, Leaf: certs[0]}
	for _, c := range certs {
		kp.Certificate = append(kp.Certificate, c.Raw)
	}
	return kp, nil
}

// WrapTLS is SSLContext.wrap_socket: it returns the fd of the TLS socket.
func (t *Table) WrapTLS(ctx context.Context, fd int, o TLSOptions) (int, error) {
	if t.cfg.TLS != TLSMbedTLS {
		return t.wrapAxTLS(ctx, fd, o)
	}
	s, err := t.get(fd)
	if err != nil {
		return 0, err
	}
	if s.kind != kindTCP {
		return 0, oserr(EINVAL)
	}
	cfg := &tls.Config{
		Rand:               t.cfg.Rand,
		Time:               t.cfg.Clock.Now,
		InsecureSkipVerify: true,
		ServerName:         o.ServerHostname,
	}
	if len(o.Cert) > 0 || len(o.Key) > 0 {
		kp, err := parseKeyPair(o.Cert, o.Key)
		if err != nil {
			return 0, err
		}
		cfg.Certificates = []tls.Certificate{kp}
	}
	if o.VerifyMode != CertNone && !o.ServerSide {
		if o.VerifyMode == CertRequired && o.ServerHostname == "" {
			return 0, &OSError{Value: true, Msg: "CERT_REQUIRED requires server_hostname"}
		}
		pool := x509.NewCertPool()
		if len(o.CAData) > 0 {
			certs, err := parseCerts(o.CAData)
			if err != nil {
				return 0, &OSError{Value: true, Msg: "invalid cert"}
			}
			for _, c := range certs {
				pool.AddCert(c)
			}
		}
		optional := o.VerifyMode == CertOptional
		host := o.ServerHostname
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if optional {
				return nil
			}
			return verifyChain(raw, pool, host, t.cfg.Clock.Now())
		}
	}
	t.refresh(s)
	if s.ep == nil {
		return 0, t.checkConnected(s)
	}
	adapt := &tcpConn{t: t, s: s, ctx: ctx}
	var conn *tls.Conn
	if o.ServerSide {
		if len(cfg.Certificates) == 0 {
			return 0, &OSError{Errno: -0x7580, Msg: "SSL - No client certification received from the client, but required by the authentication mode"}
		}
		conn = tls.Server(adapt, cfg)
	} else {
		conn = tls.Client(adapt, cfg)
	}
	ts := &tlsSock{under: s, conn: conn, adapt: adapt, buf: make([]byte, 16<<10)}
	host := o.ServerHostname
	if host == "" {
		host = addrString(s.remote)
	}
	t.trace("ssl.wrap_socket(fd %d, server_side=%v, server_hostname=%q, verify=%d)", fd, o.ServerSide, o.ServerHostname, o.VerifyMode)
	if o.DoHandshake {
		if err := conn.HandshakeContext(ctx); err != nil {
			mapped := t.tlsError(err, true)
			t.trace("ssl handshake with %s failed: %v", host, mapped)
			return 0, mapped
		}
	}
	return t.addTLS(s, ts), nil
}

// addTLS registers a TLS socket over s and returns its fd.
func (t *Table) addTLS(s *sock, ts *tlsSock) int {
	ns := &sock{kind: kindTLS, state: stConnected, timeout: s.timeout, tls: ts, created: t.now(), local: s.local, remote: s.remote}
	t.mu.Lock()
	defer t.mu.Unlock()
	ns.fd = t.nextFD
	t.nextFD++
	t.socks[ns.fd] = ns
	return ns.fd
}

// mbedTLS's x509 verification messages (mbedtls_x509_crt_verify_info with
// the "\n" prefix modtls_mbedtls.c passes).
const (
	msgExpired    = "The certificate validity has expired"
	msgFuture     = "The certificate validity starts in the future"
	msgCNMismatch = "The certificate Common Name (CN) does not match with the expected CN"
	msgNotTrusted = "The certificate is not correctly signed by the trusted CA"
)

type verifyError struct{ msgs []string }

func (e *verifyError) Error() string { return strings.Join(e.msgs, "; ") }

func verifyChain(raw [][]byte, roots *x509.CertPool, host string, now time.Time) error {
	if len(raw) == 0 {
		return &verifyError{msgs: []string{msgNotTrusted}}
	}
	certs := make([]*x509.Certificate, 0, len(raw))
	for _, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return &verifyError{msgs: []string{msgNotTrusted}}
		}
		certs = append(certs, c)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	var msgs []string
	leaf := certs[0]
	if now.After(leaf.NotAfter) {
		msgs = append(msgs, msgExpired)
	}
	if now.Before(leaf.NotBefore) {
		msgs = append(msgs, msgFuture)
	}
	if err := leaf.VerifyHostname(host); err != nil {
		msgs = append(msgs, msgCNMismatch)
	}
	// Validity is reported above; check the signature chain at a time the
	// leaf is valid so each problem is reported once, as mbedTLS's flags are.
	at := now
	if now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		at = leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at}); err != nil {
		msgs = append(msgs, msgNotTrusted)
	}
	if len(msgs) > 0 {
		// mbedTLS lists flags in its table order: expired, revoked,
		// CN mismatch, not trusted, ..., future.
		order := map[string]int{msgExpired: 0, msgCNMismatch: 1, msgNotTrusted: 2, msgFuture: 3}
		for i := range msgs {
			for j := i + 1; j < len(msgs); j++ {
				if order[msgs[j]] < order[msgs[i]] {
					msgs[i], msgs[j] = msgs[j], msgs[i]
				}
			}
		}
		return &verifyError{msgs: msgs}
	}
	return nil
}

// tlsError turns a crypto/tls failure into what the firmware raises.
func (t *Table) tlsError(err error, handshake bool) error {
	var ae *AxError
	if errors.As(err, &ae) {
		return ae.scriptError()
	}
	var oe *OSError
	if errors.As(err, &oe) {
		if t.cfg.TLS == TLSAxTLS && handshake {
			// axTLS reports a lost connection during the handshake.
			return &OSError{Errno: -256, Msg: "CONN_LOST"}
		}
		return oe
	}
	var ve *verifyError
	if errors.As(err, &ve) {
		var b strings.Builder
		for _, m := range ve.msgs {
			b.WriteString("\n" + m + "\n")
		}
		return &OSError{Value: true, Msg: b.String()}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if t.cfg.TLS == TLSAxTLS {
			return &OSError{Errno: -256, Msg: "CONN_LOST"}
		}
		return &OSError{Errno: -0x7280, Msg: "SSL - The connection indicated an EOF"}
	}
	if _, ok := err.(errAgain); ok {
		return oserr(EAGAIN)
	}
	if t.cfg.TLS == TLSAxTLS {
		return &OSError{Errno: -260, Msg: "INVALID_HANDSHAKE"}
	}
	var alert tls.AlertError
	if errors.As(err, &alert) || strings.Contains(err.Error(), "remote error") {
		return &OSError{Errno: -0x7780, Msg: "SSL - A fatal alert message was received from our peer"}
	}
	return &OSError{Errno: -0x6a80, Msg: "SSL - The handshake negotiation failed"}
}

func (t *Table) tlsRead(ctx context.Context, s *sock, p []byte) (int, error) {
	ts := s.tls
	if ts.closed {
		return 0, oserr(EBADF)
	}
	if len(ts.plain) == 0 {
		if ts.eof {
			return 0, nil
		}
		ts.adapt.ctx = ctx
		saved := t.swapTimeout(ts.under, s.timeout)
		n, err := ts.conn.Read(ts.buf)
		t.swapTimeout(ts.under, saved)
		if n > 0 {
			ts.plain = ts.buf[:n]
		} else if err != nil {
			if _, ok := err.(errAgain); ok {
				return 0, oserr(EAGAIN)
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				// A peer that closes without close_notify reads as EOF
				// (axTLS: SSL_ERROR_CONN_LOST).
				ts.eof = true
				return 0, nil
			}
			var oe *OSError
			if errors.As(err, &oe) {
				if oe.Errno == ECONNRESET || oe.Errno == ENOTCONN {
					// axTLS/mbedTLS read a lost connection as EOF.
					ts.eof = true
					return 0, nil
				}
				return 0, oe
			}
			return 0, t.tlsError(err, false)
		}
	}
	n := copy(p, ts.plain)
	ts.plain = ts.plain[n:]
	t.mu.Lock()
	s.bytesIn += uint64(n)
	t.mu.Unlock()
	return n, nil
}

func (t *Table) tlsWrite(ctx context.Context, s *sock, p []byte) (int, error) {
	ts := s.tls
	if ts.closed {
		return 0, oserr(EBADF)
	}
	ts.adapt.ctx = ctx
	n, err := ts.conn.Write(p)
	if err != nil && n == 0 {
		var oe *OSError
		if errors.As(err, &oe) {
			return 0, oe
		}
		return 0, t.tlsError(err, false)
	}
	t.mu.Lock()
	s.bytesOut += uint64(n)
	t.mu.Unlock()
	return n, nil
}

func (t *Table) tlsPollFlags(s *sock, events int) int {
	ts := s.tls
	if ts.closed {
		return PollNval
	}
	ret := 0
	if events&PollIn != 0 && (len(ts.plain) > 0 || ts.eof) {
		ret |= PollIn
	}
	if ts.under != nil {
		ret |= t.pollFlags(ts.under, events)
	}
	return ret
}

// swapTimeout sets a socket's timeout and returns the old one.
func (t *Table) swapTimeout(s *sock, d time.Duration) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := s.timeout
	s.timeout = d
	return old
}

// PeerCert is getpeercert(True): the peer's certificate in DER, nil if none.
func (t *Table) PeerCert(fd int) ([]byte, error) {
	s, err := t.get(fd)
	if err != nil {
		return nil, err
	}
	if s.kind != kindTLS {
		return nil, oserr(EINVAL)
	}
	var certs []*x509.Certificate
	switch c := s.tls.conn.(type) {
	case *tls.Conn:
		certs = c.ConnectionState().PeerCertificates
	case *axServerConn:
		certs = c.ConnectionState().PeerCertificates
	case *axClient:
		certs = c.PeerCertificates()
	}
	if len(certs) == 0 {
		return nil, nil
	}
	return certs[0].Raw, nil
}
