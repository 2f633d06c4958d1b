package mempool

import (
	"sync"
	"sync/atomic"
	"time"
)

// Mempool is the thread-safe wrapper around Pool that the application uses:
// CometBFT calls InsertTx and ReapTxs concurrently with consensus.
type Mempool struct {
	mu   sync.Mutex
	pool *Pool
	// updates counts Update calls (written under mu): Insert reads the
	// sender's state before taking the lock and reads it again only if a
	// block was committed in between.
	updates atomic.Uint64
}

// New returns an empty Mempool.
func New(cfg Config) *Mempool { return &Mempool{pool: NewPool(cfg)} }

// Insert adds tx at time now. The check against state and the insert are
// atomic with respect to Update: state (a store read) is called before the
// lock is taken, so that inserts do not hold up block building, and called
// again under the lock if an Update ran in between.
func (m *Mempool) Insert(tx *Tx, state func() AccountState, now time.Time) (Inserted, error) {
	return m.insert(tx, state, now, (*Pool).Insert)
}

// Restore is Pool.Restore with Insert's locking: for txs this node
// acknowledged before a restart.
func (m *Mempool) Restore(tx *Tx, state func() AccountState, now time.Time) (Inserted, error) {
	return m.insert(tx, state, now, (*Pool).Restore)
}

func (m *Mempool) insert(tx *Tx, state func() AccountState, now time.Time, insert func(*Pool, *Tx, AccountState, time.Time) (Inserted, error)) (Inserted, error) {
	if m.Has(tx.Hash) {
		return Inserted{}, ErrAlreadyKnown // without reading state
	}
	seen := m.updates.Load()
	st := state()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pool.Has(tx.Hash) {
		return Inserted{}, ErrAlreadyKnown
	}
	if m.updates.Load() != seen {
		st = state()
	}
	return insert(m.pool, tx, st, now)
}

// Has reports whether a tx with hash is pending: a map lookup under the
// lock, so a gossiped tx can be recognised before it is decoded.
func (m *Mempool) Has(hash [32]byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pool.Has(hash)
}

// Get returns the pending tx with hash, or nil.
func (m *Mempool) Get(hash [32]byte) *Tx {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pool.Get(hash)
}

// Payloads calls fn(i, payload) for each hashes[i] that is pending, under
// one lock; fn must not call the Mempool.
func (m *Mempool) Payloads(hashes [][32]byte, fn func(i int, payload any)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, h := range hashes {
		if tx := m.pool.Get(h); tx != nil {
			fn(i, tx.Payload)
		}
	}
}

// ParkedLen is Pool.ParkedLen under the lock.
func (m *Mempool) ParkedLen() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pool.ParkedLen()
}

// IsParked is Pool.IsParked under the lock.
func (m *Mempool) IsParked(hash [32]byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pool.IsParked(hash)
}

// NextNonce is Pool.NextNonce under the lock.
func (m *Mempool) NextNonce(sender [20]byte, committed uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pool.NextNonce(sender, committed)
}

// TakeGossip is Pool.TakeGossip under the lock.
func (m *Mempool) TakeGossip(maxBytes int64) []*Tx {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pool.TakeGossip(maxBytes)
}

// Build is Pool.Build with the lock held for the whole build, so the
// builder sees one consistent pool; take must not call the Mempool.
func (m *Mempool) Build(maxBytes int64, take func(*Tx) Verdict) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pool.Build(maxBytes, take)
}

// BuildPayloads is Pool.BuildPayloads with the lock held for the whole
// build; take must not call the Mempool.
func (m *Mempool) BuildPayloads(maxBytes int64, take func(payload any) Verdict) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pool.BuildPayloads(maxBytes, take)
}

// Pending is Pool.Pending under the lock.
func (m *Mempool) Pending(limit int) []*Tx {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pool.Pending(limit)
}

// Update is Pool.Update under the lock.
func (m *Mempool) Update(now time.Time, committed [][32]byte, touched [][20]byte, state func(sender [20]byte) AccountState) []Dropped {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.updates.Add(1)
	return m.pool.Update(now, committed, touched, state)
}

// Expire is Pool.Expire under the lock.
func (m *Mempool) Expire(now time.Time) []Dropped {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pool.Expire(now)
}

// Remove is Pool.Remove under the lock.
func (m *Mempool) Remove(hash [32]byte) []*Tx {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pool.Remove(hash)
}

// Size returns the number of pending txs and their bytes.
func (m *Mempool) Size() (int, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pool.Len(), m.pool.Bytes()
}
