package sockets

import (
	"testing"
	"time"
)

// FuzzTLSMaterial feeds certificate and key bytes a script passes to
// load_cert_chain / load_verify_locations: never a panic, only errors.
func FuzzTLSMaterial(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00}, []byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, cert, key []byte) {
		if _, err := parseKeyPair(cert, key); err == nil {
			return
		}
		certs, err := parseCerts(cert)
		if err == nil && len(certs) > 0 {
			raw := [][]byte{certs[0].Raw}
			_ = verifyChain(raw, nil, "example.com", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		}
	})
}

// FuzzParseAddr feeds the (host, port) a script passes to bind, connect and
// sendto.
func FuzzParseAddr(f *testing.F) {
	f.Add("10.0.0.1", 80)
	f.Add("", 0)
	f.Add("999.1.1.1", 65536)
	f.Add("::1", -1)
	f.Fuzz(func(t *testing.T, host string, port int) {
		fa, err := parseAddr(host, port)
		if err != nil {
			if Errno(err) != 0 {
				t.Fatalf("parseAddr(%q, %d) = %v, want a ValueError", host, port, err)
			}
			return
		}
		if int(fa.Port) != port {
			t.Fatalf("parseAddr(%q, %d) port = %d", host, port, fa.Port)
		}
	})
}
