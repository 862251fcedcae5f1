package sockets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"time"
)

// axTLS as the ESP8266 port builds it (lib/axtls at the commit MicroPython
// v1.27.0 pins, configured by extmod/axtls-include/config.h and the port's
// Makefile): TLS 1.2 client, RSA key exchange, AES-CBC with HMAC-SHA1 or
// HMAC-SHA256, skeleton mode (no session cache, no certificate checks, no
// PEM). The board's TLS client is this engine rather than crypto/tls because
// crypto/tls cannot be made to send axTLS's ClientHello (it always adds
// supported_groups, ec_point_formats, renegotiation_info, extended master
// secret, SCT, session tickets) and, since Go 1.26, ignores a seeded random
// source for RSA encryption, so captures could not repeat for one seed.

// axTLS's cipher suites in the order ClientHello lists them
// (ssl_prot_prefs with CONFIG_SSL_PROT_LOW, the port's setting).
var axSuites = []uint16{0x002f, 0x003c, 0x0035, 0x003d}

// axTLS record-layer limits as the port builds it: RT_MAX_PLAIN_LENGTH=1024
// (one record carries at most 1024 plaintext bytes) and RT_EXTRA=4096, so a
// record longer than 1024+4096-5 bytes does not fit the receive buffer.
const (
	axMaxPlain  = 1024
	axMaxRecord = 1024 + 4096 - 5
)

// axTLS error codes (ssl.h) with the names modtls_axtls.c gives them.
const (
	axCloseNotify      = -3
	axConnLost         = -256
	axRecordOverflow   = -257
	axInvalidHandshake = -260
	axInvalidProtMsg   = -261
	axInvalidHMAC      = -262
	axInvalidVersion   = -263
	axInvalidSession   = -265
	axNoCipher         = -266
	axBadCertificate   = -268
	axFinishedInvalid  = -271
	axNotSupported     = -274
)

var axErrNames = map[int]string{
	-1: "NOT_OK", -2: "DEAD", -3: "CLOSE_NOTIFY", -4: "EAGAIN",
	-256: "CONN_LOST", -257: "RECORD_OVERFLOW", -258: "SOCK_SETUP_FAILURE",
	-260: "INVALID_HANDSHAKE", -261: "INVALID_PROT_MSG", -262: "INVALID_HMAC",
	-263: "INVALID_VERSION", -264: "UNSUPPORTED_EXTENSION", -265: "INVALID_SESSION",
	-266: "NO_CIPHER", -267: "INVALID_CERT_HASH_ALG", -268: "BAD_CERTIFICATE",
	-269: "INVALID_KEY", -271: "FINISHED_INVALID", -272: "NO_CERT_DEFINED",
	-273: "NO_CLIENT_RENOG", -274: "NOT_SUPPORTED",
}

// AxError is an axTLS error as modtls_axtls.c raises it: OSError(code,
// name) for the codes it names, OSError(code) otherwise (a fatal alert from
// the peer is minus the alert number).
type AxError struct {
	Code int
	// Record is the length field of an oversized record (RECORD_OVERFLOW),
	// which axTLS prints before failing.
	Record int
}

func (e *AxError) Error() string {
	if n, ok := axErrNames[e.Code]; ok {
		return fmt.Sprintf("axTLS %d %s", e.Code, n)
	}
	return fmt.Sprintf("axTLS %d", e.Code)
}

// OSError is what the script sees.
func (e *AxError) OSError() *OSError {
	return &OSError{Errno: e.Code, Msg: axErrNames[e.Code]}
}

func axErr(code int) error { return &AxError{Code: code} }

// TLS record content types and handshake message types.
const (
	recCCS       = 20
	recAlert     = 21
	recHandshake = 22
	recData      = 23

	hsClientHello  = 1
	hsServerHello  = 2
	hsCertificate  = 11
	hsCertRequest  = 13
	hsServerDone   = 14
	hsClientKeyX   = 16
	hsFinished     = 20
	hsServerKeyX   = 12
	hsHelloRequest = 0
)

