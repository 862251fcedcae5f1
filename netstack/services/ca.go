package services

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/detrsa"
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
		// No path-length limit: sites may ask for intermediate CAs.
		MaxPathLen: -1,
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
// addresses written as such. The first name is the common name. The key is
// ECDSA P-256; see IssueWith for RSA keys, self-signed certificates and
// longer chains.
func (ca *CA) Issue(names ...string) (tls.Certificate, error) {
	return ca.IssueWith(CertOptions{}, names...)
}

// KeyType is a certificate's key algorithm.
type KeyType string

const (
	// KeyECDSA is ECDSA P-256 (what ECDHE_ECDSA suites need).
	KeyECDSA KeyType = "ecdsa"
	// KeyRSA is RSA 2048 (what RSA key exchange, axTLS's only kind, needs).
	KeyRSA KeyType = "rsa"
)

// CertOptions shape an issued certificate.
type CertOptions struct {
	// Key is the leaf's key type; empty means ECDSA.
	Key KeyType
	// SelfSigned makes the leaf sign itself instead of the CA signing it
	// (clients that verify reject it; axTLS never checks).
	SelfSigned bool
	// Intermediates is how many intermediate CAs stand between the root
	// and the leaf; the chain sent is leaf, intermediates (nearest first),
	// root.
	Intermediates int
}

// maxIntermediates bounds CertOptions.Intermediates (real chains have one
// or two; a long one is for trying a client's limits).
const maxIntermediates = 8

// Validate reports options IssueWith cannot honour.
func (o CertOptions) Validate() error {
	switch o.Key {
	case "", KeyECDSA, KeyRSA:
	default:
		return fmt.Errorf("services: certificate key %q: use %q or %q", o.Key, KeyECDSA, KeyRSA)
	}
	if o.Intermediates < 0 || o.Intermediates > maxIntermediates {
		return fmt.Errorf("services: %d intermediate CAs: use 0 to %d", o.Intermediates, maxIntermediates)
	}
	if o.SelfSigned && o.Intermediates > 0 {
		return errors.New("services: a self-signed certificate has no intermediate CAs")
	}
	return nil
}

// leafKey derives the leaf's key for the first name.
func (ca *CA) leafKey(kt KeyType, name string) (crypto.Signer, error) {
	if kt == KeyRSA {
		label := fmt.Sprintf("%d/leaf-rsa/%s", ca.seed, name)
		k, err := detrsa.Cached(label, 2048, func() io.Reader { return simrand.Reader(ca.seed, "tls/leaf-rsa/"+name) })
		if err != nil {
			return nil, fmt.Errorf("services: RSA key for %s: %w", name, err)
		}
		return k, nil
	}
	return deriveKey(ca.seed, "leaf/"+name)
}

func (ca *CA) nextSerial() int64 {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ca.serial++
	return ca.serial
}

// IssueWith returns a certificate for names shaped by o. Everything is
// derived from the CA's seed: the same seed and calls give the same bytes.
func (ca *CA) IssueWith(o CertOptions, names ...string) (tls.Certificate, error) {
	if len(names) == 0 {
		return tls.Certificate{}, fmt.Errorf("services: a certificate needs at least one name")
	}
	if err := o.Validate(); err != nil {
		return tls.Certificate{}, err
	}
	key, err := ca.leafKey(o.Key, names[0])
	if err != nil {
		return tls.Certificate{}, err
	}
	// The chain above the leaf: signer is who signs the next certificate
	// down; chain collects the intermediates nearest the leaf first.
	signerCert, signerKey := ca.cert, crypto.Signer(ca.key)
	var chain [][]byte
	for i := range o.Intermediates {
		ik, err := deriveKey(ca.seed, fmt.Sprintf("intermediate/%s/%d", names[0], i))
		if err != nil {
			return tls.Certificate{}, err
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(ca.nextSerial()),
			Subject:               pkix.Name{CommonName: fmt.Sprintf("esp8266sim Intermediate CA %d", i+1), Organization: []string{"esp8266sim"}},
			NotBefore:             ca.start.AddDate(-1, 0, 0),
			NotAfter:              ca.start.AddDate(5, 0, 0),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		der, err := x509.CreateCertificate(nil, tmpl, signerCert, ik.Public(), signerKey)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("services: intermediate CA %d: %w", i+1, err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return tls.Certificate{}, err
		}
		chain = append([][]byte{der}, chain...)
		signerCert, signerKey = c, ik
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.nextSerial()),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    ca.start.AddDate(0, 0, -1),
		NotAfter:     ca.start.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if o.Key == KeyRSA {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	parent := signerCert
	if o.SelfSigned {
		parent, signerKey = tmpl, key
		chain = nil
	}
	der, err := x509.CreateCertificate(nil, tmpl, parent, key.Public(), signerKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("services: issue certificate for %v: %w", names, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	certs := [][]byte{der}
	if !o.SelfSigned {
		certs = append(append(certs, chain...), ca.certDER)
	}
	return tls.Certificate{Certificate: certs, PrivateKey: key, Leaf: leaf}, nil
}
