package mempool

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"time"

	"github.com/holiman/uint256"
)

// RollupBytes is how many bytes of a tx carry data for one rollup.
type RollupBytes struct {
	ID    [32]byte
	Bytes int64
}

// Tx is a transaction as the mempool sees it.
type Tx struct {
	Hash   [32]byte
	Raw    []byte
	Sender [20]byte
	Nonce  uint64
	// Cost is the most the tx can take from the sender's balance (fee limit
	// plus transferred and staked amounts).
	Cost *uint256.Int
	// Fee is what including the tx pays the validators. Block building
	// orders by Fee per byte of Raw, and a replacement must raise Fee. nil
	// is zero.
	Fee *uint256.Int
	// Rollups lists, once per rollup, the rollup data the tx carries. A tx
	// with several entries is a bundle: it is taken whole or not at all and
	// counts against every rollup's share. Txs without rollup data are not
	// limited by per-rollup fairness.
	Rollups []RollupBytes
	// Payload is the decoded transaction, opaque to the mempool. It must
	// not change once the tx is inserted (block building keeps a copy).
	Payload any
	// Gossip queues the tx for broadcast to peers (TakeGossip).
	Gossip bool
}

// Errors returned by Insert. Callers map them to result codes.
var (
	ErrAlreadyKnown      = errors.New("transaction already in mempool")
	ErrNonceTooLow       = errors.New("nonce too low")
	ErrNonceTooFarAhead  = errors.New("nonce too far ahead")
	ErrTooManyParked     = errors.New("too many transactions waiting for earlier nonces")
	ErrUnderpriced       = errors.New("replacement transaction underpriced")
	ErrInsufficientFunds = errors.New("insufficient balance for this and pending transactions")
	ErrFull              = errors.New("mempool full")
	// ErrCannotPay is an ErrInsufficientFunds where the sender's balance
	// does not cover even the tx's own fee (an unfunded sender, say): the
	// tx could not pay for its inclusion whatever else is pending.
	ErrCannotPay = fmt.Errorf("%w: the balance does not cover this tx's own fee", ErrInsufficientFunds)
	// ErrTooManyReplacements is an ErrUnderpriced: the sender has replaced
	// Config.MaxReplacements pending txs since its last committed tx.
	ErrTooManyReplacements = fmt.Errorf("%w: too many replacements", ErrUnderpriced)
)

// Defaults applied by NewPool to zero Config fields.
//
// Parked txs and replaced txs are never paid for: a parked tx waits for a
// gap its sender may never fill, a replaced one leaves unincluded. Their
// bounds are therefore small. Honest gaps come from txs of one sender
// reaching a node out of order (a client spreading its nonces over several
// validators) and are filled within a block or two, so 8 parked txs at most
// 32 nonces ahead cover them; 1024 parked txs pool-wide (go-ethereum's
// GlobalQueue) is 0.5% of a default node's 200,000-tx mempool. Fee bumps
// compound (10% each), so 8 replacements between two committed txs of a
// sender already raise its fee by more than 2x.
const (
	DefaultTTL             = 10 * time.Minute
	DefaultMaxNonceAhead   = 32
	DefaultMaxParked       = 8
	DefaultMaxParkedTotal  = 1024
	DefaultMaxReplacements = 8
	DefaultPriceBump       = 10
)

// maxWeight bounds a rollup's weight so share arithmetic cannot overflow.
const maxWeight = 1 << 20

// Config bounds the pool. Zero fields take the defaults above; MaxTxs and
// MaxBytes of zero mean no cap.
type Config struct {
	MaxTxs   int
	MaxBytes int64
	// TTL is how long a tx may stay pending; negative disables expiry.
	TTL time.Duration
	// MaxNonceAhead bounds how far past the sender's next ready nonce a
	// tx may be parked.
	MaxNonceAhead uint64
	// MaxParked bounds how many parked txs one sender may have.
	MaxParked int
	// MaxParkedTotal bounds parked txs pool-wide. Past it, a newly parked
	// tx evicts the parked tx with the lowest fee per byte, the oldest of
	// equals, or is refused (ErrTooManyParked) if that tx pays more.
	MaxParkedTotal int
	// MaxReplacements bounds how many pending txs one sender may replace
	// until one of its txs is committed (or its queue empties).
	MaxReplacements int
	// PriceBump is the percentage by which a replacement's fee must exceed
	// the pending tx's.
	PriceBump int
	// RollupWeight gives a rollup's weight in block space fairness; nil, or
	// a value below 1, means 1.
	RollupWeight func(id [32]byte) int64
}

