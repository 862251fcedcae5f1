package sockets

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/detrsa"
	"github.com/esp8266sim/esp8266sim/internal/simrand"
)

// AxTLSSuites are the cipher suites the board's axTLS offers, in its order:
// AES128-SHA, AES128-SHA256, AES256-SHA, AES256-SHA256.
func AxTLSSuites() []uint16 { return append([]uint16(nil), axSuites...) }

// axServerSuites are the suites an axTLS server on the board accepts, as far
// as crypto/tls implements them (it has no AES256-SHA256).
var axServerSuites = []uint16{
	tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_RSA_WITH_AES_256_CBC_SHA,
}

// axNotice is an axTLS error preceded by a line axTLS prints on the UART
// (printf in tls1.c), which the board writes to the console before raising.
type axNotice struct {
	*OSError
	text string
}

func (e *axNotice) Unwrap() error  { return e.OSError }
func (e *axNotice) Notice() string { return e.text }
func (e *axNotice) Error() string  { return e.OSError.Error() }
func (e *AxError) scriptError() error {
	oe := e.OSError()
	if e.Code == axRecordOverflow && e.Record > 0 {
		return &axNotice{OSError: oe, text: fmt.Sprintf("TLS buffer overflow, record size: %d (+5)\n", e.Record)}
	}
	return oe
}

// pkcs1Key is an RSA private key as axTLS's asn1_get_private_key reads it:
// a DER PKCS #1 RSAPrivateKey (no PEM: the port builds without
// CONFIG_SSL_HAS_PEM; no PKCS #8: the fields must follow the version).
type pkcs1Key struct {
	Version               int
	N                     *big.Int
	E                     int
	D, P, Q, Dp, Dq, Qinv *big.Int
}

// parseAxKey reads a key the way ssl_obj_memory_load(SSL_OBJ_RSA_KEY) does.
func parseAxKey(der []byte) (*rsa.PrivateKey, error) {
	if len(der) == 0 || der[0] != 0x30 {
		return nil, &OSError{Value: true, Msg: "invalid key"}
	}
	var k pkcs1Key
	if _, err := asn1.Unmarshal(der, &k); err != nil || k.N == nil || k.D == nil || k.N.Sign() <= 0 || k.E <= 0 {
		return nil, &OSError{Value: true, Msg: "invalid key"}
	}
	key := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: k.N, E: k.E}, D: k.D}
	if k.P != nil && k.Q != nil && k.P.Sign() > 0 && k.Q.Sign() > 0 {
		key.Primes = []*big.Int{k.P, k.Q}
		key.Precompute()
	}
	return key, nil
}

// parseAxCert reads a certificate the way ssl_obj_memory_load
// (SSL_OBJ_X509_CERT) does: DER only.
func parseAxCert(der []byte) (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, &OSError{Value: true, Msg: "invalid cert"}
	}
	return c, nil
}

var (
	axDefaultOnce sync.Once
	axDefault     tls.Certificate
	axDefaultErr  error
)

