package consensus

import (
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/mempool"
	"github.com/weftnet/weft/rollups"
)

// proposal is the block builder, a pure core driven step by step: over a
// view of the state (an Overlay on any reader) and the params, it is
// offered candidate txs one at a time (take says include, skip or stop)
// and returns the block (finish). The txs chosen so far are checked on a
// ledger over the block's overlay — the one rule set (charge, applyTx) —
// and their rollups' commitment trees are hashed as they come.
// PrepareProposal drives it from the mempool's block order.
type proposal struct {
	led      *ledger
	ov       *Overlay
	height   int64
	maxBytes int64
	used     int64 // encoded size of chosen
	budget   blockBudget
	chosen   []*Tx
	raws     [][]byte    // the block: the commitment item's place, then chosen's bytes
	present  rollupIndex // rollups with data in chosen, numbered for leaves
	leaves   leafHasher
	fee      uint256.Int // scratch
}

// newProposal starts a block of at most maxBytes from a mempool holding
// pending txs of size bytes in all.
func newProposal(ov *Overlay, params *Params, height, maxBytes int64, pending int, size int64) *proposal {
	// Room for as many txs of the mempool's average size as fit, so the
	// lists do not grow (and get copied) while tens of thousands are added.
	capacity := pending
	if size > 0 {
		capacity = int(min(int64(pending), maxBytes/max(size/int64(pending), 1)+16))
	}
	return &proposal{
		led: newLedger(view{ov}, params, capacity), ov: ov, height: height, maxBytes: maxBytes,
		chosen: make([]*Tx, 0, capacity), raws: make([][]byte, 1, capacity+1),
	}
}

// take is the mempool's block builder callback: it includes tx when it
// fits next to the commitment item and is valid on top of the txs before
// it.
func (b *proposal) take(payload any) mempool.Verdict {
	tx := payload.(*Tx)
	if !b.budget.fits(tx) {
		if b.budget.full() {
			return mempool.Stop
		}
		return mempool.Skip
	}
	sz := protoTxSize(len(tx.Raw))
	newIDs := 0
	for _, id := range tx.Rollups {
		if _, ok := b.present.find(id); !ok {
			newIDs++
		}
	}
	if b.used+sz+commitmentReserve(len(b.present.ids)+newIDs) > b.maxBytes {
		if b.used+protoTxSize(minTxBytes)+commitmentReserve(len(b.present.ids)) > b.maxBytes {
			return mempool.Stop
		}
		return mempool.Skip
	}
	if rej := b.led.applyTx(b.ov, tx, b.height, &b.fee); rej != nil {
		return mempool.Skip
	}
	for i, id := range tx.Rollups {
		k, ok := b.present.find(id)
		if !ok {
			k = b.present.add(id)
		}
		b.leaves.add(k, tx.Leaves[i])
	}
	b.budget.add(tx)
	b.chosen = append(b.chosen, tx)
	b.raws = append(b.raws, tx.Raw)
	b.used += sz
	return mempool.Include
}

// finish returns the block: the commitment item, then the chosen txs. In
// the rare case that the commitment item does not fit the space reserved
// for it, txs come off the end until it does.
func (b *proposal) finish() [][]byte {
	trees := b.leaves.finish()
	for len(trees) < len(b.present.ids) {
		trees = append(trees, rollups.Tree{})
	}
	c := rollups.CommitmentFromTrees(b.present.ids, trees)
	c.Height = b.height
	cm := rollups.EncodeCommitment(c)
	chosen, used := b.chosen, b.used
	for used+protoTxSize(len(cm)) > b.maxBytes && len(chosen) > 0 {
		used -= protoTxSize(len(chosen[len(chosen)-1].Raw))
		chosen = chosen[:len(chosen)-1]
		cm = commitmentFor(chosen, b.height)
	}
	out := b.raws[:len(chosen)+1]
	out[0] = cm
	return out
}

// leafHasher builds the rollups' trees over the leaves of a block being
// chosen. Choosing is sequential and leaves a core idle, so when concurrent
// is set (PrepareProposal sets it) and there are enough leaves to be worth
// it, they go in batches to a goroutine that hashes while the mempool walk
// goes on; each tree still gets its leaves in block order, so the roots do
// not depend on it. Unset, it hashes in line: the builder driven step by
// step (its tests) starts no goroutine.
type leafHasher struct {
	concurrent bool
	batch      []leafRef
	trees      []rollups.Tree // hashed here while there is no goroutine
	full       chan []leafRef // to the goroutine; nil until it starts
	free       chan []leafRef // batches back for reuse
	done       chan []rollups.Tree
}

// leafRef is a leaf hash (in its tx, read by whoever hashes it) and the
// number of its rollup.
type leafRef struct {
	hash *[32]byte
	k    int32
}

// leafBatch is how many leaves go to the hashing goroutine at once.
const leafBatch = 1024

func (h *leafHasher) add(k int, leaf []byte) {
	h.batch = append(h.batch, leafRef{(*[32]byte)(leaf), int32(k)})
	if len(h.batch) < leafBatch {
		return
	}
	if !h.concurrent {
		h.trees = appendLeaves(h.trees, h.batch)
		h.batch = h.batch[:0]
		return
	}
	if h.full == nil {
		h.full = make(chan []leafRef, 64)
		h.free = make(chan []leafRef, 8)
		h.done = make(chan []rollups.Tree, 1)
		go func(trees []rollups.Tree, full <-chan []leafRef, free chan<- []leafRef, done chan<- []rollups.Tree) {
			for batch := range full {
				trees = appendLeaves(trees, batch)
				select {
				case free <- batch[:0]:
				default:
				}
			}
			done <- trees
		}(h.trees, h.full, h.free, h.done)
		h.trees = nil
	}
	h.full <- h.batch
	select {
	case h.batch = <-h.free:
	default:
		h.batch = make([]leafRef, 0, leafBatch)
	}
}

// finish returns the trees, indexed by rollup number.
func (h *leafHasher) finish() []rollups.Tree {
	if h.full == nil {
		return appendLeaves(h.trees, h.batch)
	}
	if len(h.batch) > 0 {
		h.full <- h.batch
	}
	h.batch = nil
	close(h.full)
	h.full = nil
	return <-h.done
}

// stop ends the goroutine if finish did not (a panic while choosing).
func (h *leafHasher) stop() {
	if h.full != nil {
		close(h.full)
		h.full = nil
	}
}

func appendLeaves(trees []rollups.Tree, batch []leafRef) []rollups.Tree {
	for i := range batch {
		l := &batch[i]
		for int(l.k) >= len(trees) {
			trees = append(trees, rollups.Tree{})
		}
		trees[l.k].AppendHash(*l.hash)
	}
	return trees
}
