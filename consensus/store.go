package consensus

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/weftnet/weft/mempool/journal"
)

// Key prefixes of the state. Everything under stateful prefixes is covered
// by the app hash; the mempool journal (package mempool/journal, prefix
// "j/") is local to the node.
var (
	prefixAccount  = []byte("a/")
	prefixRollup   = []byte("r/")
	prefixTxResult = []byte("x/")
	keyParams      = []byte("p/params")
	keyChainID     = []byte("p/chain_id")
	keyMeta        = []byte("m/meta") // height(8) || app hash
	// A block too large for one badger transaction is staged under
	// prefixCommit and marked by keyCommitMarker (see commitChunked).
	prefixCommit    = []byte("c/")
	keyCommitMarker = []byte("m/commit") // height(8) || app hash
)

// Store is the application's badger database.
type Store struct {
	db  *badger.DB
	log *slog.Logger
	// mu is held by a chunked commit while it applies a block in several
	// badger transactions; readers take it shared, so they see the state
	// before the block or after it, never between.
	mu sync.RWMutex
	// crashAfter names a chunked commit step to stop after (tests only).
	crashAfter string
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
		WithBlockCacheSize(32 << 20).WithIndexCacheSize(16 << 20).
		// Value log files are mapped sparse at twice this size: small files
		// bound the space mapped but not yet on disk (see node/disk.go).
		WithValueLogFileSize(64 << 20)
	if dir == "" {
		opts = opts.WithInMemory(true)
	}
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open state store %s: %w", dir, err)
	}
	s := &Store{db: db, log: logger}
	if err := s.recoverCommit(); err != nil {
		db.Close()
		return nil, fmt.Errorf("state store %s: %w", dir, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Get reads a committed value.
func (s *Store) Get(key []byte) (out []byte, ok bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
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

func (s *Store) snapshot() *snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return &snapshot{txn: s.db.NewTransaction(false)}
}

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
	s.mu.RLock()
	defer s.mu.RUnlock()
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
// deletions: a block is stored whole or not at all, as seen by readers and
// by a restart. A block that fits one badger transaction is written in one;
// a larger one (badger refuses a transaction of more than ~52k entries or
// ~4.8 MiB, and the block bounds admit more, see MaxBlockWrites) goes
// through commitChunked.
func (s *Store) Commit(ov *Overlay, height int64, appHash []byte, journalDel [][32]byte) error {
	if len(ov.writes)+len(journalDel) < singleTxnEntries && ov.size() < singleTxnBytes {
		err := s.db.Update(func(txn *badger.Txn) error {
			for k, v := range ov.writes {
				if err := txn.Set([]byte(k), v); err != nil {
					return err
				}
			}
			for _, h := range journalDel {
				if err := txn.Delete(journal.Key(h)); err != nil {
					return err
				}
			}
			return txn.Set(keyMeta, metaValue(height, appHash))
		})
		if !errors.Is(err, badger.ErrTxnTooBig) {
			return err
		}
	}
	return s.commitChunked(ov, height, appHash, journalDel)
}

// What Commit writes in one badger transaction; past either, it writes in
// chunks. Well inside badger's limits for the store's 32 MiB memtables.
const (
	singleTxnEntries = 20_000
	singleTxnBytes   = 2 << 20
)

// chunkBytes bounds one staged record of a chunked commit (plus one entry):
// under badger's value threshold (1 MiB), which an in-memory store cannot
// exceed.
const chunkBytes = 256 << 10

func metaValue(height int64, appHash []byte) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(height)), appHash...)
}

