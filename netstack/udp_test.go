package netstack

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// udpRun sends n numbered datagrams from a to b, ten per millisecond, with
// imp on b's ingress link after an unimpaired warm-up, and returns which
// arrived (by number) and how many duplicates arrived.
func udpRun(t *testing.T, seed uint64, n int, imp Impairments) (got []bool, order []int) {
	t.Helper()
	w := newWorld(t, vclock.Fast, seed)
	a, _ := w.node("a", 1, seed, Impairments{})
	b, bnic := w.node("b", 2, seed, Impairments{})
	rx := w.sockets(b, "rx")
	tx := w.sockets(a, "tx")
	rc, err := rx.ListenUDP(addr(2, 9))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	sc, err := tx.ListenUDP(addr(1, 9))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()

	// Warm up ARP on a perfect link.
	buf := make([]byte, 64)
	if _, err := sc.WriteTo([]byte{0xff, 0xff, 0xff, 0xff}, addr(2, 9)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rc.ReadFrom(buf, time.Second); err != nil {
		t.Fatalf("warm-up datagram: %v", err)
	}
	if err := bnic.Attachment().SetDirectionImpairments(Ingress, imp); err != nil {
		t.Fatal(err)
	}

	got = make([]bool, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer rx.Actor.Close()
		for {
			m, _, err := rc.ReadFrom(buf, 2*time.Second)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
			if err != nil {
				t.Errorf("ReadFrom: %v", err)
				return
			}
			if m == 4 {
				i := int(binary.BigEndian.Uint32(buf))
				if i < n {
					got[i] = true
					order = append(order, i)
				}
			}
		}
	}()
	for i := 0; i < n; i++ {
		var p [4]byte
		binary.BigEndian.PutUint32(p[:], uint32(i))
		if _, err := sc.WriteTo(p[:], addr(2, 9)); err != nil {
			t.Fatalf("WriteTo #%d: %v", i, err)
		}
		if i%10 == 9 {
			if err := Sleep(w.ctx, tx.Actor, time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
	}
	tx.Actor.Close()
	<-done
	_, in := bnic.Attachment().Stats()
	t.Logf("seed %d: sent %d, ingress of b %+v, received %d, simulated time %v", seed, n, in, len(order), w.clock.Elapsed())
	return got, order
}

func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

func TestUDPLossRateWithinBounds(t *testing.T) {
	const n = 3000
	for _, loss := range []float64{0, 10, 30} {
		got, _ := udpRun(t, 7, n, Impairments{Loss: loss})
		p := loss / 100
		want := float64(n) * (1 - p)
		sd := math.Sqrt(float64(n) * p * (1 - p))
		if d := math.Abs(float64(count(got)) - want); d > 4*sd+0.5 {
			t.Errorf("loss %v%%: %d of %d datagrams arrived, want %.0f ± %.0f (4σ)", loss, count(got), n, want, 4*sd)
		}
	}
}

func TestSameSeedSameLossPattern(t *testing.T) {
	const n = 500
	imp := Impairments{Loss: 20, Burst: GilbertElliott{P: 2, R: 30}}
	first, _ := udpRun(t, 42, n, imp)
	second, _ := udpRun(t, 42, n, imp)
	for i := range first {
		if first[i] != second[i] {
			t.Fatalf("datagram %d: arrived=%v in the first run, %v in the second with the same seed", i, first[i], second[i])
		}
	}
	other, _ := udpRun(t, 43, n, imp)
	same := true
	for i := range first {
		if first[i] != other[i] {
			same = false
		}
	}
	if same {
		t.Error("seeds 42 and 43 produced the same loss pattern; the seed is not used")
	}
}

func TestBurstLossComesInBursts(t *testing.T) {
	const n = 4000
	// Good→bad 1 %, bad→good 25 %: mean burst length 4, mean loss ≈ 3.8 %.
	got, _ := udpRun(t, 5, n, Impairments{Burst: GilbertElliott{P: 1, R: 25}})
	lost, bursts := 0, 0
	for i, ok := range got {
		if !ok {
			lost++
			if i == 0 || got[i-1] {
				bursts++
			}
		}
	}
	if bursts == 0 {
		t.Fatal("no loss at all with a Gilbert-Elliott model")
	}
	mean := float64(lost) / float64(bursts)
	if mean < 2.5 || mean > 6 {
		t.Errorf("mean burst length %.2f (%d lost in %d bursts), want about 4", mean, lost, bursts)
	}
}

func TestJitterKeepsOrderUnlessReorderAsked(t *testing.T) {
	const n = 400
	for _, dist := range []Distribution{Uniform, Normal, Pareto} {
		_, order := udpRun(t, 3, n, Impairments{Latency: 20 * time.Millisecond, Jitter: 15 * time.Millisecond, Distribution: dist})
		if len(order) != n {
			t.Errorf("%v jitter: %d of %d datagrams arrived on a lossless link", dist, len(order), n)
		}
		for i := 1; i < len(order); i++ {
			if order[i] < order[i-1] {
				t.Errorf("%v jitter reordered datagrams: %d arrived after %d", dist, order[i], order[i-1])
				break
			}
		}
	}
	_, order := udpRun(t, 3, n, Impairments{Latency: 5 * time.Millisecond, Reorder: 20})
	inversions := 0
	for i := 1; i < len(order); i++ {
		if order[i] < order[i-1] {
			inversions++
		}
	}
	if inversions == 0 {
		t.Error("reorder 20% delivered everything in order")
	}
}

func TestDuplicateDeliversTwice(t *testing.T) {
	const n = 1000
	_, order := udpRun(t, 11, n, Impairments{Duplicate: 10})
	extra := len(order) - n
	if extra < 50 || extra > 160 {
		t.Errorf("duplicate 10%%: %d extra datagrams out of %d, want about 100", extra, n)
	}
}