func (c Config) withDefaults() Config {
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.MaxNonceAhead == 0 {
		c.MaxNonceAhead = DefaultMaxNonceAhead
	}
	if c.MaxParked <= 0 {
		c.MaxParked = DefaultMaxParked
	}
	if c.MaxParkedTotal <= 0 {
		c.MaxParkedTotal = DefaultMaxParkedTotal
	}
	if c.MaxReplacements <= 0 {
		c.MaxReplacements = DefaultMaxReplacements
	}
	if c.PriceBump <= 0 {
		c.PriceBump = DefaultPriceBump
	}
	return c
}

func (c Config) weight(id [32]byte) int64 {
	if c.RollupWeight == nil {
		return 1
	}
	return min(max(c.RollupWeight(id), 1), maxWeight)
}

// AccountState is an account's committed nonce and balance.
type AccountState struct {
	Nonce   uint64
	Balance *uint256.Int
}

// Dropped is a transaction removed because it can no longer be included.
type Dropped struct {
	Tx     *Tx
	Reason string
	// Evicted: the tx was pushed out for room (mempool full, too many
	// parked txs), not found invalid; it may still be included later, so
	// the node keeps an acknowledged one journaled (see consensus).
	Evicted bool
}

// Inserted is what an accepted Insert did besides adding the tx.
type Inserted struct {
	// Parked is set when the tx waits for an earlier nonce of its sender.
	Parked bool
	// Dropped lists the tx it replaced and the txs evicted to make room,
	// with reasons; callers must report them (journal, tx status).
	Dropped []Dropped
}

// maxFee clamps fees so that fee × size never overflows 256 bits.
var maxFee = new(uint256.Int).Lsh(uint256.NewInt(1), 192)

type entry struct {
	tx   *Tx
	acct *account
	seq  uint64 // arrival order, breaks priority ties
	size int64
	fee  uint256.Int
	rate float64 // fee / size
	// charges is what the tx counts against each of tx.Rollups' shares;
	// they sum to size.
	charges []int64
	slots   []int32 // tx.Rollups' slots in Pool.demand
	// Storage for charges and slots when the tx carries data for one
	// rollup (the usual case): the block walk reads them for every tx it
	// offers, and in the entry they cost no extra cache miss.
	charge1 [1]int64
	slot1   [1]int32
	ready   bool
	expires time.Time
	expIdx  int    // in Pool.expiry, -1 when not there
	parkIdx int    // in Pool.parked, -1 when not there
	taken   uint64 // the TakeGossip call that last returned the entry
}

// before reports whether q goes into a block before r: higher fee per
// byte, then earlier arrival. Fee per byte is compared as a float64: two
// rates within one part in 2^53 count as equal.
func (q *queued) before(r *queued) bool {
	if q.rate != r.rate {
		return q.rate > r.rate
	}
	return q.seq < r.seq
}

// evictFirst reports whether a is evicted before b: parked before ready,
// then lower fee per byte, then later arrival.
func evictFirst(a, b *entry) bool {
	if a.ready != b.ready {
		return !a.ready
	}
	if a.rate != b.rate {
		return a.rate < b.rate
	}
	return a.seq > b.seq
}

// queued is a ready entry with what the block walk needs to order it and
// to offer it, copied into the account's queue: the walk then touches an
// entry only when it reaches it, and the entry and the tx's payload at
// once rather than one after the other.
type queued struct {
	e       *entry
	payload any
	rate    float64
	seq     uint64
}

func queue(e *entry) queued { return queued{e: e, payload: e.tx.Payload, rate: e.rate, seq: e.seq} }

