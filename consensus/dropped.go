package consensus

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Why txs left the mempool unincluded is kept in the store, like the
// journal local to the node and outside the app hash, so that a tx's status
// survives a restart. The reasons form a queue bounded by Config.MaxDropped,
// oldest evicted first:
//
//	prefixDropped + hash      → seq (8) || reason
//	prefixDroppedOrder + seq  → hash
//	keyDroppedMeta            → first seq (8) || next seq (8)
//
// Writers are serialised by the caller (mempool.Journal.Forget, or
// loadJournal before the node serves anything).
var (
	prefixDropped      = []byte("dh/")
	prefixDroppedOrder = []byte("dq/")
	keyDroppedMeta     = []byte("dm/meta")
)

// droppedChunk bounds the reasons written in one badger transaction (each
// costs up to six entries with the eviction it causes), well inside
// badger's transaction limits.
const droppedChunk = 1024

// droppedRecord is why the tx with hash left the mempool.
type droppedRecord struct {
	hash   [32]byte
	reason string
}

func droppedKey(h [32]byte) []byte { return append(append([]byte(nil), prefixDropped...), h[:]...) }

func droppedOrderKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), prefixDroppedOrder...), seq)
}

// recordDropped stores recs (a hash recorded again keeps its place in the
// queue and takes the new reason), evicts the oldest reasons beyond max (no
// reasons are kept if max <= 0), then deletes journalDel from the journal.
func (s *Store) recordDropped(recs []droppedRecord, max int, journalDel [][32]byte) error {
	for len(recs) > 0 && max > 0 {
		n := min(len(recs), droppedChunk)
		if err := s.db.Update(func(txn *badger.Txn) error { return putDropped(txn, recs[:n], uint64(max)) }); err != nil {
			return fmt.Errorf("record dropped txs: %w", err)
		}
		recs = recs[n:]
	}
	for len(journalDel) > 0 {
		n := min(len(journalDel), 8*droppedChunk)
		if err := s.JournalDelete(journalDel[:n]); err != nil {
			return fmt.Errorf("prune mempool journal: %w", err)
		}
		journalDel = journalDel[n:]
	}
	return nil
}

func putDropped(txn *badger.Txn, recs []droppedRecord, max uint64) error {
	var first, next uint64
	meta, ok, err := getIn(txn, keyDroppedMeta)
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
		old, ok, err := getIn(txn, droppedKey(r.hash))
		if err != nil {
			return err
		}
		if ok && len(old) >= 8 {
			seq = binary.BigEndian.Uint64(old)
		} else {
			if err := txn.Set(droppedOrderKey(seq), r.hash[:]); err != nil {
				return err
			}
			next++
		}
		if err := txn.Set(droppedKey(r.hash), append(binary.BigEndian.AppendUint64(nil, seq), r.reason...)); err != nil {
			return err
		}
	}
	for ; next-first > max; first++ {
		h, ok, err := getIn(txn, droppedOrderKey(first))
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

// droppedReason reads why the tx with hash h was dropped.
func (s *Store) droppedReason(h [32]byte) (string, bool, error) {
	var v []byte
	var ok bool
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		v, ok, err = getIn(txn, droppedKey(h))
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
