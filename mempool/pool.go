package mempool

import (
	"container/list"
	"errors"
	"fmt"

	"github.com/holiman/uint256"
)

// Tx is a transaction as the mempool sees it.
type Tx struct {
	Hash   [32]byte
	Raw    []byte
	Sender [20]byte
	Nonce  uint64
	// Cost is the most the tx can take from the sender's balance (fee limit
	// plus transferred amounts).
	Cost *uint256.Int
	// Payload is the decoded transaction, opaque to the mempool.
	Payload any
	// Gossip queues the tx for broadcast to peers (TakeGossip).
	Gossip bool
}

// Errors returned by Insert. Callers map them to result codes.
var (
	ErrAlreadyKnown      = errors.New("transaction already in mempool")
	ErrNonceTooLow       = errors.New("nonce too low")
	ErrNoncePending      = errors.New("a transaction with this nonce is already pending")
	ErrNonceGap          = errors.New("nonce too high: earlier nonces missing")
	ErrInsufficientFunds = errors.New("insufficient balance for this and pending transactions")
	ErrFull              = errors.New("mempool full")
)

// Config bounds the pool.
type Config struct {
	MaxTxs   int
	MaxBytes int64
}

// AccountState is an account's committed nonce and balance.
type AccountState struct {
	Nonce   uint64
	Balance *uint256.Int
}

type entry struct {
	tx   *Tx
	elem *list.Element // in Pool.fifo
}

type account struct {
	txs []*entry // consecutive nonces, ascending
}

// Pool is the pure mempool core.
type Pool struct {
	cfg      Config
	byHash   map[[32]byte]*entry
	accounts map[[20]byte]*account
	fifo     *list.List // *entry in arrival order
	gossip   []*entry
	bytes    int64
}

// NewPool returns an empty pool.
func NewPool(cfg Config) *Pool {
	return &Pool{
		cfg:      cfg,
		byHash:   map[[32]byte]*entry{},
		accounts: map[[20]byte]*account{},
		fifo:     list.New(),
	}
}

// Len is the number of pending transactions.
func (p *Pool) Len() int { return len(p.byHash) }

// Bytes is the total size of pending transactions.
func (p *Pool) Bytes() int64 { return p.bytes }

// Has reports whether the pool holds hash.
func (p *Pool) Has(hash [32]byte) bool { _, ok := p.byHash[hash]; return ok }

// Get returns the pending tx with hash, or nil.
func (p *Pool) Get(hash [32]byte) *Tx {
	if e, ok := p.byHash[hash]; ok {
		return e.tx
	}
	return nil
}

// NextNonce returns the nonce the sender's next transaction must carry,
// counting pending transactions on top of the committed state.
func (p *Pool) NextNonce(sender [20]byte, committed uint64) uint64 {
	if a := p.accounts[sender]; a != nil && len(a.txs) > 0 {
		return a.txs[len(a.txs)-1].tx.Nonce + 1
	}
	return committed
}

// Insert adds tx given the sender's committed state. Pending transactions of
// a sender carry consecutive nonces starting at the committed nonce; their
// summed cost never exceeds the committed balance.
func (p *Pool) Insert(tx *Tx, st AccountState) error {
	if _, ok := p.byHash[tx.Hash]; ok {
		return ErrAlreadyKnown
	}
	if tx.Nonce < st.Nonce {
		return fmt.Errorf("%w: account nonce is %d, tx has %d", ErrNonceTooLow, st.Nonce, tx.Nonce)
	}
	a := p.accounts[tx.Sender]
	next := p.NextNonce(tx.Sender, st.Nonce)
	if tx.Nonce < next {
		return fmt.Errorf("%w (nonce %d)", ErrNoncePending, tx.Nonce)
	}
	if tx.Nonce > next {
		return fmt.Errorf("%w: expected %d, tx has %d", ErrNonceGap, next, tx.Nonce)
	}
	spent := new(uint256.Int)
	if a != nil {
		for _, e := range a.txs {
			spent.Add(spent, e.tx.Cost)
		}
	}
	total, overflow := new(uint256.Int).AddOverflow(spent, tx.Cost)
	if overflow || total.Gt(st.Balance) {
		return fmt.Errorf("%w: balance %s, needed %s", ErrInsufficientFunds, st.Balance, total)
	}
	size := int64(len(tx.Raw))
	if p.cfg.MaxTxs > 0 && len(p.byHash) >= p.cfg.MaxTxs {
		return fmt.Errorf("%w: %d transactions pending", ErrFull, len(p.byHash))
	}
	if p.cfg.MaxBytes > 0 && p.bytes+size > p.cfg.MaxBytes {
		return fmt.Errorf("%w: %d bytes pending", ErrFull, p.bytes)
	}
	if a == nil {
		a = &account{}
		p.accounts[tx.Sender] = a
	}
	e := &entry{tx: tx}
	e.elem = p.fifo.PushBack(e)
	a.txs = append(a.txs, e)
	p.byHash[tx.Hash] = e
	p.bytes += size
	if tx.Gossip {
		p.gossip = append(p.gossip, e)
	}
	return nil
}