// account is one sender's queue: ready holds consecutive nonces from base
// (the committed nonce as last seen), parked the txs after a nonce gap, in
// nonce order.
type account struct {
	sender  [20]byte
	base    uint64
	ready   []queued
	parked  []*entry
	total   uint256.Int // summed cost of ready and parked
	headIdx int         // in Pool.heads, -1 when ready is empty
	tailIdx int         // in Pool.tails, -1 when the account is empty
	// replaced counts replacements since base last moved.
	replaced int
}

func (a *account) next() uint64 { return a.base + uint64(len(a.ready)) }
func (a *account) len() int     { return len(a.ready) + len(a.parked) }

// fromTail returns the k-th entry counting back from the highest nonce, or
// nil.
func (a *account) fromTail(k int) *entry {
	if k < len(a.parked) {
		return a.parked[len(a.parked)-1-k]
	}
	k -= len(a.parked)
	if k < len(a.ready) {
		return a.ready[len(a.ready)-1-k].e
	}
	return nil
}

// at returns the pending entry with nonce, or nil.
func (a *account) at(nonce uint64) *entry {
	if nonce >= a.base && nonce < a.next() {
		return a.ready[nonce-a.base].e
	}
	if i, ok := a.parkedIndex(nonce); ok {
		return a.parked[i]
	}
	return nil
}

func (a *account) parkedIndex(nonce uint64) (int, bool) {
	i := sort.Search(len(a.parked), func(i int) bool { return a.parked[i].tx.Nonce >= nonce })
	return i, i < len(a.parked) && a.parked[i].tx.Nonce == nonce
}

// Pool is the pure mempool core: no goroutines, no clock of its own (time is
// passed in), no I/O. Every operation is O(log n) in the pool size, plus the
// work proportional to what it removes.
type Pool struct {
	cfg      Config
	byHash   map[[32]byte]*entry
	accounts map[[20]byte]*account
	heads    headHeap // accounts with ready txs, best ready head first
	tails    tailHeap // non-empty accounts, first to evict first
	expiry   expHeap  // entries by expiry time
	parked   parkHeap // pending parked entries, first to evict first
	unclock  []*entry // accepted before any time was known
	gossip   []*entry // accepted with Tx.Gossip, not yet taken
	takes    uint64   // TakeGossip calls
	// Rollups with pending txs get a slot: demand[slot] is the bytes
	// charged to the rollup by ready txs.
	slotOf   map[[32]byte]int32
	slotID   [][32]byte
	slotRefs []int32 // pending txs using the slot
	free     []int32
	demand   []int64
	ndemand  int // slots with demand > 0
	seq      uint64
	bytes    int64
	nready   int
	now      time.Time // latest time seen
}

// NewPool returns an empty pool.
func NewPool(cfg Config) *Pool {
	return &Pool{
		cfg:      cfg.withDefaults(),
		byHash:   map[[32]byte]*entry{},
		accounts: map[[20]byte]*account{},
		slotOf:   map[[32]byte]int32{},
	}
}

// Len is the number of pending transactions, ready and parked.
func (p *Pool) Len() int { return len(p.byHash) }

// ReadyLen is the number of ready transactions.
func (p *Pool) ReadyLen() int { return p.nready }

// Bytes is the total size of pending transactions.
func (p *Pool) Bytes() int64 { return p.bytes }

// Has reports whether the pool holds hash.
func (p *Pool) Has(hash [32]byte) bool { _, ok := p.byHash[hash]; return ok }

// ParkedLen is the number of parked transactions.
func (p *Pool) ParkedLen() int { return len(p.parked) }

// Get returns the pending tx with hash, or nil.
func (p *Pool) Get(hash [32]byte) *Tx {
	if e, ok := p.byHash[hash]; ok {
		return e.tx
	}
	return nil
}

// IsParked reports whether hash is pending but waits for an earlier nonce.
func (p *Pool) IsParked(hash [32]byte) bool {
	e, ok := p.byHash[hash]
	return ok && !e.ready
}

