package mempool

import (
	"errors"
	"fmt"
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
	// Keep marks a tx the node acknowledged to a client (and journaled):
	// it never expires (Config.TTL), since it may only leave unincluded
	// when it can no longer be included; dropped because an earlier nonce
	// expired, it is reported as Evicted (not invalid: the journal keeps
	// it).
	Keep bool
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
