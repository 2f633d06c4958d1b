package mempool

import (
	"math/bits"
	"slices"
)

// Verdict is the block builder's answer for a tx Build offers it.
type Verdict int

const (
	// Include: the tx is in the block.
	Include Verdict = iota
	// Skip: the tx is not in the block (invalid on the block's state, or
	// too large for the space left); its sender's later txs are not
	// offered for this block.
	Skip
	// Stop: the block is full; Build returns.
	Stop
)

// maxFairRounds bounds the rounds that hand leftover space to rollups held
// back by their share before the last, unrestricted round.
const maxFairRounds = 4

// maxBudget keeps share arithmetic (budget × weight) inside int64.
const maxBudget = 1 << 40

// Build offers ready txs to take in block order until take returns Stop or
// nothing is left. maxBytes is the block's byte budget; the caller still
// enforces it exactly (take answers Skip or Stop), Build uses it to size
// the rollups' shares.
//
// Order: highest fee per byte first (earlier arrival on ties), each
// sender's txs in nonce order. Fairness: when two or more rollups have
// ready data, each may use at most its weighted share of maxBytes. Shares
// are filled like water: a rollup needing less than its share keeps only
// what it needs and the rest is split among the others by weight. A tx is
// charged to every rollup it carries data for and must fit all their
// shares (a bundle is offered whole, once). A tx over a share waits, with
// its sender's later txs; when a pass ends with space left, the space is
// shared again among the rollups that still wait, and a last pass without
// shares fills what remains so a block is never left empty while txs fit.
// Txs without rollup data are never held back.
//
// take runs with the pool in use: it must not call the Pool (or Mempool).
func (p *Pool) Build(maxBytes int64, take func(*Tx) Verdict) {
	p.build(maxBytes, func(e *entry, _ any) Verdict { return take(e.tx) })
}

// BuildPayloads is Build offering each tx's Payload instead of the Tx. The
// walk keeps payloads next to its order, so a builder that needs only its
// own decoded tx reads it without first reading the Tx (at tens of
// thousands of txs per block, each object read is a cache miss that
// counts).
func (p *Pool) BuildPayloads(maxBytes int64, take func(payload any) Verdict) {
	p.build(maxBytes, func(_ *entry, payload any) Verdict { return take(payload) })
}

func (p *Pool) build(maxBytes int64, take func(*entry, any) Verdict) {
	if len(p.heads) == 0 || maxBytes <= 0 {
		return
	}
	maxBytes = min(maxBytes, maxBudget)
	w := &walker{items: make([]walkItem, 0, 64)}
	w.push(headItem(p.heads[0], 0, 0))
	// Shares are of the space txs without rollup data leave: while they
	// are being taken (first pass), the shares follow.
	caps, waitingFor := p.initialCaps(maxBytes)
	var plain, sharedFor int64
	used := make([]int64, len(p.demand))
	var usedBytes int64
	var waiting []walkItem
	for round := 0; ; round++ {
		taken := 0
		for w.Len() > 0 {
			// The top item stays in place until it is decided: taking it
			// most often puts its account's next tx in its place (one sift
			// instead of a pop and a push).
			p.expandTop(w)
			it := w.items[0]
			e := it.e
			// The account's next tx, read now rather than after take: its
			// place in the queue is likely not in cache, and now the read
			// overlaps with those of e and of the payload (in take).
			var next walkItem
			if k := int(it.k) + 1; k < len(it.a.ready) {
				next = headItem(it.a, k, -1)
			}
			if caps != nil && len(e.slots) > 0 {
				if round == 0 && plain != sharedFor {
					p.waterFill(max(maxBytes-plain, 0), waitingFor, func(s int32) int64 { return p.demand[s] }, caps)
					sharedFor = plain
				}
				if !withinCaps(e, caps, used) {
					waiting = append(waiting, it)
					w.pop()
					continue
				}
			}
			switch take(e, it.payload) {
			case Stop:
				return
			case Skip:
				w.pop()
				continue
			}
			taken++
			usedBytes += e.size
			if len(e.slots) == 0 {
				plain += e.size
			}
			for i, s := range e.slots {
				used[s] += e.charges[i]
			}
			if next.a != nil {
				w.replaceTop(next)
			} else {
				w.pop()
			}
		}
		if len(waiting) == 0 || usedBytes >= maxBytes {
			return
		}
		if taken == 0 || round+1 >= maxFairRounds {
			caps = nil
		} else {
			p.reshare(caps, used, waiting, maxBytes-usedBytes)
		}
		for _, it := range waiting {
			w.push(it)
		}
		waiting = waiting[:0]
	}
}

