// Package simrand hands out deterministic random streams derived from a
// world's seed. Each component asks for its own stream by name, so adding a
// component (or a board) never changes the numbers another one sees: a loss
// pattern recorded with seed 7 stays the same when the scenario grows.
package simrand

import (
	"encoding/binary"
	"hash/fnv"
	mathrand "math/rand"
	"math/rand/v2"
	"sync"
)

// New returns a stream for the component called name in a world seeded with
// seed. The same (seed, name) always yields the same sequence. The result is
// not safe for concurrent use; give each goroutine its own stream.
func New(seed uint64, name string) *rand.Rand {
	return rand.New(rand.NewPCG(seed, nameHash(name)))
}

// Uint64 derives a single number from (seed, name); handy for per-board values
// such as a MAC address suffix.
func Uint64(seed uint64, name string) uint64 {
	return New(seed, name).Uint64()
}

func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// Source adapts a named stream to math/rand.Source, the type gVisor's
// stack.Options.RandSource takes. gVisor calls it from many goroutines, so it
// is locked.
func Source(seed uint64, name string) mathrand.Source {
	return &lockedSource{r: New(seed, name)}
}

type lockedSource struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (s *lockedSource) Int63() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Int64() & (1<<63 - 1)
}

func (s *lockedSource) Seed(seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	s.r = rand.New(rand.NewPCG(uint64(seed), nameHash(string(b[:]))))
}

// Reader is a deterministic io.Reader for gVisor's stack.Options.SecureRNG
// (ISNs, ephemeral ports): reproducible runs need these fixed by the seed too.
// It is not cryptographically secure and never meant to be.
func Reader(seed uint64, name string) *LockedReader {
	return &LockedReader{r: New(seed, name)}
}

// LockedReader fills buffers from a seeded stream; safe for concurrent use.
type LockedReader struct {
	mu sync.Mutex
	r  *rand.Rand
}

// Read implements io.Reader; it never fails.
func (l *LockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := 0; i < len(p); i += 8 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], l.r.Uint64())
		copy(p[i:], b[:])
	}
	return len(p), nil
}
