package mempool

import "sync"

// Journal is the index of the mempool journal: the txs this node
// acknowledged to a client and has not yet seen committed or found
// impossible to include. The journal's bytes live in the node's store,
// written before the tx is acknowledged and deleted in the same write as
// the block that commits it, so an acknowledged tx survives a crash; the
// index decides which entries go, and bounds how many acknowledged txs the
// node keeps (Full). Safe for concurrent use.
type Journal struct {
	mu  sync.Mutex
	set map[[32]byte]struct{}
	max int // 0: no bound
}

// NewJournal returns an empty index that is Full at max entries (0: never).
func NewJournal(max int) *Journal {
	return &Journal{set: map[[32]byte]struct{}{}, max: max}
}

// Len is the number of journaled txs.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.set)
}

// Full reports whether the node keeps as many acknowledged txs as it may:
// a client's tx is then refused (retryably) rather than acknowledged.
func (j *Journal) Full() (bool, int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.max > 0 && len(j.set) >= j.max, len(j.set)
}

// Add indexes a tx written to the store's journal (acknowledged now, or
// found there at start and restored).
func (j *Journal) Add(h [32]byte) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.set[h] = struct{}{}
}

// Committed takes the journaled txs among a committed block's hashes out
// of the index and returns them: the store deletes them in the block's own
// write.
func (j *Journal) Committed(hashes [][32]byte) [][32]byte {
	j.mu.Lock()
	defer j.mu.Unlock()
	var del [][32]byte
	for _, h := range hashes {
		if _, ok := j.set[h]; ok {
			del = append(del, h)
			delete(j.set, h)
		}
	}
	return del
}

// Forget takes out of the index the journaled txs of dropped that can no
// longer be included and calls persist with them (the store records every
// dropped tx's reason and deletes those entries), under the index's lock,
// which serialises persist's writes. A tx evicted for room is not invalid:
// an acknowledged one stays journaled, so a restart offers it again.
func (j *Journal) Forget(dropped []Dropped, persist func(del [][32]byte) error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var del [][32]byte
	for _, d := range dropped {
		if _, ok := j.set[d.Tx.Hash]; ok && !d.Evicted {
			del = append(del, d.Tx.Hash)
			delete(j.set, d.Tx.Hash)
		}
	}
	return persist(del)
}