// TakeGossip returns transactions accepted since the last call and still
// pending, up to maxBytes of them (at least one), for the node to broadcast to
// its peers once.
func (p *Pool) TakeGossip(maxBytes int64) []*Tx {
	var out []*Tx
	var n int64
	i := 0
	for ; i < len(p.gossip); i++ {
		e := p.gossip[i]
		// The entry, not just the hash, must still be pending: a tx removed
		// and accepted again has a newer entry and is gossiped once.
		if p.byHash[e.tx.Hash] != e {
			continue
		}
		tx := e.tx
		if len(out) > 0 && maxBytes > 0 && n+int64(len(tx.Raw)) > maxBytes {
			break
		}
		out = append(out, tx)
		n += int64(len(tx.Raw))
	}
	rest := copy(p.gossip, p.gossip[i:])
	clear(p.gossip[rest:])
	p.gossip = p.gossip[:rest]
	return out
}

// Candidates returns pending transactions for a block, in arrival order,
// each sender's in nonce order. The block builder still checks each one
// against the state it builds on.
func (p *Pool) Candidates(limit int) []*Tx {
	out := make([]*Tx, 0, min(limit, p.fifo.Len()))
	for el := p.fifo.Front(); el != nil && len(out) < limit; el = el.Next() {
		out = append(out, el.Value.(*entry).tx)
	}
	return out
}

// Dropped is a transaction removed because it can no longer be included.
type Dropped struct {
	Tx     *Tx
	Reason string
}

// Update removes transactions committed in a block, then re-validates every
// account touched by the block or still pending against its new committed
// state: stale nonces are dropped, and a sender whose balance no longer
// covers a tx loses that tx and the ones after it. It returns what was
// dropped so callers can report it rather than lose it silently.
func (p *Pool) Update(committed [][32]byte, state func(sender [20]byte) AccountState) []Dropped {
	for _, h := range committed {
		if e, ok := p.byHash[h]; ok {
			p.remove(e)
		}
	}
	var dropped []Dropped
	for sender, a := range p.accounts {
		st := state(sender)
		keep := a.txs[:0]
		spent := new(uint256.Int)
		var reason string
		expect := st.Nonce
		for _, e := range a.txs {
			switch {
			case reason != "":
			case e.tx.Nonce < st.Nonce:
				dropped = append(dropped, Dropped{e.tx, fmt.Sprintf("nonce too low: account nonce is %d", st.Nonce)})
				p.unlink(e)
				continue
			case e.tx.Nonce != expect:
				reason = fmt.Sprintf("nonce gap: expected %d", expect)
			default:
				total, overflow := new(uint256.Int).AddOverflow(spent, e.tx.Cost)
				if overflow || total.Gt(st.Balance) {
					reason = fmt.Sprintf("insufficient balance: %s, needed %s", st.Balance, total)
				} else {
					spent = total
				}
			}
			if reason != "" {
				dropped = append(dropped, Dropped{e.tx, reason})
				p.unlink(e)
				continue
			}
			expect++
			keep = append(keep, e)
		}
		clear(a.txs[len(keep):])
		a.txs = keep
		if len(a.txs) == 0 {
			delete(p.accounts, sender)
		}
	}
	return dropped
}

// Remove drops one pending transaction and those of the same sender after it.
func (p *Pool) Remove(hash [32]byte) []*Tx {
	e, ok := p.byHash[hash]
	if !ok {
		return nil
	}
	a := p.accounts[e.tx.Sender]
	var out []*Tx
	for i, x := range a.txs {
		if x == e {
			for _, y := range a.txs[i:] {
				out = append(out, y.tx)
				p.unlink(y)
			}
			clear(a.txs[i:])
			a.txs = a.txs[:i]
			break
		}
	}
	if len(a.txs) == 0 {
		delete(p.accounts, e.tx.Sender)
	}
	return out
}

// remove takes a committed tx out; it is always the first of its sender's.
func (p *Pool) remove(e *entry) {
	a := p.accounts[e.tx.Sender]
	for i, x := range a.txs {
		if x == e {
			a.txs = append(a.txs[:i], a.txs[i+1:]...)
			break
		}
	}
	if len(a.txs) == 0 {
		delete(p.accounts, e.tx.Sender)
	}
	p.unlink(e)
}

// unlink removes e from the indexes but not from its account's slice.
func (p *Pool) unlink(e *entry) {
	delete(p.byHash, e.tx.Hash)
	p.fifo.Remove(e.elem)
	p.bytes -= int64(len(e.tx.Raw))
}