// NextNonce returns the nonce the sender's next transaction should carry:
// the end of its ready run on top of the committed nonce. Parked txs do not
// count: the gap before them must be filled first.
func (p *Pool) NextNonce(sender [20]byte, committed uint64) uint64 {
	if a := p.accounts[sender]; a != nil {
		return max(a.next(), committed)
	}
	return committed
}

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
	if p.cfg.TTL < 0 {
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
	spent := new(uint256.Int)
	next := st.Nonce
	if a != nil {
		old = a.at(tx.Nonce)
		spent.Set(&a.total)
		next = max(next, a.next())
	}
	if old != nil {
		if !restore && a.replaced >= p.cfg.MaxReplacements {
			return Inserted{}, fmt.Errorf("%w: the sender replaced %d pending txs since its last committed one (at most %d)",
				ErrTooManyReplacements, a.replaced, p.cfg.MaxReplacements)
		}
		// fee × 100 ≥ old fee × (100 + bump); fees are clamped far below
		// overflow.
		need := new(uint256.Int).Mul(&old.fee, uint256.NewInt(uint64(100+p.cfg.PriceBump)))
		if new(uint256.Int).Mul(&e.fee, uint256.NewInt(100)).Lt(need) {
			return Inserted{}, fmt.Errorf("%w: pending tx with nonce %d pays fee %s, a replacement must pay at least %d%% more, not %s",
				ErrUnderpriced, tx.Nonce, &old.fee, p.cfg.PriceBump, &e.fee)
		}
		spent.Sub(spent, old.tx.Cost)
	} else if tx.Nonce > next && !restore {
		if tx.Nonce-next > p.cfg.MaxNonceAhead {
			return Inserted{}, fmt.Errorf("%w: next nonce is %d, tx has %d (at most %d ahead may wait)", ErrNonceTooFarAhead, next, tx.Nonce, p.cfg.MaxNonceAhead)
		}
		if a != nil && len(a.parked) >= p.cfg.MaxParked {
			return Inserted{}, fmt.Errorf("%w: %d already wait behind nonce %d", ErrTooManyParked, len(a.parked), next)
		}
		if len(p.parked) >= p.cfg.MaxParkedTotal && !parkedEvictFirst(p.parked[0], e) {
			return Inserted{}, fmt.Errorf("%w: the mempool holds %d parked txs, none paying less per byte than this one", ErrTooManyParked, len(p.parked))
		}
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
	var res Inserted
	res.Parked = !e.ready
	if old != nil {
		p.unindex(old)
		if !restore {
			a.replaced++
		}
		res.Dropped = append(res.Dropped, Dropped{old.tx, fmt.Sprintf("replaced by %x (fee %s, was %s)", tx.Hash, &e.fee, &old.fee), false})
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
		// Checked above: the first parked tx to go pays less per byte than
		// e, or as much and came earlier. (It is e only if the pool was
		// already over the cap, after a restore.)
		if v := p.parked[0]; v != e {
			va := v.acct
			p.unplace(v)
			p.unindex(v)
			p.gc(va)
			res.Dropped = append(res.Dropped, Dropped{v.tx, fmt.Sprintf("evicted: the mempool holds the most parked txs it keeps (%d) and a parked tx paying more per byte, or as much and newer, arrived", p.cfg.MaxParkedTotal), true})
		}
	}
	return res, nil
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

// index adds e, already placed in its account, to the pool-wide indexes.
func (p *Pool) index(e *entry) {
	p.byHash[e.tx.Hash] = e
	p.bytes += e.size
	if p.now.IsZero() {
		p.unclock = append(p.unclock, e)
	} else {
		p.startTTL(e)
	}
	if e.tx.Gossip {
		p.gossip = append(p.gossip, e)
	}
	if !e.ready {
		heap.Push(&p.parked, e)
	}
}

// unindex removes e from the pool-wide indexes (the gossip queue skips it
// lazily).
func (p *Pool) unindex(e *entry) {
	delete(p.byHash, e.tx.Hash)
	p.bytes -= e.size
	p.release(e)
	if e.expIdx >= 0 {
		heap.Remove(&p.expiry, e.expIdx)
	}
	if e.parkIdx >= 0 {
		heap.Remove(&p.parked, e.parkIdx)
	}
}

func (p *Pool) setReady(e *entry, ready bool) {
	if e.ready == ready {
		return
	}
	e.ready = ready
	// Pool.parked holds pending (indexed) parked entries; Insert indexes a
	// new entry after placing it.
	switch {
	case ready && e.parkIdx >= 0:
		heap.Remove(&p.parked, e.parkIdx)
	case !ready && p.byHash[e.tx.Hash] == e:
		heap.Push(&p.parked, e)
	}
	sign := int64(1)
	if ready {
		p.nready++
	} else {
		p.nready--
		sign = -1
	}
	for i, s := range e.slots {
		was := p.demand[s]
		p.demand[s] += sign * e.charges[i]
		switch {
		case was == 0 && p.demand[s] > 0:
			p.ndemand++
		case was > 0 && p.demand[s] == 0:
			p.ndemand--
		}
	}
}

// place puts e into a's queue: at the end of the ready run (promoting the
// parked txs it connects) or among the parked ones.
func (p *Pool) place(a *account, e *entry) {
	e.acct = a
	a.total.Add(&a.total, e.tx.Cost)
	if e.tx.Nonce == a.next() {
		a.ready = append(a.ready, queue(e))
		p.setReady(e, true)
		p.promote(a)
	} else {
		i, _ := a.parkedIndex(e.tx.Nonce)
		a.parked = slices.Insert(a.parked, i, e)
	}
	p.fix(a)
}

// promote moves parked txs that continue the ready run into it.
func (p *Pool) promote(a *account) {
	for len(a.parked) > 0 && a.parked[0].tx.Nonce == a.next() {
		e := a.parked[0]
		a.parked = slices.Delete(a.parked, 0, 1)
		a.ready = append(a.ready, queue(e))
		p.setReady(e, true)
	}
}

// demoteFrom parks the ready txs from index i on.
func (p *Pool) demoteFrom(a *account, i int) {
	rest := make([]*entry, len(a.ready)-i)
	for j, q := range a.ready[i:] {
		rest[j] = q.e
		p.setReady(q.e, false)
	}
	clear(a.ready[i:])
	a.ready = a.ready[:i]
	a.parked = append(rest, a.parked...)
}

// unplace takes e out of its account's queue wherever it is; ready txs
// after it are parked again. It undoes place.
func (p *Pool) unplace(e *entry) {
	a := e.acct
	if e.ready {
		p.demoteFrom(a, int(e.tx.Nonce-a.base))
	}
	i, ok := a.parkedIndex(e.tx.Nonce)
	if !ok || a.parked[i] != e {
		panic("invariant: unplaced entry is not in its account")
	}
	a.parked = slices.Delete(a.parked, i, i+1)
	a.total.Sub(&a.total, e.tx.Cost)
	p.fix(a)
}

// swap puts e where old is in old's account.
func (p *Pool) swap(old, e *entry) {
	a := old.acct
	e.acct = a
	a.total.Sub(&a.total, old.tx.Cost)
	a.total.Add(&a.total, e.tx.Cost)
	if old.ready {
		a.ready[old.tx.Nonce-a.base] = queue(e)
		p.setReady(old, false)
		p.setReady(e, true)
	} else {
		i, _ := a.parkedIndex(old.tx.Nonce)
		a.parked[i] = e
	}
	p.fix(a)
}

// removeTail removes and returns a's highest-nonce tx.
func (p *Pool) removeTail(a *account) *entry {
	e := a.fromTail(0)
	if n := len(a.parked); n > 0 {
		a.parked[n-1] = nil
		a.parked = a.parked[:n-1]
	} else {
		n := len(a.ready)
		a.ready[n-1] = queued{}
		a.ready = a.ready[:n-1]
		p.setReady(e, false)
	}
	a.total.Sub(&a.total, e.tx.Cost)
	p.unindex(e)
	p.fix(a)
	return e
}

// removeHead removes and returns a's first ready tx.
func (p *Pool) removeHead(a *account) *entry {
	e := a.ready[0].e
	a.ready[0] = queued{}
	a.ready = a.ready[1:]
	a.base++
	p.setReady(e, false)
	a.total.Sub(&a.total, e.tx.Cost)
	p.unindex(e)
	p.fix(a)
	return e
}

// removeFrom removes a's txs with nonce >= nonce, returned in nonce order.
func (p *Pool) removeFrom(a *account, nonce uint64) []*entry {
	var out []*entry
	for t := a.fromTail(0); t != nil && t.tx.Nonce >= nonce; t = a.fromTail(0) {
		out = append(out, p.removeTail(a))
	}
	slices.Reverse(out)
	return out
}

// fix restores a's place in the heads and tails heaps after a change.
func (p *Pool) fix(a *account) {
	switch {
	case len(a.ready) > 0 && a.headIdx < 0:
		heap.Push(&p.heads, a)
	case len(a.ready) > 0:
		heap.Fix(&p.heads, a.headIdx)
	case a.headIdx >= 0:
		heap.Remove(&p.heads, a.headIdx)
	}
	switch {
	case a.len() > 0 && a.tailIdx < 0:
		heap.Push(&p.tails, a)
	case a.len() > 0:
		heap.Fix(&p.tails, a.tailIdx)
	case a.tailIdx >= 0:
		heap.Remove(&p.tails, a.tailIdx)
	}
}

// gc forgets a once it is empty.
func (p *Pool) gc(a *account) {
	if a.len() == 0 && p.accounts[a.sender] == a {
		delete(p.accounts, a.sender)
	}
}

// TakeGossip returns transactions accepted with Tx.Gossip since the last
// call and still pending, up to maxBytes of them (at least one), for the
// node to broadcast to its peers once. No tx is returned twice by one call:
// peers take a gossiped batch that repeats a tx for a fault.
func (p *Pool) TakeGossip(maxBytes int64) []*Tx {
	var out []*Tx
	var n int64
	p.takes++
	i := 0
	for ; i < len(p.gossip); i++ {
		e := p.gossip[i]
		// The entry, not just the hash, must still be pending: a tx removed
		// and accepted again has a newer entry and is gossiped once.
		if p.byHash[e.tx.Hash] != e || e.taken == p.takes {
			continue
		}
		tx := e.tx
		if len(out) > 0 && maxBytes > 0 && n+int64(len(tx.Raw)) > maxBytes {
			break
		}
		e.taken = p.takes
		out = append(out, tx)
		n += int64(len(tx.Raw))
	}
	rest := copy(p.gossip, p.gossip[i:])
	clear(p.gossip[rest:])
	p.gossip = p.gossip[:rest]
	return out
}

// Pending returns up to limit pending transactions, ready and parked,
// grouped by sender (senders in byte order), each sender's in nonce order.
// It copies the pool: use it for rare scans, not per block.
func (p *Pool) Pending(limit int) []*Tx {
	accts := make([]*account, 0, len(p.accounts))
	for _, a := range p.accounts {
		accts = append(accts, a)
	}
	slices.SortFunc(accts, func(x, y *account) int { return bytesCmp(x.sender[:], y.sender[:]) })
	out := make([]*Tx, 0, min(limit, len(p.byHash)))
	for _, a := range accts {
		for k := a.len() - 1; k >= 0; k-- {
			if len(out) >= limit {
				return out
			}
			out = append(out, a.fromTail(k).tx)
		}
	}
	return out
}

func bytesCmp(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return cmpU64(uint64(a[i]), uint64(b[i]))
		}
	}
	return cmpU64(uint64(len(a)), uint64(len(b)))
}

