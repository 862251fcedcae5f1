package sockets

import (
	"crypto/rsa"
	"crypto/tls"
	"time"
)

// What a TLS handshake costs the ESP8266's CPU (axTLS at 80 MHz), charged
// to the board through Config.ChargeCPU so that an HTTPS request blocks as
// long as on the board. No published per-operation axTLS timings on the
// ESP8266 were found; the figures are derived from cycle counts
// (RATIONALE.md, "TLS handshakes cost axTLS time"):
//
//   - axTLS's bigint uses 32-bit components with 64-bit products; the
//     LX106 has no high-word multiply, so each multiply-accumulate of the
//     inner loop is a software 32×32→64 product plus loads, stores and
//     carry: about axCyclesPerMAC cycles.
//   - A modular multiplication of n-bit numbers (w = n/32 words) with
//     Barrett reduction (the port's CONFIG_BIGINT_BARRETT) is about 3·w²
//     multiply-accumulates: the product and reduction's two partial ones.
//   - The public operation (e = 65537) is 17 modular multiplications.
//   - The private operation uses CRT and a sliding window: two
//     exponentiations modulo n/2-bit primes, each about 1.17·n/2 modular
//     multiplications.
//   - Key derivation (the TLS 1.2 PRF over HMAC-SHA256 for the master
//     secret, key block and both Finished messages, and the transcript
//     hash) is some thirty HMACs of a few SHA-256 blocks each: axKDF.
//
// So a 2048-bit server key costs the client about 104 ms and a board
// serving TLS with a 2048-bit key about 3.7 s (1024-bit: 26 ms, 0.46 s).
const (
	axCyclesPerMAC = 40
	axHz           = 80_000_000
	axKDF          = 5 * time.Millisecond
)

// axModMul is the time of one modular multiplication of bits-bit numbers.
func axModMulCycles(bits int) float64 {
	w := float64(bits) / 32
	return 3 * w * w * axCyclesPerMAC
}

func cycles(c float64) time.Duration {
	return time.Duration(c / axHz * float64(time.Second))
}

// AxRSAPublic is what axTLS's RSA public operation (e = 65537) takes at
// 80 MHz for a key of bits bits.
func AxRSAPublic(bits int) time.Duration {
	return cycles(17 * axModMulCycles(bits))
}

// AxRSAPrivate is what axTLS's CRT private operation takes at 80 MHz.
func AxRSAPrivate(bits int) time.Duration {
	half := bits / 2
	return cycles(2 * 1.17 * float64(half) * axModMulCycles(half))
}

// AxClientHandshake is the CPU time of an axTLS client handshake with a
// server whose certificate has a bits-bit RSA key: the premaster secret's
// encryption and the key derivation.
func AxClientHandshake(bits int) time.Duration { return AxRSAPublic(bits) + axKDF }

// AxServerHandshake is the CPU time of an axTLS server handshake with a
// bits-bit key: decrypting the premaster secret and the key derivation.
func AxServerHandshake(bits int) time.Duration { return AxRSAPrivate(bits) + axKDF }

// charge passes d to Config.ChargeCPU when set.
func (t *Table) charge(d time.Duration) {
	if t.cfg.ChargeCPU != nil {
		t.cfg.ChargeCPU(d)
	}
}

// axServerConn is crypto/tls's server standing in for axTLS's: once its
// handshake has completed (inside the first Read or Write, as axTLS
// handshakes on first use) the board is charged the private-key work.
type axServerConn struct {
	*tls.Conn
	bits    int
	charged bool
	charge  func(time.Duration)
}

func (c *axServerConn) settle() {
	if !c.charged && c.ConnectionState().HandshakeComplete {
		c.charged = true
		c.charge(AxServerHandshake(c.bits))
	}
}

func (c *axServerConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.settle()
	return n, err
}

func (c *axServerConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.settle()
	return n, err
}

// rsaBits is the size of a certificate key pair's RSA key (0 if not RSA).
func rsaBits(kp *tls.Certificate) int {
	if k, ok := kp.PrivateKey.(*rsa.PrivateKey); ok {
		return k.N.BitLen()
	}
	return 0
}
