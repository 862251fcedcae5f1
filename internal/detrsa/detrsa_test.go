package detrsa

import (
	"bytes"
	"crypto"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func stream(seed byte) seeded { return seeded{rand.NewChaCha8([32]byte{seed})} }

func TestSameStreamSameKey(t *testing.T) {
	a, err := GenerateKey(stream(1), 1024)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateKey(stream(1), 1024)
	c, _ := GenerateKey(stream(2), 1024)
	if a.N.Cmp(b.N) != 0 {
		t.Fatal("same stream gave different keys")
	}
	if a.N.Cmp(c.N) == 0 {
		t.Fatal("different streams gave the same key")
	}
	if a.N.BitLen() != 1024 {
		t.Fatalf("modulus has %d bits, want 1024", a.N.BitLen())
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("x"))
	sig, err := rsa.SignPKCS1v15(crand.Reader, a, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(&a.PublicKey, crypto.SHA256, h[:], sig); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(sig, nil) {
		t.Fatal("empty signature")
	}
}