// Update applies a committed block at time now (the block's time).
// committed are the hashes of the block's txs; touched the senders of its
// txs, which include every account whose nonce moved or whose balance went
// down (balances only fall by an account's own txs). Each touched account
// is re-validated against state: txs with a used nonce go (committed ones
// silently, others as dropped), parked txs the new nonce reaches become
// ready, and if the balance no longer covers the queue's summed cost, txs
// go from the tail until it does. Expired txs are dropped last. Everything
// dropped is returned with a reason.
func (p *Pool) Update(now time.Time, committed [][32]byte, touched [][20]byte, state func(sender [20]byte) AccountState) []Dropped {
	p.tick(now)
	done := make(map[[32]byte]bool, len(committed))
	pending := map[*account]int{} // committed txs still to take out
	var order []*account
	add := func(a *account) {
		if a == nil {
			return
		}
		if _, ok := pending[a]; !ok {
			pending[a] = 0
			order = append(order, a)
		}
	}
	for _, h := range committed {
		if e, ok := p.byHash[h]; ok && !done[h] {
			done[h] = true
			add(e.acct)
			pending[e.acct]++
		}
	}
	for _, s := range touched {
		add(p.accounts[s])
	}
	var dropped []Dropped
	for _, a := range order {
		dropped = p.revalidate(a, state(a.sender), done, pending[a], dropped)
		p.gc(a)
	}
	return append(dropped, p.expire()...)
}