// axClient is one axTLS client connection over rw.
type axClient struct {
	rw   io.ReadWriter
	rand io.Reader
	now  func() time.Time
	host string

	// in holds received bytes not yet consumed as whole records.
	in []byte
	// hsBuf holds handshake bytes not yet consumed as whole messages.
	hsBuf []byte
	// transcript is every handshake message so far (for Finished).
	transcript []byte

	state        int
	suite        uint16
	clientRandom [32]byte
	serverRandom [32]byte
	master       []byte
	peerCerts    []*x509.Certificate

	wBlock, rBlock cipher.Block
	wMAC, rMAC     []byte
	macNew         func() hash.Hash
	wSeq, rSeq     uint64
	wOn, rOn       bool
	// certRequested: the server sent CertificateRequest.
	certRequested bool

	// charge is told the CPU time of the handshake's RSA operation and
	// key derivation (axtls_cost.go); nil: free.
	charge func(time.Duration)

	plain  []byte
	failed error
	eof    bool
	closed bool
}

const (
	axStart = iota
	axWaitServerHello
	axWaitCert
	axWaitDone
	axWaitCCS
	axWaitFinished
	axConnected
)

func newAxClient(rw io.ReadWriter, rnd io.Reader, now func() time.Time, host string) *axClient {
	return &axClient{rw: rw, rand: rnd, now: now, host: host}
}

// random fills b from the seeded source.
func (c *axClient) random(b []byte) {
	io.ReadFull(c.rand, b)
}

// Handshake runs (or resumes, after EAGAIN) the handshake.
func (c *axClient) Handshake() error {
	if c.failed != nil {
		return c.failed
	}
	if c.state == axStart {
		if err := c.sendHello(); err != nil {
			return c.fail(err)
		}
		c.state = axWaitServerHello
	}
	for c.state != axConnected {
		typ, body, err := c.readRecord()
		if err != nil {
			if _, again := err.(errAgain); again {
				return err
			}
			return c.fail(err)
		}
		if err := c.handshakeRecord(typ, body); err != nil {
			return c.fail(err)
		}
	}
	return nil
}

func (c *axClient) fail(err error) error {
	if _, again := err.(errAgain); again {
		return err
	}
	if c.failed == nil {
		c.failed = err
		var ae *AxError
		if errors.As(err, &ae) && ae.Code != axConnLost && ae.Code != axCloseNotify {
			// ssl_read sends a fatal alert for every error but a lost
			// connection; best effort.
			c.writeRecord(recAlert, []byte{2, axAlertFor(ae.Code)})
		}
	}
	return err
}

// axAlertFor is send_alert's mapping from error to alert number.
func axAlertFor(code int) byte {
	switch code {
	case axNoCipher:
		return 40
	case axInvalidHMAC:
		return 20
	case axFinishedInvalid:
		return 51
	case axInvalidVersion:
		return 70
	case axInvalidSession:
		return 47
	case axRecordOverflow:
		return 22
	case axBadCertificate:
		return 42
	}
	return 10
}

func (c *axClient) sendHello() error {
	t := uint32(c.now().Unix())
	binary.BigEndian.PutUint32(c.clientRandom[:4], t)
	c.random(c.clientRandom[4:])
	b := []byte{3, 3}
	b = append(b, c.clientRandom[:]...)
	b = append(b, 0) // no session id: skeleton mode keeps no sessions
	b = append(b, 0, byte(2*len(axSuites)))
	for _, s := range axSuites {
		b = append(b, byte(s>>8), byte(s))
	}
	b = append(b, 1, 0) // null compression only
	// signature_algorithms: SHA512/384/256/1 with RSA, then server_name.
	ext := []byte{0, 13, 0, 10, 0, 8, 6, 1, 5, 1, 4, 1, 2, 1}
	if h := c.host; h != "" {
		n := len(h)
		ext = append(ext, 0, 0, byte((n+5)>>8), byte(n+5), byte((n+3)>>8), byte(n+3), 0, byte(n>>8), byte(n))
		ext = append(ext, h...)
	}
	b = append(b, byte(len(ext)>>8), byte(len(ext)))
	b = append(b, ext...)
	return c.sendHandshake(hsClientHello, b)
}

func (c *axClient) sendHandshake(typ byte, body []byte) error {
	msg := append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	c.transcript = append(c.transcript, msg...)
	return c.writeRecord(recHandshake, msg)
}

