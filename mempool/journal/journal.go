package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/weftnet/weft/mempool"
)

// Keys in the node's store:
//
//	prefixJournal + hash      → the tx's bytes
//	prefixDropped + hash      → seq (8) || reason
//	prefixDroppedOrder + seq  → hash
//	keyDroppedMeta            → first seq (8) || next seq (8)
var (
	prefixJournal      = []byte("j/")
	prefixDropped      = []byte("dh/")
	prefixDroppedOrder = []byte("dq/")
	keyDroppedMeta     = []byte("dm/meta")
)

// chunk bounds the reasons written in one badger transaction (each costs up
// to six entries with the eviction it causes), well inside badger's
// transaction limits; deletes go eight times as many at once.
const chunk = 1024

// Key is the store key of the journaled tx with hash h: the block commit
// deletes it in the block's own write.
func Key(h [32]byte) []byte { return append(append([]byte(nil), prefixJournal...), h[:]...) }

// Journal is the node's journal of acknowledged txs and its dropped-reason
// index. The index of journaled hashes is in memory (rebuilt at start from
// what is restored); the bytes and reasons are in the store. Safe for
// concurrent use; writes of reasons are serialised by the journal's lock.
type Journal struct {
	db         *badger.DB
	maxDropped int

	mu  sync.Mutex
	set map[[32]byte]struct{}
	max int // 0: no bound
}

// New returns the journal kept in db; it is Full at max journaled txs (0:
// never) and keeps the reasons of the last maxDropped dropped txs (none if
// maxDropped <= 0). Nothing is indexed until Restored is called for what
// Entries finds.
func New(db *badger.DB, max, maxDropped int) *Journal {
	return &Journal{db: db, maxDropped: maxDropped, set: map[[32]byte]struct{}{}, max: max}
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

// Put journals a tx before it is acknowledged: once Put returns, a crash
// does not lose it.
func (j *Journal) Put(h [32]byte, raw []byte) error {
	if err := j.db.Update(func(txn *badger.Txn) error { return txn.Set(Key(h), raw) }); err != nil {
		return err
	}
	j.Restored(h)
	return nil
}

// Remove takes a journaled tx out of the index and the store, with no
// reason recorded: for a tx whose nonce a block used between the tx's
// insertion in the mempool and its Put, which the block commit could not
// see.
func (j *Journal) Remove(h [32]byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.set, h)
	return j.db.Update(func(txn *badger.Txn) error { return txn.Delete(Key(h)) })
}

// Restored indexes a tx found in the store at start and put back in the
// mempool.
func (j *Journal) Restored(h [32]byte) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.set[h] = struct{}{}
}

// Entries calls fn with every journaled tx in the store, in key order.
func (j *Journal) Entries(fn func(h [32]byte, raw []byte) error) error {
	return j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixJournal, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) != len(prefixJournal)+32 {
				continue // not ours
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if err := fn([32]byte(k[len(prefixJournal):]), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Committed takes the journaled txs among a committed block's hashes out
// of the index and returns them: the block commit deletes their entries
// (Key) in the block's own write.
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

// Record is why the tx with Hash left the mempool unincluded.
type Record struct {
	Hash   [32]byte
	Reason string
}

// Forget records why the dropped txs left the mempool and deletes the
// journal entries of those that can no longer be included. A tx evicted
// for room is not invalid: an acknowledged one stays journaled, so a
// restart offers it again.
func (j *Journal) Forget(dropped []mempool.Dropped) error {
	if len(dropped) == 0 {
		return nil
	}
	recs := make([]Record, len(dropped))
	for i, d := range dropped {
		recs[i] = Record{d.Tx.Hash, d.Reason}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var del [][32]byte
	for _, d := range dropped {
		if _, ok := j.set[d.Tx.Hash]; ok && !d.Evicted {
			del = append(del, d.Tx.Hash)
			delete(j.set, d.Tx.Hash)
		}
	}
	return j.persist(recs, del)
}

// Drop records the reasons of txs found in the store that cannot be
// restored (they were never indexed) and deletes their journal entries.
func (j *Journal) Drop(recs []Record) error {
	del := make([][32]byte, len(recs))
	for i, r := range recs {
		del[i] = r.Hash
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.persist(recs, del)
}

// persist stores recs (a hash recorded again keeps its place in the queue
// and takes the new reason), evicts the oldest reasons beyond maxDropped,
// then deletes del from the journal. Called under j.mu.
func (j *Journal) persist(recs []Record, del [][32]byte) error {
	for len(recs) > 0 && j.maxDropped > 0 {
		n := min(len(recs), chunk)
		if err := j.db.Update(func(txn *badger.Txn) error { return putDropped(txn, recs[:n], uint64(j.maxDropped)) }); err != nil {
			return fmt.Errorf("record dropped txs: %w", err)
		}
		recs = recs[n:]
	}
	for len(del) > 0 {
		n := min(len(del), 8*chunk)
		err := j.db.Update(func(txn *badger.Txn) error {
			for _, h := range del[:n] {
				if err := txn.Delete(Key(h)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("prune mempool journal: %w", err)
		}
		del = del[n:]
	}
	return nil
}

func droppedKey(h [32]byte) []byte { return append(append([]byte(nil), prefixDropped...), h[:]...) }

func droppedOrderKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), prefixDroppedOrder...), seq)
}

func putDropped(txn *badger.Txn, recs []Record, max uint64) error {
	var first, next uint64
	meta, ok, err := get(txn, keyDroppedMeta)
	if err != nil {
		return err
	}
	if ok {
		if len(meta) != 16 {
			return fmt.Errorf("corrupt dropped-tx meta record (%d bytes)", len(meta))
		}
		first, next = binary.BigEndian.Uint64(meta), binary.BigEndian.Uint64(meta[8:])
	}
	for _, r := range recs {
		seq := next
		old, ok, err := get(txn, droppedKey(r.Hash))
		if err != nil {
			return err
		}
		if ok && len(old) >= 8 {
			seq = binary.BigEndian.Uint64(old)
		} else {
			if err := txn.Set(droppedOrderKey(seq), r.Hash[:]); err != nil {
				return err
			}
			next++
		}
		if err := txn.Set(droppedKey(r.Hash), append(binary.BigEndian.AppendUint64(nil, seq), r.Reason...)); err != nil {
			return err
		}
	}
	for ; next-first > max; first++ {
		h, ok, err := get(txn, droppedOrderKey(first))
		if err != nil {
			return err
		}
		if !ok {
			continue // already gone
		}
		if err := txn.Delete(droppedOrderKey(first)); err != nil {
			return err
		}
		if len(h) == 32 {
			if err := txn.Delete(droppedKey([32]byte(h))); err != nil {
				return err
			}
		}
	}
	return txn.Set(keyDroppedMeta, binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, first), next))
}

// Reason reads why the tx with hash h was dropped, if it is among the
// reasons kept.
func (j *Journal) Reason(h [32]byte) (string, bool, error) {
	var v []byte
	var ok bool
	err := j.db.View(func(txn *badger.Txn) error {
		var err error
		v, ok, err = get(txn, droppedKey(h))
		return err
	})
	if err != nil || !ok {
		return "", false, err
	}
	if len(v) < 8 {
		return "", false, errors.New("corrupt dropped-tx record")
	}
	return string(v[8:]), true, nil
}

func get(txn *badger.Txn, key []byte) ([]byte, bool, error) {
	it, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v, err := it.ValueCopy(nil)
	return v, err == nil, err
}