func (p *Pool) revalidate(a *account, st AccountState, done map[[32]byte]bool, ndone int, out []Dropped) []Dropped {
	if st.Nonce > a.base {
		a.replaced = 0 // the sender paid for a tx
	}
	gone := func(e *entry) {
		if done[e.tx.Hash] {
			ndone--
			return
		}
		out = append(out, Dropped{e.tx, fmt.Sprintf("nonce too low: account nonce is %d", st.Nonce), false})
	}
	for len(a.ready) > 0 && a.ready[0].e.tx.Nonce < st.Nonce {
		gone(p.removeHead(a))
	}
	for len(a.parked) > 0 && a.parked[0].tx.Nonce < st.Nonce {
		e := a.parked[0]
		p.unplace(e)
		p.unindex(e)
		gone(e)
	}
	if ndone > 0 {
		// A committed tx at or past the committed nonce: the caller's state
		// and block disagree. Take it out anyway; what follows it waits
		// for the gap like any parked tx.
		var stray []*entry
		for k := a.len() - 1; k >= 0; k-- {
			if e := a.fromTail(k); done[e.tx.Hash] {
				stray = append(stray, e)
			}
		}
		for _, e := range stray {
			p.unplace(e)
			p.unindex(e)
		}
	}
	if len(a.ready) == 0 || a.base != st.Nonce {
		p.demoteFrom(a, 0)
		a.base = st.Nonce
		p.promote(a)
	}
	if a.total.Gt(st.Balance) {
		for a.len() > 0 && a.total.Gt(st.Balance) {
			need := a.total.Clone()
			e := p.removeTail(a)
			out = append(out, Dropped{e.tx, fmt.Sprintf("insufficient balance: %s, needed %s", st.Balance, need), false})
		}
	}
	p.fix(a)
	return out
}