// handshakeRecord handles one record during the handshake.
func (c *axClient) handshakeRecord(typ byte, body []byte) error {
	switch typ {
	case recAlert:
		return c.alert(body)
	case recCCS:
		if c.state != axWaitCCS || len(body) != 1 || body[0] != 1 {
			return axErr(axInvalidHandshake)
		}
		c.rOn = true
		c.state = axWaitFinished
		return nil
	case recHandshake:
	default:
		return axErr(axInvalidProtMsg)
	}
	c.hsBuf = append(c.hsBuf, body...)
	for len(c.hsBuf) >= 4 && c.state != axConnected {
		n := int(c.hsBuf[1])<<16 | int(c.hsBuf[2])<<8 | int(c.hsBuf[3])
		if n > axMaxRecord {
			return axErr(axInvalidHandshake)
		}
		if len(c.hsBuf) < 4+n {
			return nil
		}
		msg := c.hsBuf[:4+n]
		c.hsBuf = c.hsBuf[4+n:]
		if err := c.handshakeMsg(msg[0], msg[4:], msg); err != nil {
			return err
		}
	}
	return nil
}

func (c *axClient) handshakeMsg(typ byte, m, raw []byte) error {
	verify := c.finishedMAC("server finished")
	if typ != hsFinished {
		c.transcript = append(c.transcript, raw...)
	}
	switch {
	case typ == hsServerHello && c.state == axWaitServerHello:
		if len(m) < 38 {
			return axErr(axInvalidHandshake)
		}
		ver := m[0]<<4 + m[1]
		if ver < 0x33 {
			// axTLS would fall back to TLS 1.0/1.1 framing; this engine
			// speaks TLS 1.2 only (every simulated server does).
			return axErr(axInvalidVersion)
		}
		copy(c.serverRandom[:], m[2:34])
		sid := int(m[34])
		if sid > 32 {
			return axErr(axInvalidSession)
		}
		if len(m) < 35+sid+3 {
			return axErr(axInvalidHandshake)
		}
		c.suite = uint16(m[35+sid])<<8 | uint16(m[36+sid])
		known := false
		for _, s := range axSuites {
			known = known || s == c.suite
		}
		if !known {
			return axErr(axNoCipher)
		}
		c.state = axWaitCert
	case typ == hsCertificate && c.state == axWaitCert:
		if len(m) < 3 {
			return axErr(axInvalidHandshake)
		}
		rest := m[3:]
		for len(rest) >= 3 {
			n := int(rest[0])<<16 | int(rest[1])<<8 | int(rest[2])
			if len(rest) < 3+n {
				return axErr(axBadCertificate)
			}
			cert, err := x509.ParseCertificate(rest[3 : 3+n])
			if err != nil {
				return axErr(axBadCertificate)
			}
			c.peerCerts = append(c.peerCerts, cert)
			rest = rest[3+n:]
		}
		if len(c.peerCerts) == 0 {
			return axErr(axBadCertificate)
		}
		if _, ok := c.peerCerts[0].PublicKey.(*rsa.PublicKey); !ok {
			return axErr(axBadCertificate)
		}
		c.state = axWaitDone
	case typ == hsCertRequest && c.state == axWaitDone:
		// axTLS answers with an empty Certificate (no client key is set).
		c.certRequested = true
	case typ == hsServerDone && c.state == axWaitDone:
		return c.finishClient()
	case typ == hsFinished && c.state == axWaitFinished:
		if !hmac.Equal(m, verify) {
			return axErr(axFinishedInvalid)
		}
		c.transcript = nil
		c.state = axConnected
	case typ == hsHelloRequest && c.state == axConnected:
	default:
		return axErr(axInvalidHandshake)
	}
	return nil
}

// finishClient sends ClientKeyExchange, ChangeCipherSpec and Finished.
func (c *axClient) finishClient() error {
	if c.certRequested {
		if err := c.sendHandshake(hsCertificate, []byte{0, 0, 0}); err != nil {
			return err
		}
	}
	pub := c.peerCerts[0].PublicKey.(*rsa.PublicKey)
	pre := make([]byte, 48)
	pre[0], pre[1] = 3, 3
	c.random(pre[2:])
	enc, err := c.rsaEncrypt(pub, pre)
	if err != nil {
		return axErr(axBadCertificate)
	}
	// The board's CPU is busy with the RSA operation and the key
	// derivation before ClientKeyExchange leaves: the charge blocks here,
	// so the flight goes out when it would on the board.
	if c.charge != nil {
		c.charge(AxClientHandshake(pub.N.BitLen()))
	}
	body := append([]byte{byte(len(enc) >> 8), byte(len(enc))}, enc...)
	if err := c.sendHandshake(hsClientKeyX, body); err != nil {
		return err
	}
	seed := append(append([]byte(nil), c.clientRandom[:]...), c.serverRandom[:]...)
	c.master = prf12(pre, "master secret", seed, 48)
	c.keys()
	if err := c.writeRecord(recCCS, []byte{1}); err != nil {
		return err
	}
	c.wOn = true
	if err := c.sendHandshake(hsFinished, c.finishedMAC("client finished")); err != nil {
		return err
	}
	c.state = axWaitCCS
	return nil
}

