package consensus

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"github.com/dgraph-io/badger/v4"
)

// Key prefixes of the state. Everything under stateful prefixes is covered
// by the app hash; the mempool journal (prefix "j/") is local to the node.
var (
	prefixAccount  = []byte("a/")
	prefixRollup   = []byte("r/")
	prefixTxResult = []byte("x/")
	keyParams      = []byte("p/params")
	keyChainID     = []byte("p/chain_id")
	prefixJournal  = []byte("j/")
	keyMeta        = []byte("m/meta") // height(8) || app hash
)

// Store is the application's badger database.
type Store struct {
	db *badger.DB
}

type slogBadger struct{ l *slog.Logger }

func (s slogBadger) Errorf(f string, a ...any)   { s.l.Error(fmt.Sprintf(f, a...)) }
func (s slogBadger) Warningf(f string, a ...any) { s.l.Warn(fmt.Sprintf(f, a...)) }
func (s slogBadger) Infof(string, ...any)        {}
func (s slogBadger) Debugf(string, ...any)       {}

// OpenStore opens (or creates) the store in dir; an empty dir means in memory.
func OpenStore(dir string, logger *slog.Logger) (*Store, error) {
	opts := badger.DefaultOptions(dir).WithLogger(slogBadger{logger}).
		WithNumVersionsToKeep(1).WithMemTableSize(32 << 20).WithNumMemtables(3).
		WithBlockCacheSize(32 << 20).WithIndexCacheSize(16 << 20)
	if dir == "" {
		opts = opts.WithInMemory(true)
	}
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open state store %s: %w", dir, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Get reads a committed value.
func (s *Store) Get(key []byte) (out []byte, ok bool, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		out, ok, err = getIn(txn, key)
		return err
	})
	return out, ok, err
}

// getIn reads key in txn; a missing key is not an error.
func getIn(txn *badger.Txn, key []byte) ([]byte, bool, error) {
	it, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out, err := it.ValueCopy(nil)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// snapshot reads committed state in one badger read transaction, for a
// block's worth of reads: Get opens a transaction per read, which costs more
// than the read. Discard it when done.
type snapshot struct{ txn *badger.Txn }

func (s *Store) snapshot() *snapshot { return &snapshot{txn: s.db.NewTransaction(false)} }

func (s *snapshot) Get(key []byte) ([]byte, bool, error) { return getIn(s.txn, key) }

func (s *snapshot) discard() { s.txn.Discard() }

// Meta returns the last committed height and app hash.
func (s *Store) Meta() (int64, []byte, error) {
	v, ok, err := s.Get(keyMeta)
	if err != nil || !ok {
		return 0, nil, err
	}
	if len(v) < 8 {
		return 0, nil, fmt.Errorf("state store: corrupt meta record (%d bytes)", len(v))
	}
	return int64(binary.BigEndian.Uint64(v[:8])), v[8:], nil
}

// Iterate calls fn for every committed key with prefix.
func (s *Store) Iterate(prefix []byte, fn func(k, v []byte) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if err := fn(it.Item().KeyCopy(nil), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Commit writes the overlay's changes, the new meta record and journal
// deletions in one badger transaction: a block is stored whole or not at all.
func (s *Store) Commit(ov *Overlay, height int64, appHash []byte, journalDel [][32]byte) error {
	return s.db.Update(func(txn *badger.Txn) error {
		for k, v := range ov.writes {
			if err := txn.Set([]byte(k), v); err != nil {
				return err
			}
		}
		for _, h := range journalDel {
			if err := txn.Delete(journalKey(h)); err != nil {
				return err
			}
		}
		meta := binary.BigEndian.AppendUint64(nil, uint64(height))
		return txn.Set(keyMeta, append(meta, appHash...))
	})
}

func journalKey(h [32]byte) []byte { return append(append([]byte(nil), prefixJournal...), h[:]...) }

// JournalPut records a tx accepted into the mempool so a restart keeps it.
func (s *Store) JournalPut(h [32]byte, raw []byte) error {
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set(journalKey(h), raw) })
}

// JournalDelete forgets journaled txs.
func (s *Store) JournalDelete(hs [][32]byte) error {
	if len(hs) == 0 {
		return nil
	}
	return s.db.Update(func(txn *badger.Txn) error {
		for _, h := range hs {
			if err := txn.Delete(journalKey(h)); err != nil {
				return err
			}
		}
		return nil
	})
}

// reader is what an overlay reads through to.
type reader interface {
	Get(key []byte) ([]byte, bool, error)
}

// Overlay buffers writes on top of a reader. Block execution runs on an
// overlay over the committed store; a transaction runs on a child overlay
// that is merged into its parent only when the whole tx succeeds.
type Overlay struct {
	base   reader
	writes map[string][]byte
	// reads caches what the root overlay read from the store: a block reads
	// the same accounts, rollups and pool many times.
	reads map[string]cached
}

type cached struct {
	v  []byte
	ok bool
}

// NewOverlay returns an empty overlay over base.
func NewOverlay(base reader) *Overlay {
	o := &Overlay{base: base, writes: map[string][]byte{}}
	switch base.(type) {
	case *Store, *snapshot:
		o.reads = map[string]cached{}
	}
	return o
}

// Get reads key, seeing this overlay's writes first.
func (o *Overlay) Get(key []byte) ([]byte, bool, error) {
	if v, ok := o.writes[string(key)]; ok {
		return v, true, nil
	}
	if o.reads == nil {
		return o.base.Get(key)
	}
	if c, ok := o.reads[string(key)]; ok {
		return c.v, c.ok, nil
	}
	v, ok, err := o.base.Get(key)
	if err == nil {
		o.reads[string(key)] = cached{v, ok}
	}
	return v, ok, err
}

// Set buffers a write.
func (o *Overlay) Set(key, value []byte) { o.writes[string(key)] = value }

// Child returns an overlay on top of o.
func (o *Overlay) Child() *Overlay { return NewOverlay(o) }

// MergeInto copies o's writes into its parent.
func (o *Overlay) MergeInto(parent *Overlay) {
	for k, v := range o.writes {
		parent.writes[k] = v
	}
}

// Hash commits to the overlay's writes: sha256 over the sorted (key, value)
// pairs, length-prefixed.
func (o *Overlay) Hash() []byte {
	keys := make([]string, 0, len(o.writes))
	for k := range o.writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	var n [8]byte
	for _, k := range keys {
		binary.BigEndian.PutUint64(n[:], uint64(len(k)))
		h.Write(n[:])
		h.Write([]byte(k))
		v := o.writes[k]
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write(v)
	}
	return h.Sum(nil)
}

// NextAppHash chains the app hash: sha256(prev || height || changes). By
// induction it commits to the whole state, since every state change of every
// height, and the genesis state, is folded into it in order.
func NextAppHash(prev []byte, height int64, changes []byte) []byte {
	h := sha256.New()
	h.Write([]byte("weft/apphash/v1"))
	h.Write(prev)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(height))
	h.Write(n[:])
	h.Write(changes)
	return h.Sum(nil)
}
