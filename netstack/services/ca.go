package services

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
)

// CA is a world's certificate authority. Its keys (ECDSA P-256, what most
// TLS clients accept) are derived from the world's seed and every signature
// is RFC 6979 deterministic, so the same seed gives byte-identical PEM. (Go
// 1.26 ignores custom random sources in key generation, so the scalar is
// drawn from the seeded stream and loaded with ecdsa.ParseRawPrivateKey.)
type CA struct {
	cert    *x509.Certificate
	certDER []byte
	key     *detSigner
	seed    uint64
	start   time.Time

	mu     sync.Mutex
	serial int64
}

// NewCA makes the CA for a world: seed fixes the keys, start (the world's
// start time) the validity (from a year before to ten years after).
func NewCA(seed uint64, start time.Time) (*CA, error) {
	key, err := deriveKey(seed, "ca")
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "esp8266sim Root CA", Organization: []string{"esp8266sim"}},
		NotBefore:             start.AddDate(-1, 0, 0),
		NotAfter:              start.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("services: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("services: parse CA certificate: %w", err)
	}
	return &CA{cert: cert, certDER: der, key: key, seed: seed, start: start, serial: 1}, nil
}

// detSigner signs with RFC 6979 deterministic ECDSA whatever random source
// it is handed (x509 and crypto/tls pass one).
type detSigner struct{ *ecdsa.PrivateKey }

func (d *detSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return d.PrivateKey.Sign(nil, digest, opts)
}

// deriveKey draws a P-256 private key from the seeded stream called name.
func deriveKey(seed uint64, name string) (*detSigner, error) {
	r := simrand.Reader(seed, "tls/"+name)
	b := make([]byte, 32)
	for range 64 {
		r.Read(b)
		if k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b); err == nil {
			return &detSigner{k}, nil
		}
	}
	return nil, fmt.Errorf("services: cannot derive a P-256 key for %s", name)
}

// PEM is the CA certificate in PEM, for boards to verify against.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.certDER})
}

// DER is the CA certificate in DER.
func (ca *CA) DER() []byte { return append([]byte(nil), ca.certDER...) }

// Pool is a cert pool holding the CA, for Go clients.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// Issue returns a server certificate (and key) for names: DNS names, or IP
// addresses written as such. The first name is the common name.
func (ca *CA) Issue(names ...string) (tls.Certificate, error) {
	if len(names) == 0 {
		return tls.Certificate{}, fmt.Errorf("services: a certificate needs at least one name")
	}
	ca.mu.Lock()
	ca.serial++
	serial := ca.serial
	ca.mu.Unlock()
	key, err := deriveKey(ca.seed, "leaf/"+names[0])
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    ca.start.AddDate(0, 0, -1),
		NotAfter:     ca.start.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(nil, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("services: issue certificate for %v: %w", names, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.certDER}, PrivateKey: key, Leaf: leaf}, nil
}