// rsaEncrypt is PKCS #1 v1.5 type 2 padding with nonzero bytes from the
// seeded source, then the public-key operation (crypto/rsa would draw the
// padding from the system's random source whatever it is passed).
func (c *axClient) rsaEncrypt(pub *rsa.PublicKey, msg []byte) ([]byte, error) {
	k := pub.Size()
	if len(msg) > k-11 {
		return nil, errors.New("axtls: RSA key too small")
	}
	em := make([]byte, k)
	em[1] = 2
	ps := em[2 : k-len(msg)-1]
	c.random(ps)
	one := []byte{0}
	for i := range ps {
		for ps[i] == 0 {
			c.random(one)
			ps[i] = one[0]
		}
	}
	copy(em[k-len(msg):], msg)
	m := new(big.Int).SetBytes(em)
	out := m.Exp(m, big.NewInt(int64(pub.E)), pub.N).Bytes()
	res := make([]byte, k)
	copy(res[k-len(out):], out)
	return res, nil
}

func (c *axClient) macSize() int {
	if c.suite == 0x002f || c.suite == 0x0035 {
		return sha1.Size
	}
	return sha256.Size
}

func (c *axClient) keys() {
	keyLen := 16
	if c.suite == 0x0035 || c.suite == 0x003d {
		keyLen = 32
	}
	macLen := c.macSize()
	c.macNew = sha256.New
	if macLen == sha1.Size {
		c.macNew = sha1.New
	}
	seed := append(append([]byte(nil), c.serverRandom[:]...), c.clientRandom[:]...)
	kb := prf12(c.master, "key expansion", seed, 2*macLen+2*keyLen)
	c.wMAC, kb = kb[:macLen], kb[macLen:]
	c.rMAC, kb = kb[:macLen], kb[macLen:]
	wk, kb := kb[:keyLen], kb[keyLen:]
	rk := kb[:keyLen]
	c.wBlock, _ = aes.NewCipher(wk)
	c.rBlock, _ = aes.NewCipher(rk)
}

func (c *axClient) finishedMAC(label string) []byte {
	if c.master == nil {
		return nil
	}
	h := sha256.Sum256(c.transcript)
	return prf12(c.master, label, h[:], 12)
}

// prf12 is TLS 1.2's PRF with SHA-256 (RFC 5246 section 5).
func prf12(secret []byte, label string, seed []byte, n int) []byte {
	s := append([]byte(label), seed...)
	out := make([]byte, 0, n+sha256.Size)
	mac := hmac.New(sha256.New, secret)
	mac.Write(s)
	a := mac.Sum(nil)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(s)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
	}
	return out[:n]
}

func (c *axClient) recordMAC(key []byte, seq uint64, typ byte, data []byte) []byte {
	m := hmac.New(c.macNew, key)
	var hdr [13]byte
	binary.BigEndian.PutUint64(hdr[:8], seq)
	hdr[8], hdr[9], hdr[10] = typ, 3, 3
	binary.BigEndian.PutUint16(hdr[11:], uint16(len(data)))
	m.Write(hdr[:])
	m.Write(data)
	return m.Sum(nil)
}

// writeRecord sends one record, encrypted once ChangeCipherSpec was sent:
// a fresh IV from the seeded source, the data, its HMAC, then padding.
func (c *axClient) writeRecord(typ byte, data []byte) error {
	payload := data
	if c.wOn {
		mac := c.recordMAC(c.wMAC, c.wSeq, typ, data)
		c.wSeq++
		body := append(append([]byte(nil), data...), mac...)
		pad := 16 - len(body)%16
		for range pad {
			body = append(body, byte(pad-1))
		}
		iv := make([]byte, 16)
		c.random(iv)
		cipher.NewCBCEncrypter(c.wBlock, iv).CryptBlocks(body, body)
		payload = append(iv, body...)
	}
	rec := append([]byte{typ, 3, 3, byte(len(payload) >> 8), byte(len(payload))}, payload...)
	for len(rec) > 0 {
		n, err := c.rw.Write(rec)
		if err != nil {
			return err
		}
		rec = rec[n:]
	}
	return nil
}