// commitChunked writes a block too large for one badger transaction, crash
// safe, in four steps:
//  1. stage: the block's writes and deletions, encoded in records of at most
//     chunkBytes under prefixCommit, in as many transactions as they need;
//  2. mark: one transaction writes keyCommitMarker (height, app hash): from
//     here the block is committed, whatever happens next;
//  3. apply: the staged writes go to their keys, in as many transactions as
//     they need;
//  4. finish: one transaction writes the meta record and removes the
//     marker; then the staged records are removed.
//
// A crash before 2 leaves staged records that the next open removes (the
// block is replayed by CometBFT, as for any crash before Commit); a crash
// after 2 is finished by the next open (recoverCommit) before anything reads
// the state. Readers (queries, the mempool's account reads) wait on s.mu
// from step 3 to step 4, so none sees half a block.
func (s *Store) commitChunked(ov *Overlay, height int64, appHash []byte, journalDel [][32]byte) error {
	keys := make([]string, 0, len(ov.writes))
	for k := range ov.writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	var rec []byte
	seq := uint64(0)
	put := func() error {
		if err := wb.Set(commitRecordKey(seq), rec); err != nil {
			return err
		}
		seq++
		rec = nil
		return nil
	}
	for _, k := range keys {
		rec = appendEntry(rec, opSet, []byte(k), ov.writes[k])
		if len(rec) >= chunkBytes {
			if err := put(); err != nil {
				return fmt.Errorf("stage block %d: %w", height, err)
			}
		}
	}
	for _, h := range journalDel {
		rec = appendEntry(rec, opDelete, journal.Key(h), nil)
		if len(rec) >= chunkBytes {
			if err := put(); err != nil {
				return fmt.Errorf("stage block %d: %w", height, err)
			}
		}
	}
	if len(rec) > 0 {
		if err := put(); err != nil {
			return fmt.Errorf("stage block %d: %w", height, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("stage block %d: %w", height, err)
	}
	if err := s.hook("staged"); err != nil {
		return err
	}
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(keyCommitMarker, metaValue(height, appHash))
	}); err != nil {
		return fmt.Errorf("mark block %d committed: %w", height, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finishCommit(height, appHash)
}

// finishCommit is steps 3 and 4 of commitChunked for the marked block,
// from its staged records; it is idempotent, so an open after a crash runs
// it again.
func (s *Store) finishCommit(height int64, appHash []byte) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	var recs [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixCommit})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			recs = append(recs, it.Item().KeyCopy(nil))
			err := it.Item().Value(func(rec []byte) error {
				return eachEntry(rec, func(op byte, k, v []byte) error {
					if op == opDelete {
						return wb.Delete(bytes.Clone(k))
					}
					return wb.Set(bytes.Clone(k), bytes.Clone(v))
				})
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = wb.Flush()
	}
	if err != nil {
		return fmt.Errorf("apply block %d: %w", height, err)
	}
	if err := s.hook("applied"); err != nil {
		return err
	}
	if err := s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(keyMeta, metaValue(height, appHash)); err != nil {
			return err
		}
		return txn.Delete(keyCommitMarker)
	}); err != nil {
		return fmt.Errorf("finish block %d: %w", height, err)
	}
	return s.dropStaged(recs)
}

// dropStaged removes a chunked commit's staged records.
func (s *Store) dropStaged(recs [][]byte) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range recs {
		if err := wb.Delete(k); err != nil {
			return err
		}
	}
	return wb.Flush()
}

// recoverCommit runs when the store opens: it finishes a chunked commit
// that was marked before a crash, or drops the records of one that was not.
func (s *Store) recoverCommit() error {
	v, ok, err := s.Get(keyCommitMarker)
	if err != nil {
		return err
	}
	if ok {
		if len(v) < 8 {
			return fmt.Errorf("state store: corrupt commit marker (%d bytes)", len(v))
		}
		height := int64(binary.BigEndian.Uint64(v[:8]))
		if err := s.finishCommit(height, v[8:]); err != nil {
			return err
		}
		s.log.Info("finished a block commit interrupted by a crash", "height", height)
		return nil
	}
	var recs [][]byte
	if err := s.Iterate(prefixCommit, func(k, _ []byte) error {
		recs = append(recs, k)
		return nil
	}); err != nil {
		return err
	}
	return s.dropStaged(recs)
}

func commitRecordKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), prefixCommit...), seq)
}

// A staged entry: op(1) || uvarint len(key) || key || uvarint len(value) || value.
const (
	opSet    byte = 1
	opDelete byte = 2
)

func appendEntry(rec []byte, op byte, k, v []byte) []byte {
	rec = append(rec, op)
	rec = binary.AppendUvarint(rec, uint64(len(k)))
	rec = append(rec, k...)
	rec = binary.AppendUvarint(rec, uint64(len(v)))
	return append(rec, v...)
}

func eachEntry(rec []byte, fn func(op byte, k, v []byte) error) error {
	for len(rec) > 0 {
		op := rec[0]
		rec = rec[1:]
		var parts [2][]byte
		for i := range parts {
			n, w := binary.Uvarint(rec)
			if w <= 0 || uint64(len(rec)-w) < n {
				return errors.New("state store: corrupt staged commit record")
			}
			parts[i], rec = rec[w:w+int(n)], rec[w+int(n):]
		}
		if err := fn(op, parts[0], parts[1]); err != nil {
			return err
		}
	}
	return nil
}

// hook is a test's way to stop a chunked commit after a step, as a crash
// would.
func (s *Store) hook(step string) error {
	if s.crashAfter == step {
		return fmt.Errorf("test: stopped after step %q", step)
	}
	return nil
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

// size is the bytes of the overlay's writes.
func (o *Overlay) size() int {
	n := 0
	for k, v := range o.writes {
		n += len(k) + len(v)
	}
	return n
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
