package mempool

import "sync"

// Mempool is the thread-safe wrapper around Pool that the application uses:
// CometBFT calls InsertTx and ReapTxs concurrently with consensus.
type Mempool struct {
	mu   sync.Mutex
	pool *Pool
}

// New returns an empty Mempool.
func New(cfg Config) *Mempool { return &Mempool{pool: NewPool(cfg)} }

// Insert adds tx. state is read under the mempool lock so the check and the
// insert are atomic with respect to Update.
func (m *Mempool) Insert(tx *Tx, state func() AccountState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pool.Has(tx.Hash) {
		return ErrAlreadyKnown
	}
	return m.pool.Insert(tx, state())
}

// Get returns the pending tx with hash, or nil.
func (m *Mempool) Get(hash [32]byte) *Tx {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pool.Get(hash)
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

// Candidates is Pool.Candidates under the lock.
func (m *Mempool) Candidates(limit int) []*Tx {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pool.Candidates(limit)
}

// Update is Pool.Update under the lock.
func (m *Mempool) Update(committed [][32]byte, state func(sender [20]byte) AccountState) []Dropped {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pool.Update(committed, state)
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
