package mempool

import (
	"container/heap"
	"fmt"
	"math/bits"
	"time"

	"github.com/holiman/uint256"
)

// tick advances the pool's clock; entries accepted before any time was
// known start their TTL now.
func (p *Pool) tick(now time.Time) {
	if now.After(p.now) {
		p.now = now
	}
	if p.now.IsZero() || len(p.unclock) == 0 {
		return
	}
	for _, e := range p.unclock {
		if p.byHash[e.tx.Hash] == e && e.expIdx < 0 {
			p.startTTL(e)
		}
	}
	clear(p.unclock)
	p.unclock = p.unclock[:0]
}

func (p *Pool) startTTL(e *entry) {
	if p.cfg.TTL < 0 || e.tx.Keep {
		return
	}
	e.expires = p.now.Add(p.cfg.TTL)
	heap.Push(&p.expiry, e)
}

func (p *Pool) newEntry(tx *Tx) *entry {
	e := &entry{tx: tx, size: max(int64(len(tx.Raw)), 1), expIdx: -1, parkIdx: -1}
	if tx.Fee != nil {
		e.fee.Set(tx.Fee)
		if e.fee.Gt(maxFee) {
			e.fee.Set(maxFee)
		}
	}
	e.rate = e.fee.Float64() / float64(e.size)
	if len(tx.Rollups) > 0 {
		// Each rollup is charged its part of the tx's bytes, in proportion
		// to its data; the last one takes the rounding so charges sum to
		// the size.
		var data int64
		for _, r := range tx.Rollups {
			data += max(r.Bytes, 1)
		}
		if len(tx.Rollups) == 1 {
			e.charges, e.slots = e.charge1[:], e.slot1[:]
		} else {
			e.charges = make([]int64, len(tx.Rollups))
			e.slots = make([]int32, len(tx.Rollups))
		}
		left := e.size
		for i, r := range tx.Rollups {
			c := left
			if i < len(tx.Rollups)-1 {
				hi, lo := bits.Mul64(uint64(e.size), uint64(max(r.Bytes, 1)))
				q, _ := bits.Div64(hi, lo, uint64(data))
				c = int64(q)
			}
			e.charges[i] = c
			e.slots[i] = p.acquire(r.ID)
			left -= c
		}
	}
	return e
}

func (p *Pool) acquire(id [32]byte) int32 {
	s, ok := p.slotOf[id]
	if !ok {
		if n := len(p.free); n > 0 {
			s = p.free[n-1]
			p.free = p.free[:n-1]
			p.slotID[s] = id
		} else {
			s = int32(len(p.slotID))
			p.slotID = append(p.slotID, id)
			p.slotRefs = append(p.slotRefs, 0)
			p.demand = append(p.demand, 0)
		}
		p.slotOf[id] = s
	}
	p.slotRefs[s]++
	return s
}

// release gives back the slots of an entry leaving the pool (or never
// entering it).
func (p *Pool) release(e *entry) {
	for _, s := range e.slots {
		if p.slotRefs[s]--; p.slotRefs[s] == 0 {
			delete(p.slotOf, p.slotID[s])
			p.free = append(p.free, s)
		}
	}
}

// Insert adds tx given the sender's committed state, at time now.
//
// A tx whose nonce follows the sender's ready run becomes ready; one further
// ahead (at most MaxNonceAhead past it, at most MaxParked per sender and
// MaxParkedTotal in the pool) is parked until the gap is filled. A tx with
// the nonce of a pending one replaces it if its fee is at least PriceBump
// percent higher, at most MaxReplacements times per sender between two of
// its commits. The sender's pending txs' summed cost never exceeds the
// committed balance, and a tx whose fee alone exceeds it is ErrCannotPay. At
// a cap, the lowest-priority txs are evicted from the tails of their
// senders' queues; if the new tx would itself be the first to go, it is
// refused with ErrFull and nothing changes.
func (p *Pool) Insert(tx *Tx, st AccountState, now time.Time) (Inserted, error) {
	return p.insert(tx, st, now, false)
}

// Restore is Insert for a tx this node acknowledged before a restart: it is
// not held to MaxNonceAhead, MaxParked, MaxParkedTotal or MaxReplacements,
// which bound what peers and clients may add, not what the node already
// promised to keep. Every validity rule (nonce, balance, replacement fee)
// and the count and byte caps still apply.
func (p *Pool) Restore(tx *Tx, st AccountState, now time.Time) (Inserted, error) {
	return p.insert(tx, st, now, true)
}