// axDefaultCert is what an axTLS server uses when the script gives no key
// (CONFIG_SSL_USE_DEFAULT_KEY): a 1024-bit RSA key and a certificate for
// O=axTLS Project, CN=localhost issued by "axTLS Project Dodgy Certificate
// Authority", valid 2016-12-30 to 2030-09-08, as in the firmware. The key
// itself is our own (derived from a fixed stream), so the bytes differ.
func axDefaultCert() (tls.Certificate, error) {
	axDefaultOnce.Do(func() {
		key, err := detrsa.Cached("axtls-default", 1024, func() io.Reader { return simrand.Reader(0, "axtls/default-key") })
		if err != nil {
			axDefaultErr = err
			return
		}
		caKey, err := detrsa.Cached("axtls-default-ca", 1024, func() io.Reader { return simrand.Reader(0, "axtls/default-ca") })
		if err != nil {
			axDefaultErr = err
			return
		}
		serial, _ := new(big.Int).SetString("a52ac87887f2e7c5", 16)
		tmpl := &x509.Certificate{
			SerialNumber: serial,
			Subject:      pkix.Name{Organization: []string{"axTLS Project"}, CommonName: "localhost"},
			NotBefore:    time.Date(2016, 12, 30, 21, 4, 27, 0, time.UTC),
			NotAfter:     time.Date(2030, 9, 8, 21, 4, 27, 0, time.UTC),
		}
		parent := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{Organization: []string{"axTLS Project Dodgy Certificate Authority"}},
		}
		der, err := x509.CreateCertificate(nil, tmpl, parent, &key.PublicKey, caKey)
		if err != nil {
			axDefaultErr = err
			return
		}
		axDefault = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	return axDefault, axDefaultErr
}

// wrapAxTLS is wrap_socket on the ESP8266 (modtls_axtls.c
// ssl_socket_make_new): the key is loaded before the certificate; a client
// handshakes at once unless do_handshake is false; a server handshakes on
// its first read or write.
func (t *Table) wrapAxTLS(ctx context.Context, fd int, o TLSOptions) (int, error) {
	var kp *tls.Certificate
	if len(o.Key) > 0 {
		key, err := parseAxKey(o.Key)
		if err != nil {
			return 0, err
		}
		cert, err := parseAxCert(o.Cert)
		if err != nil {
			return 0, err
		}
		kp = &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
	}
	s, err := t.get(fd)
	if err != nil {
		return 0, err
	}
	if s.kind != kindTCP {
		return 0, oserr(EINVAL)
	}
	t.refresh(s)
	if s.ep == nil {
		return 0, t.checkConnected(s)
	}
	adapt := &tcpConn{t: t, s: s, ctx: ctx}
	t.trace("ssl.wrap_socket(fd %d, server_side=%v, server_hostname=%q)", fd, o.ServerSide, o.ServerHostname)
	if o.ServerSide {
		if kp == nil {
			def, err := axDefaultCert()
			if err != nil {
				return 0, fmt.Errorf("sockets: axTLS default key: %w", err)
			}
			kp = &def
		}
		cfg := &tls.Config{
			Rand:         t.cfg.Rand,
			Time:         t.cfg.Clock.Now,
			Certificates: []tls.Certificate{*kp},
			CipherSuites: axServerSuites,
			MinVersion:   tls.VersionTLS10,
			MaxVersion:   tls.VersionTLS12,
			// Skeleton mode keeps no sessions.
			SessionTicketsDisabled: true,
		}
		srv := &axServerConn{Conn: tls.Server(adapt, cfg), bits: rsaBits(kp), charge: t.charge}
		ts := &tlsSock{under: s, conn: srv, adapt: adapt, buf: make([]byte, axMaxPlain)}
		return t.addTLS(s, ts), nil
	}
	c := newAxClient(adapt, t.cfg.Rand, t.cfg.Clock.Now, o.ServerHostname)
	c.charge = t.charge
	ts := &tlsSock{under: s, conn: c, adapt: adapt, buf: make([]byte, axMaxRecord)}
	if o.DoHandshake {
		if err := c.Handshake(); err != nil {
			var ae *AxError
			if a, ok := err.(*AxError); ok {
				ae = a
			}
			host := o.ServerHostname
			if host == "" {
				host = addrString(s.remote)
			}
			t.trace("ssl handshake with %s failed: %v", host, err)
			switch {
			case ae != nil && ae.Code == axCloseNotify:
				return 0, oserr(ENOTCONN)
			case ae != nil:
				return 0, ae.scriptError()
			}
			if _, again := err.(errAgain); again {
				return 0, oserr(EAGAIN)
			}
			return 0, (&AxError{Code: axConnLost}).scriptError()
		}
	}
	return t.addTLS(s, ts), nil
}

// AxTLSHello is the ClientHello record axTLS writes first when it wraps a
// stream that is not a board socket (wrap_socket takes any stream); the
// board's tls module writes it to that stream.
func (t *Table) AxTLSHello(host string) []byte {
	var buf bytes.Buffer
	c := newAxClient(&buf, t.cfg.Rand, t.cfg.Clock.Now, host)
	if err := c.sendHello(); err != nil {
		return nil
	}
	return buf.Bytes()
}

// CheckAxTLSKey loads key then cert as wrap_socket does before it touches
// the stream: ValueError('invalid key') or ValueError('invalid cert').
// With keyOnly the certificate is not looked at.
func CheckAxTLSKey(key, cert []byte, keyOnly bool) error {
	if _, err := parseAxKey(key); err != nil || keyOnly {
		return err
	}
	_, err := parseAxCert(cert)
	return err
}
