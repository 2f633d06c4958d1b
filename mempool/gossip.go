package mempool

// Gossip queues the pending tx with hash for broadcast (TakeGossip), as if
// it had been inserted with Tx.Gossip: a node gossips a client's tx only
// once it has journaled it, so a tx whose journal write failed (and whose
// client was told so) does not leave the node. It reports whether the tx
// is pending.
func (m *Mempool) Gossip(hash [32]byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.pool.byHash[hash]
	if !ok {
		return false
	}
	m.pool.gossip = append(m.pool.gossip, e)
	return true
}