func (p *Pool) insert(tx *Tx, st AccountState, now time.Time, restore bool) (Inserted, error) {
	p.tick(now)
	if _, ok := p.byHash[tx.Hash]; ok {
		return Inserted{}, ErrAlreadyKnown
	}
	a := p.accounts[tx.Sender]
	low := st.Nonce
	if a != nil {
		low = max(low, a.base)
	}
	if tx.Nonce < low {
		return Inserted{}, fmt.Errorf("%w: account nonce is %d, tx has %d", ErrNonceTooLow, low, tx.Nonce)
	}
	if cannotPay(tx, st.Balance) {
		return Inserted{}, fmt.Errorf("%w: balance %s, fee %s", ErrCannotPay, st.Balance, feeOf(tx))
	}
	size := int64(len(tx.Raw))
	if p.cfg.MaxBytes > 0 && size > p.cfg.MaxBytes {
		return Inserted{}, fmt.Errorf("%w: tx of %d bytes is larger than the mempool's %d", ErrFull, size, p.cfg.MaxBytes)
	}
	e := p.newEntry(tx)
	accepted := false
	defer func() {
		if !accepted {
			p.release(e)
		}
	}()
	p.seq++
	e.seq = p.seq
	var old *entry
	if a != nil {
		old = a.at(tx.Nonce)
	}
	spent, err := p.checkSlot(a, e, old, st, restore)
	if err != nil {
		return Inserted{}, err
	}
	total, overflow := new(uint256.Int).AddOverflow(spent, tx.Cost)
	if overflow || total.Gt(st.Balance) {
		return Inserted{}, fmt.Errorf("%w: balance %s, needed %s", ErrInsufficientFunds, st.Balance, total)
	}

	if a == nil {
		a = &account{sender: tx.Sender, base: st.Nonce, headIdx: -1, tailIdx: -1}
		p.accounts[tx.Sender] = a
	}
	if old != nil {
		p.swap(old, e)
	} else {
		p.place(a, e)
	}
	victims, ok := p.victims(e, old)
	if !ok {
		if old != nil {
			p.swap(e, old)
		} else {
			p.unplace(e)
		}
		p.gc(a)
		return Inserted{}, fmt.Errorf("%w: %d transactions, %d bytes pending, and this one has the lowest priority", ErrFull, len(p.byHash), p.bytes)
	}
	accepted = true
	p.index(e)
	return p.settle(a, e, old, victims, restore), nil
}

// checkSlot checks whether e may take its nonce's slot in a's txs (a may be
// nil: no pending txs): as a replacement of old, its fee must beat old's by
// the price bump within the sender's replacement budget; ahead of the next
// nonce, it must be near enough and find room among the parked txs. It
// returns what the sender's other pending txs already spend.
func (p *Pool) checkSlot(a *account, e, old *entry, st AccountState, restore bool) (*uint256.Int, error) {
	tx := e.tx
	spent := new(uint256.Int)
	next := st.Nonce
	if a != nil {
		spent.Set(&a.total)
		next = max(next, a.next())
	}
	if old != nil {
		if !restore && a.replaced >= p.cfg.MaxReplacements {
			return nil, fmt.Errorf("%w: the sender replaced %d pending txs since its last committed one (at most %d)",
				ErrTooManyReplacements, a.replaced, p.cfg.MaxReplacements)
		}
		// fee × 100 ≥ old fee × (100 + bump); fees are clamped far below
		// overflow.
		need := new(uint256.Int).Mul(&old.fee, uint256.NewInt(uint64(100+p.cfg.PriceBump)))
		if new(uint256.Int).Mul(&e.fee, uint256.NewInt(100)).Lt(need) {
			return nil, fmt.Errorf("%w: pending tx with nonce %d pays fee %s, a replacement must pay at least %d%% more, not %s",
				ErrUnderpriced, tx.Nonce, &old.fee, p.cfg.PriceBump, &e.fee)
		}
		return spent.Sub(spent, old.tx.Cost), nil
	}
	if tx.Nonce > next && !restore {
		if tx.Nonce-next > p.cfg.MaxNonceAhead {
			return nil, fmt.Errorf("%w: next nonce is %d, tx has %d (at most %d ahead may wait)", ErrNonceTooFarAhead, next, tx.Nonce, p.cfg.MaxNonceAhead)
		}
		if a != nil && len(a.parked) >= p.cfg.MaxParked {
			return nil, fmt.Errorf("%w: %d already wait behind nonce %d", ErrTooManyParked, len(a.parked), next)
		}
		if len(p.parked) >= p.cfg.MaxParkedTotal && !parkedEvictFirst(p.parked[0], e) {
			return nil, fmt.Errorf("%w: the mempool holds %d parked txs, none paying less per byte than this one", ErrTooManyParked, len(p.parked))
		}
	}
	return spent, nil
}

