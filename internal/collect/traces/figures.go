package traces

import (
	"math"
	"slices"
	"time"
)

// slots is how many time slots a relation's figures are kept in: the
// window in twelfths, so that a call leaves the figures at most a twelfth
// of the window after it left the window.
const slots = 12

// Latency histogram: bucket 0 holds latencies up to histBase, bucket i
// those up to histBase·√2^i, the last everything above: 50 µs to 14
// minutes, each estimate within 19% of the truth.
const (
	histBuckets = 48
	histBase    = 50 * time.Microsecond
)

// maxOperations bounds the operations a relation remembers.
const maxOperations = 16

// slot holds the calls of one slot of the window.
type slot struct {
	epoch         int64 // the slot's start, in slot lengths since the Unix epoch
	calls, errors uint64
	sum, max      time.Duration
	hist          [histBuckets]uint32
}

// relation is what the calls from one component to another add up to.
type relation struct {
	system      string
	operations  []string
	first, last time.Time
	slots       [slots]slot
}

// add counts one call ending at t.
func (r *relation) add(t time.Time, epoch int64, d time.Duration, failed bool, system, op string) {
	s := &r.slots[epoch%slots]
	if s.epoch != epoch {
		*s = slot{epoch: epoch}
	}
	s.calls++
	if failed {
		s.errors++
	}
	s.sum += d
	s.max = max(s.max, d)
	s.hist[bucketOf(d)]++
	if r.first.IsZero() || t.Before(r.first) {
		r.first = t
	}
	if t.After(r.last) {
		r.last = t
	}
	if r.system == "" {
		r.system = system
	}
	if op != "" && len(r.operations) < maxOperations && !slices.Contains(r.operations, op) {
		r.operations = append(r.operations, op)
		slices.Sort(r.operations)
	}
}

// bucketOf is the histogram bucket of a latency.
func bucketOf(d time.Duration) int {
	if d <= histBase {
		return 0
	}
	b := int(math.Ceil(2 * math.Log2(float64(d)/float64(histBase))))
	return min(b, histBuckets-1)
}

// bucketTop is the largest latency bucket b holds.
func bucketTop(b int) time.Duration {
	return time.Duration(float64(histBase) * math.Pow(math.Sqrt2, float64(b)))
}

// Figures are the calls of one relation within the window.
type Figures struct {
	Calls  uint64 `json:"calls"`
	Errors uint64 `json:"errors"`
	// Latency figures are in milliseconds; P50 and P99 are estimates
	// (within 19%), never above Max.
	LatencyAvg float64   `json:"latency_avg_ms"`
	LatencyMax float64   `json:"latency_max_ms"`
	LatencyP50 float64   `json:"latency_p50_ms"`
	LatencyP99 float64   `json:"latency_p99_ms"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

// figures adds up the slots from epoch `from` on.
func (r *relation) figures(from int64) Figures {
	var f Figures
	var sum, mx time.Duration
	var hist [histBuckets]uint64
	for i := range r.slots {
		s := &r.slots[i]
		if s.epoch < from || s.calls == 0 {
			continue
		}
		f.Calls += s.calls
		f.Errors += s.errors
		sum += s.sum
		mx = max(mx, s.max)
		for b, n := range s.hist {
			hist[b] += uint64(n)
		}
	}
	f.FirstSeen, f.LastSeen = r.first.UTC(), r.last.UTC()
	if f.Calls == 0 {
		return f
	}
	f.LatencyAvg = ms(sum / time.Duration(f.Calls))
	f.LatencyMax = ms(mx)
	f.LatencyP50 = ms(min(quantile(&hist, f.Calls, 0.50), mx))
	f.LatencyP99 = ms(min(quantile(&hist, f.Calls, 0.99), mx))
	return f
}

// quantile is the middle (geometric) of the bucket holding the q-quantile
// of n calls.
func quantile(hist *[histBuckets]uint64, n uint64, q float64) time.Duration {
	rank := uint64(math.Ceil(q * float64(n)))
	var seen uint64
	for b, c := range hist {
		seen += c
		if seen >= rank {
			return middle(b)
		}
	}
	return middle(histBuckets - 1)
}

// middle is the geometric middle of bucket b.
func middle(b int) time.Duration {
	return time.Duration(float64(bucketTop(b)) / math.Sqrt(math.Sqrt2))
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