// initialCaps returns each slot's share of maxBytes (nil when fewer than
// two slots have demand: no sharing) and the slots with ready data.
func (p *Pool) initialCaps(maxBytes int64) (caps []int64, waitingFor []int32) {
	if p.ndemand <= 1 {
		return nil, nil
	}
	for s, d := range p.demand {
		if d > 0 {
			waitingFor = append(waitingFor, int32(s))
		}
	}
	caps = make([]int64, len(p.demand))
	p.waterFill(maxBytes, waitingFor, func(s int32) int64 { return p.demand[s] }, caps)
	return caps, waitingFor
}

// expandTop adds the children of w's top item in the heads heap, if it
// came from there: they come after it, so the top does not change.
func (p *Pool) expandTop(w *walker) {
	h := int(w.items[0].hidx)
	if h < 0 {
		return
	}
	w.items[0].hidx = -1
	for _, c := range [2]int{2*h + 1, 2*h + 2} {
		if c < len(p.heads) {
			w.push(headItem(p.heads[c], 0, c))
		}
	}
}

func withinCaps(e *entry, caps, used []int64) bool {
	for i, s := range e.slots {
		if used[s]+e.charges[i] > caps[s] {
			return false
		}
	}
	return true
}

// reshare splits left bytes among the rollups that hold waiting txs back,
// by weight and remaining demand, raising their caps.
func (p *Pool) reshare(caps, used []int64, waiting []walkItem, left int64) {
	var held []int32
	seen := make([]bool, len(caps))
	for _, it := range waiting {
		e := it.e
		for i, s := range e.slots {
			if used[s]+e.charges[i] > caps[s] && !seen[s] {
				seen[s] = true
				held = append(held, s)
			}
		}
	}
	extra := make([]int64, len(caps))
	p.waterFill(left, held, func(s int32) int64 { return max(p.demand[s]-used[s], 1) }, extra)
	for _, s := range held {
		caps[s] = max(caps[s], used[s]+extra[s])
	}
}

// waterFill shares budget among slots by weight, none getting more than
// its demand, what one does not need going to the others (max-min
// fairness), writing each one's share into caps.
func (p *Pool) waterFill(budget int64, slots []int32, demand func(int32) int64, caps []int64) {
	type claim struct {
		s    int32
		d, w int64
	}
	cs := make([]claim, len(slots))
	var wsum int64
	for i, s := range slots {
		cs[i] = claim{s, demand(s), p.cfg.weight(p.slotID[s])}
		wsum += cs[i].w
	}
	// Smallest demand per unit of weight first; ids break ties so the
	// result does not depend on slot numbering.
	slices.SortFunc(cs, func(x, y claim) int {
		h1, l1 := bits.Mul64(uint64(x.d), uint64(y.w))
		h2, l2 := bits.Mul64(uint64(y.d), uint64(x.w))
		if h1 != h2 {
			return cmpU64(h1, h2)
		}
		if l1 != l2 {
			return cmpU64(l1, l2)
		}
		return bytesCmp(p.slotID[x.s][:], p.slotID[y.s][:])
	})
	left := budget
	for i, c := range cs {
		if share := left * c.w / wsum; c.d <= share {
			caps[c.s] = c.d
			left -= c.d
			wsum -= c.w
			continue
		}
		for _, r := range cs[i:] {
			caps[r.s] = left * r.w / wsum
		}
		break
	}
}