// settle completes the insert of e, placed and indexed: the tx it replaced
// (old, if any) and the eviction victims leave the pool, and so does the
// first parked tx when e pushed the parked txs over their cap. It returns
// what the caller reports.
func (p *Pool) settle(a *account, e, old *entry, victims []*entry, restore bool) Inserted {
	res := Inserted{Parked: !e.ready}
	if old != nil {
		p.unindex(old)
		if !restore {
			a.replaced++
		}
		res.Dropped = append(res.Dropped, Dropped{old.tx, fmt.Sprintf("replaced by %x (fee %s, was %s)", e.tx.Hash, &e.fee, &old.fee), false})
	}
	for _, v := range victims {
		va := v.acct
		if va.fromTail(0) != v {
			panic("invariant: eviction victim is not its sender's last tx")
		}
		p.removeTail(va)
		p.gc(va)
		res.Dropped = append(res.Dropped, Dropped{v.tx, fmt.Sprintf("evicted: mempool full (%d txs, %d bytes) and a higher-priority tx arrived", len(p.byHash), p.bytes), true})
	}
	if !restore && old == nil && !e.ready && len(p.parked) > p.cfg.MaxParkedTotal {
		// Checked in checkSlot: the first parked tx to go pays less per
		// byte than e, or as much and came earlier. (It is e only if the
		// pool was already over the cap, after a restore.)
		if v := p.parked[0]; v != e {
			va := v.acct
			p.unplace(v)
			p.unindex(v)
			p.gc(va)
			res.Dropped = append(res.Dropped, Dropped{v.tx, fmt.Sprintf("evicted: the mempool holds the most parked txs it keeps (%d) and a parked tx paying more per byte, or as much and newer, arrived", p.cfg.MaxParkedTotal), true})
		}
	}
	return res
}

// cannotPay reports whether balance does not cover even tx's own fee (its
// cost, if less: the fee is part of the cost), or is zero while tx costs
// something: such a tx could never be included.
func cannotPay(tx *Tx, balance *uint256.Int) bool {
	fee := feeOf(tx)
	if tx.Cost.Lt(fee) {
		fee = tx.Cost
	}
	return balance.Lt(fee) || (balance.IsZero() && !tx.Cost.IsZero())
}

func feeOf(tx *Tx) *uint256.Int {
	if tx.Fee == nil {
		return new(uint256.Int)
	}
	return tx.Fee
}

// parkedEvictFirst reports whether parked entry a is evicted before b at
// the parked cap: lower fee per byte, then earlier arrival. Parked txs
// wait for a gap to be filled; among equals the one that waited longest is
// the least likely to see it filled.
func parkedEvictFirst(a, b *entry) bool {
	if a.rate != b.rate {
		return a.rate < b.rate
	}
	return a.seq < b.seq
}

// victims lists, in eviction order, the txs to evict so that the pool with
// e (already placed, not yet indexed; replacing old, still indexed, unless
// nil) fits the caps. It fails if e itself, or a tx it does not outrank,
// would have to go.
func (p *Pool) victims(e, old *entry) ([]*entry, bool) {
	count := len(p.byHash) + 1
	bytes := p.bytes + e.size
	if old != nil {
		count--
		bytes -= old.size
	}
	over := func() bool {
		return (p.cfg.MaxTxs > 0 && count > p.cfg.MaxTxs) || (p.cfg.MaxBytes > 0 && bytes > p.cfg.MaxBytes)
	}
	if !over() {
		return nil, true
	}
	var out []*entry
	var w walker
	if len(p.tails) > 0 {
		w.push(tailItem(p.tails[0], 0, 0))
	}
	for over() {
		if w.Len() == 0 {
			return nil, false
		}
		it := w.pop()
		for _, c := range [2]int{2*int(it.hidx) + 1, 2*int(it.hidx) + 2} {
			if it.hidx >= 0 && c < len(p.tails) {
				w.push(tailItem(p.tails[c], 0, c))
			}
		}
		v := it.e
		if v == e || !evictFirst(v, e) {
			return nil, false
		}
		out = append(out, v)
		count--
		bytes -= v.size
		if k := int(it.k) + 1; it.a.fromTail(k) != nil {
			w.push(tailItem(it.a, k, -1))
		}
	}
	return out, true
}