// readRecord returns the next whole record, decrypted. It keeps partial
// input across an EAGAIN.
func (c *axClient) readRecord() (byte, []byte, error) {
	for {
		if len(c.in) >= 5 {
			n := int(c.in[3])<<8 | int(c.in[4])
			if c.in[0]&0x80 != 0 && c.in[2] == 1 {
				return 0, nil, axErr(axNotSupported)
			}
			if n > axMaxRecord {
				return 0, nil, &AxError{Code: axRecordOverflow, Record: n}
			}
			if len(c.in) >= 5+n {
				typ := c.in[0]
				body := append([]byte(nil), c.in[5:5+n]...)
				c.in = c.in[5+n:]
				if c.rOn && typ != recCCS {
					var err error
					if body, err = c.decrypt(typ, body); err != nil {
						return 0, nil, err
					}
				}
				return typ, body, nil
			}
		}
		buf := make([]byte, 2048)
		n, err := c.rw.Read(buf)
		c.in = append(c.in, buf[:n]...)
		if n == 0 && err != nil {
			if _, again := err.(errAgain); again {
				return 0, nil, err
			}
			// basic_read: any failed or empty socket read but EAGAIN is
			// CONN_LOST, and the connection stays dead.
			return 0, nil, axErr(axConnLost)
		}
	}
}

func (c *axClient) decrypt(typ byte, body []byte) ([]byte, error) {
	ms := c.macSize()
	if len(body) < 16+ms+1 || len(body)%16 != 0 {
		return nil, axErr(axInvalidHMAC)
	}
	iv, ct := body[:16], body[16:]
	cipher.NewCBCDecrypter(c.rBlock, iv).CryptBlocks(ct, ct)
	pad := int(ct[len(ct)-1]) + 1
	if pad+ms > len(ct) {
		return nil, axErr(axInvalidHMAC)
	}
	data := ct[:len(ct)-pad-ms]
	mac := ct[len(ct)-pad-ms : len(ct)-pad]
	if !hmac.Equal(mac, c.recordMAC(c.rMAC, c.rSeq, typ, data)) {
		return nil, axErr(axInvalidHMAC)
	}
	c.rSeq++
	return data, nil
}

// alert handles an alert record: close_notify is the end of the stream,
// anything else fails with minus the alert number (as axTLS reports it).
func (c *axClient) alert(body []byte) error {
	if len(body) != 2 {
		return axErr(axInvalidProtMsg)
	}
	if body[1] == 0 {
		return axErr(axCloseNotify)
	}
	return &AxError{Code: -int(body[1])}
}

// Read returns application data; (0, io.EOF) after close_notify or a lost
// connection (modtls_axtls reads both as EOF).
func (c *axClient) Read(p []byte) (int, error) {
	if len(c.plain) == 0 {
		if c.eof {
			return 0, io.EOF
		}
		if c.state != axConnected {
			if err := c.Handshake(); err != nil {
				return 0, c.readErr(err)
			}
		}
		for len(c.plain) == 0 {
			typ, body, err := c.readRecord()
			if err != nil {
				return 0, c.readErr(err)
			}
			switch typ {
			case recData:
				c.plain = body
			case recAlert:
				return 0, c.readErr(c.alert(body))
			case recHandshake:
				// HelloRequest: axTLS skeleton mode does not renegotiate.
			default:
				return 0, c.readErr(axErr(axInvalidProtMsg))
			}
		}
	}
	n := copy(p, c.plain)
	c.plain = c.plain[n:]
	return n, nil
}

func (c *axClient) readErr(err error) error {
	var ae *AxError
	if errors.As(err, &ae) && (ae.Code == axCloseNotify || ae.Code == axConnLost) {
		c.eof = true
		return io.EOF
	}
	return c.fail(err)
}

// Write sends p in records of at most 1024 plaintext bytes.
func (c *axClient) Write(p []byte) (int, error) {
	if c.failed != nil {
		return 0, c.failed
	}
	if c.state != axConnected {
		if err := c.Handshake(); err != nil {
			return 0, err
		}
	}
	done := 0
	for done < len(p) {
		n := min(len(p)-done, axMaxPlain)
		if err := c.writeRecord(recData, p[done:done+n]); err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

// Close sends close_notify once the handshake is done (ssl_free does).
func (c *axClient) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.state == axConnected && c.failed == nil {
		return c.writeRecord(recAlert, []byte{1, 0})
	}
	return nil
}

// PeerCertificates is the server's chain as sent.
func (c *axClient) PeerCertificates() []*x509.Certificate { return c.peerCerts }
