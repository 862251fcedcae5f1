// Package detrsa derives RSA keys from a byte stream, so a seeded stream
// gives the same key every run. crypto/rsa.GenerateKey cannot: since Go
// 1.26 it ignores the random source it is passed.
package detrsa

import (
	"crypto/rsa"
	"errors"
	"io"
	"math/big"
	"sync"
)

// GenerateKey makes an RSA key of bits bits (e = 65537) from r: each prime
// is the first probable prime at or after a candidate read from r with its
// two top bits and its low bit set, so the product has exactly bits bits.
func GenerateKey(r io.Reader, bits int) (*rsa.PrivateKey, error) {
	if bits < 512 || bits%16 != 0 {
		return nil, errors.New("detrsa: key size must be a multiple of 16, at least 512")
	}
	e := big.NewInt(65537)
	one := big.NewInt(1)
	for {
		p, err := prime(r, bits/2, e)
		if err != nil {
			return nil, err
		}
		q, err := prime(r, bits/2, e)
		if err != nil {
			return nil, err
		}
		if p.Cmp(q) == 0 {
			continue
		}
		n := new(big.Int).Mul(p, q)
		if n.BitLen() != bits {
			continue
		}
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: []*big.Int{p, q}}
		k.Precompute()
		return k, nil
	}
}

func prime(r io.Reader, bits int, e *big.Int) (*big.Int, error) {
	b := make([]byte, bits/8)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	b[0] |= 0xc0
	b[len(b)-1] |= 1
	p := new(big.Int).SetBytes(b)
	two := big.NewInt(2)
	one := big.NewInt(1)
	g := new(big.Int)
	pm1 := new(big.Int)
	for {
		if p.BitLen() > bits {
			return nil, errors.New("detrsa: no prime found")
		}
		if p.ProbablyPrime(20) && g.GCD(nil, nil, e, pm1.Sub(p, one)).Cmp(one) == 0 {
			return p, nil
		}
		p.Add(p, two)
	}
}

var cache sync.Map // key string → *rsa.PrivateKey

// Cached is GenerateKey(newReader(), bits) memoised under name: a key takes
// tens of milliseconds to find and every world with one seed needs the
// same ones.
func Cached(name string, bits int, newReader func() io.Reader) (*rsa.PrivateKey, error) {
	if k, ok := cache.Load(name); ok {
		return k.(*rsa.PrivateKey), nil
	}
	k, err := GenerateKey(newReader(), bits)
	if err != nil {
		return nil, err
	}
	v, _ := cache.LoadOrStore(name, k)
	return v.(*rsa.PrivateKey), nil
}
