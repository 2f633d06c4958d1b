package mempool

import (
	"math"
	"math/bits"
)

// The pool's heaps: accounts by their next ready tx (block order), accounts
// by their last tx (eviction order), entries by expiry.

type headHeap []*account

func (h headHeap) Len() int           { return len(h) }
func (h headHeap) Less(i, j int) bool { return h[i].ready[0].before(&h[j].ready[0]) }
func (h headHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].headIdx, h[j].headIdx = i, j
}
func (h *headHeap) Push(x any) {
	a := x.(*account)
	a.headIdx = len(*h)
	*h = append(*h, a)
}
func (h *headHeap) Pop() any {
	old := *h
	a := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	a.headIdx = -1
	return a
}

type tailHeap []*account

func (h tailHeap) Len() int           { return len(h) }
func (h tailHeap) Less(i, j int) bool { return evictFirst(h[i].fromTail(0), h[j].fromTail(0)) }
func (h tailHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].tailIdx, h[j].tailIdx = i, j
}
func (h *tailHeap) Push(x any) {
	a := x.(*account)
	a.tailIdx = len(*h)
	*h = append(*h, a)
}
func (h *tailHeap) Pop() any {
	old := *h
	a := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	a.tailIdx = -1
	return a
}

type expHeap []*entry

func (h expHeap) Len() int { return len(h) }
func (h expHeap) Less(i, j int) bool {
	if !h[i].expires.Equal(h[j].expires) {
		return h[i].expires.Before(h[j].expires)
	}
	return h[i].seq < h[j].seq
}
func (h expHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].expIdx, h[j].expIdx = i, j
}
func (h *expHeap) Push(x any) {
	e := x.(*entry)
	e.expIdx = len(*h)
	*h = append(*h, e)
}
func (h *expHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.expIdx = -1
	return e
}

// parkHeap orders parked entries by parkedEvictFirst.
type parkHeap []*entry

func (h parkHeap) Len() int           { return len(h) }
func (h parkHeap) Less(i, j int) bool { return parkedEvictFirst(h[i], h[j]) }
func (h parkHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].parkIdx, h[j].parkIdx = i, j
}
func (h *parkHeap) Push(x any) {
	e := x.(*entry)
	e.parkIdx = len(*h)
	*h = append(*h, e)
}
func (h *parkHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.parkIdx = -1
	return e
}

// walkItem is the k-th entry of an account's queue (from the head or from
// the tail, as the walk decides); hidx is the account's index in the heap
// being walked when the item came from it, -1 otherwise. Its place in the
// walk is the 128-bit key (hi, lo), greater first, so that comparisons
// touch only the walker's array and need no branches.
type walkItem struct {
	hi, lo uint64
	e      *entry
	// payload is the tx's Payload in a walk of ready txs (copied from the
	// queue with the key, so that the walk reads the entry and the payload
	// at once, without the queue in between).
	payload any
	a       *account
	k       int32
	hidx    int32
}

// headItem is the k-th ready entry of a, in block order: higher fee per
// byte, then earlier arrival. A fee per byte is a float64 of at least zero,
// whose bits order as the numbers do.
func headItem(a *account, k, hidx int) walkItem {
	q := &a.ready[k]
	return walkItem{hi: math.Float64bits(q.rate), lo: ^q.seq, e: q.e, payload: q.payload, a: a, k: int32(k), hidx: int32(hidx)}
}

// tailItem is the k-th entry of a counting back from the highest nonce, in
// eviction order (evictFirst: parked, then lower fee per byte, then later
// arrival; the sign bit of a fee per byte is free for the first).
func tailItem(a *account, k, hidx int) walkItem {
	e := a.fromTail(k)
	key := math.Float64bits(e.rate)
	if e.ready {
		key |= 1 << 63
	}
	return walkItem{hi: ^key, lo: e.seq, e: e, a: a, k: int32(k), hidx: int32(hidx)}
}

// walker visits a heap's accounts, and entries further down their queues,
// in priority order without changing the heap: popping heap node i pushes
// its children, so it costs O(log k) per visited item. It is a typed binary
// heap (container/heap would box every item).
type walker struct {
	items []walkItem
}

// first is 1 when x comes before y, else 0: the borrow out of y - x. It has
// no branches: which child of a heap node comes first is a coin toss that a
// branch predictor loses half the time, and the block walk asks it at every
// level of every sift.
func first(x, y *walkItem) uint {
	_, b := bits.Sub64(y.lo, x.lo, 0)
	_, b = bits.Sub64(y.hi, x.hi, b)
	return uint(b)
}

func (w *walker) Len() int { return len(w.items) }

func (w *walker) push(it walkItem) {
	w.items = append(w.items, it)
	i := len(w.items) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if first(&w.items[i], &w.items[parent]) == 0 {
			break
		}
		w.items[i], w.items[parent] = w.items[parent], w.items[i]
		i = parent
	}
}

func (w *walker) pop() walkItem {
	top := w.items[0]
	n := len(w.items) - 1
	w.items[0] = w.items[n]
	w.items = w.items[:n]
	w.down()
	return top
}

// replaceTop is pop then push(it) in one pass: the walk's usual step, an
// account's next tx taking the place of the one just taken.
func (w *walker) replaceTop(it walkItem) {
	w.items[0] = it
	w.down()
}

// down sifts the top item down to its place.
func (w *walker) down() {
	items := w.items
	n := len(items)
	if n == 0 {
		return
	}
	top := items[0]
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n {
			c += int(first(&items[r], &items[c]))
		}
		if first(&items[c], &top) == 0 {
			break
		}
		items[i] = items[c]
		i = c
	}
	items[i] = top
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
