package mempool

import (
	"container/heap"
	"slices"
)

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
