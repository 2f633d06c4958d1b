package ui

import (
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// DefaultHistoryWindow is how much block time a node's history covers.
const DefaultHistoryWindow = 10 * time.Minute

// History is a bounded ring of per-second samples of block time: blocks,
// their intervals, and per rollup the txs executed, the data bytes ordered
// and the settlement lag. The node feeds it as blocks commit and rollup
// blocks execute; it keeps the samples of the last window of block time.
// It is safe for concurrent use.
type History struct {
	mu      sync.Mutex
	window  int64 // seconds
	samples []*weftv1.StatusSample
}

// NewHistory keeps window of block time (DefaultHistoryWindow when 0).
func NewHistory(window time.Duration) *History {
	if window <= 0 {
		window = DefaultHistoryWindow
	}
	return &History{window: max(int64(window/time.Second), 1)}
}

// Block is one committed Weft block as History takes it.
type Block struct {
	Height int64
	Time   time.Time
	// Interval is the block's time since the previous block (0: unknown).
	Interval time.Duration
	Rollups  []RollupBlock
}

// RollupBlock is one rollup's part of a Block: the data bytes of its items
// and its settlement lag after the block (negative: not settled here).
type RollupBlock struct {
	Name  string
	Bytes uint64
	Lag   time.Duration
}

// AddBlock records a committed block in the sample of its second.
func (h *History) AddBlock(b Block) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sample(b.Time.Unix())
	if s == nil {
		return
	}
	s.Blocks++
	s.Height = max(s.Height, b.Height)
	s.IntervalNanosSum += int64(b.Interval)
	for _, r := range b.Rollups {
		rs := rollupSample(s, r.Name)
		rs.Bytes += r.Bytes
		rs.SettlementLagNanos = int64(r.Lag)
		if r.Lag < 0 {
			rs.SettlementLagNanos = -1
		}
	}
}

// AddTxs records txs a rollup executed in a block of time t.
func (h *History) AddTxs(rollup string, t time.Time, txs uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.sample(t.Unix()); s != nil {
		rollupSample(s, rollup).Txs += txs
	}
}

// Samples returns a copy of the samples, oldest first.
func (h *History) Samples() []*weftv1.StatusSample {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*weftv1.StatusSample, len(h.samples))
	for i, s := range h.samples {
		out[i] = proto.Clone(s).(*weftv1.StatusSample)
	}
	return out
}

// sample returns the sample of second t, adding it (and dropping those
// older than the window) if there is none; nil when t is already older
// than the window.
func (h *History) sample(t int64) *weftv1.StatusSample {
	n := len(h.samples)
	if n > 0 && h.samples[n-1].TimeUnix == t {
		return h.samples[n-1]
	}
	i := sort.Search(n, func(i int) bool { return h.samples[i].TimeUnix >= t })
	if i < n && h.samples[i].TimeUnix == t {
		return h.samples[i]
	}
	newest := t
	if n > 0 {
		newest = max(newest, h.samples[n-1].TimeUnix)
	}
	if t <= newest-h.window {
		return nil
	}
	s := &weftv1.StatusSample{TimeUnix: t}
	h.samples = append(h.samples, nil)
	copy(h.samples[i+1:], h.samples[i:])
	h.samples[i] = s
	drop := 0
	for drop < len(h.samples) && h.samples[drop].TimeUnix <= newest-h.window {
		drop++
	}
	if drop > 0 {
		h.samples = append(h.samples[:0], h.samples[drop:]...)
	}
	return s
}

func rollupSample(s *weftv1.StatusSample, name string) *weftv1.RollupSample {
	for _, r := range s.Rollups {
		if r.Name == name {
			return r
		}
	}
	r := &weftv1.RollupSample{Name: name, SettlementLagNanos: -1}
	s.Rollups = append(s.Rollups, r)
	return r
}
