package netstack

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Distribution is the shape of the jitter added to a link's latency.
type Distribution int

const (
	// Uniform jitter is spread evenly over [latency-jitter, latency+jitter].
	Uniform Distribution = iota
	// Normal jitter is Gaussian around the latency with standard deviation
	// jitter.
	Normal
	// Pareto jitter has a heavy tail: mostly close to the latency, sometimes
	// far above it (shape 3, scaled so its spread is about jitter).
	Pareto
)

func (d Distribution) String() string {
	switch d {
	case Uniform:
		return "uniform"
	case Normal:
		return "normal"
	case Pareto:
		return "pareto"
	}
	return fmt.Sprintf("Distribution(%d)", int(d))
}

// ParseDistribution maps "uniform", "normal" and "pareto" (or "") to a
// Distribution.
func ParseDistribution(s string) (Distribution, error) {
	switch s {
	case "", "uniform":
		return Uniform, nil
	case "normal":
		return Normal, nil
	case "pareto":
		return Pareto, nil
	}
	return 0, fmt.Errorf("unknown jitter distribution %q: use uniform, normal or pareto", s)
}

// GilbertElliott is a two-state bursty loss model. The link is in a good or a
// bad state; before each frame it moves good→bad with probability P and
// bad→good with probability R; a frame is lost with probability GoodLoss in
// the good state and BadLoss in the bad state. In the classic notation
// 1-k = GoodLoss and 1-h = BadLoss. All values are percentages (0–100).
// The model is off while P is zero.
type GilbertElliott struct {
	// P is the chance (%) per frame of moving from the good to the bad state.
	P float64
	// R is the chance (%) per frame of moving from the bad to the good state.
	R float64
	// BadLoss is the loss (%) in the bad state (1-h); zero means 100, as in
	// Linux netem.
	BadLoss float64
	// GoodLoss is the loss (%) in the good state (1-k); usually zero.
	GoodLoss float64
}

// Impairments describe one direction of a link. The zero value is a perfect
// link. Percentages are 0–100.
type Impairments struct {
	// Latency is added to every frame.
	Latency time.Duration
	// Jitter varies the latency according to Distribution. Frames keep their
	// order unless Reorder asks otherwise.
	Jitter time.Duration
	// Distribution is the jitter's shape.
	Distribution Distribution
	// Loss is the chance (%) that a frame is dropped at random.
	Loss float64
	// Burst, when Burst.P > 0, drops frames in bursts (Gilbert-Elliott), in
	// addition to Loss.
	Burst GilbertElliott
	// Duplicate is the chance (%) that a frame is delivered twice.
	Duplicate float64
	// Reorder is the chance (%) that a frame is delivered without Latency
	// and Jitter, overtaking frames sent before it that are still in
	// flight (Linux netem's reorder; without latency nothing is reordered).
	Reorder float64
	// Corrupt is the chance (%) that one bit of a frame's payload (after the
	// Ethernet header) is flipped, so IP/TCP/UDP checksums fail.
	Corrupt float64
	// Bandwidth limits the link in bits per second (serialization delay);
	// zero means unlimited.
	Bandwidth int64
	// QueueLimit is how many frames may wait for a Bandwidth-limited link;
	// more are dropped. Zero means 100.
	QueueLimit int
	// MTU is the largest IP packet the link carries; zero means no limit.
	// The egress MTU is the node's interface MTU (its stack sends nothing
	// larger: TCP advertises and uses an MSS that fits, a router sends ICMP
	// fragmentation-needed for a DF packet it cannot forward through it and
	// fragments others); a larger frame arriving on an ingress link is
	// dropped, as a NIC drops an oversize frame ("DROP (mtu)").
	MTU int
}

// DefaultQueueLimit is the queue of a bandwidth-limited link when
// Impairments.QueueLimit is zero.
const DefaultQueueLimit = 100

// Validate reports every impossible value, naming the field.
func (imp Impairments) Validate() error {
	var errs []error
	pct := func(name string, v float64) {
		if math.IsNaN(v) || v < 0 || v > 100 {
			errs = append(errs, fmt.Errorf("%s = %v%%: must be between 0 and 100", name, v))
		}
	}
	dur := func(name string, v time.Duration) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s = %v: must not be negative", name, v))
		}
	}
	dur("latency", imp.Latency)
	dur("jitter", imp.Jitter)
	if imp.Distribution < Uniform || imp.Distribution > Pareto {
		errs = append(errs, fmt.Errorf("distribution = %d: use uniform, normal or pareto", int(imp.Distribution)))
	}
	pct("loss", imp.Loss)
	pct("burst.p", imp.Burst.P)
	pct("burst.r", imp.Burst.R)
	pct("burst.bad_loss", imp.Burst.BadLoss)
	pct("burst.good_loss", imp.Burst.GoodLoss)
	if imp.Burst.P > 0 && imp.Burst.R == 0 {
		errs = append(errs, fmt.Errorf("burst.r = 0%% with burst.p = %v%%: the link would stay in the bad state forever; set burst.r", imp.Burst.P))
	}
	pct("duplicate", imp.Duplicate)
	pct("reorder", imp.Reorder)
	pct("corrupt", imp.Corrupt)
	if imp.Bandwidth < 0 {
		errs = append(errs, fmt.Errorf("bandwidth = %d bit/s: must not be negative", imp.Bandwidth))
	}
	if imp.QueueLimit < 0 {
		errs = append(errs, fmt.Errorf("queue_limit = %d: must not be negative", imp.QueueLimit))
	}
	if imp.MTU < 0 || (imp.MTU > 0 && imp.MTU < 68) {
		errs = append(errs, fmt.Errorf("mtu = %d: must be 0 (no limit) or at least 68", imp.MTU))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid impairments: %w", errors.Join(errs...))
	}
	return nil
}

// jitterSample draws a latency for one frame; never negative.
func (imp *Impairments) delay(r *rand.Rand) time.Duration {
	d := imp.Latency
	if imp.Jitter > 0 {
		j := float64(imp.Jitter)
		var off float64
		switch imp.Distribution {
		case Normal:
			off = r.NormFloat64() * j
		case Pareto:
			// Pareto(xm=1, alpha=3): mean 1.5, heavy right tail.
			x := math.Pow(1-r.Float64(), -1.0/3)
			off = (x - 1.5) * j * 2
		default:
			off = (2*r.Float64() - 1) * j
		}
		d += time.Duration(off)
	}
	if d < 0 {
		d = 0
	}
	return d
}

// chance reports true with probability pct percent; it draws a number only
// when pct is not 0 or 100, so a perfect link consumes no randomness.
func chance(r *rand.Rand, pct float64) bool {
	if pct <= 0 {
		return false
	}
	if pct >= 100 {
		return true
	}
	return r.Float64()*100 < pct
}
