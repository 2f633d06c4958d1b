package mempool

import (
	"fmt"
	"slices"
	"time"
)

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
			out = append(out, Dropped{x.tx, reason, x.tx.Keep})
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