// Expire drops the txs pending for longer than the TTL at time now, with
// their senders' later txs (they cannot be included without them).
func (p *Pool) Expire(now time.Time) []Dropped {
	p.tick(now)
	return p.expire()
}

func (p *Pool) expire() []Dropped {
	var out []Dropped
	for len(p.expiry) > 0 && !p.now.Before(p.expiry[0].expires) {
		e := p.expiry[0]
		a := e.acct
		for _, x := range p.removeFrom(a, e.tx.Nonce) {
			reason := fmt.Sprintf("expired: pending for more than %s", p.cfg.TTL)
			if x != e {
				reason = fmt.Sprintf("expired: needs nonce %d, which expired", e.tx.Nonce)
			}
			out = append(out, Dropped{x.tx, reason, false})
		}
		p.gc(a)
	}
	return out
}

// Remove drops one pending transaction and those of the same sender after
// it, returned in nonce order.
func (p *Pool) Remove(hash [32]byte) []*Tx {
	e, ok := p.byHash[hash]
	if !ok {
		return nil
	}
	a := e.acct
	gone := p.removeFrom(a, e.tx.Nonce)
	p.gc(a)
	out := make([]*Tx, len(gone))
	for i, x := range gone {
		out[i] = x.tx
	}
	return out
}

// ---- heaps ----

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
