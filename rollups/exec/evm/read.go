package evm

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
	"github.com/ethereum/go-ethereum/params"
)

// Read API for the rollup's JSON-RPC layer. Every method is safe to call
// concurrently with Execute; a block is visible once Execute has committed it
// (blocks are never reorganised).

// ChainConfig returns the rollup's chain rules. Callers must not modify it.
func (e *Executor) ChainConfig() *params.ChainConfig { return e.chainConfig }

// Head returns a copy of the current head header.
func (e *Executor) Head() *types.Header {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return types.CopyHeader(e.head)
}

// HeaderByNumber returns the canonical header at number, or nil.
func (e *Executor) HeaderByNumber(number uint64) *types.Header {
	hash := rawdb.ReadCanonicalHash(e.db, number)
	if hash == (common.Hash{}) {
		return nil
	}
	return rawdb.ReadHeader(e.db, hash, number)
}

// HeaderByHash returns the header with hash, or nil.
func (e *Executor) HeaderByHash(hash common.Hash) *types.Header {
	number, ok := rawdb.ReadHeaderNumber(e.db, hash)
	if !ok {
		return nil
	}
	return rawdb.ReadHeader(e.db, hash, number)
}

// BlockByNumber returns the canonical block at number, or nil.
func (e *Executor) BlockByNumber(number uint64) *types.Block {
	hash := rawdb.ReadCanonicalHash(e.db, number)
	if hash == (common.Hash{}) {
		return nil
	}
	return rawdb.ReadBlock(e.db, hash, number)
}

// BlockByHash returns the block with hash, or nil.
func (e *Executor) BlockByHash(hash common.Hash) *types.Block {
	number, ok := rawdb.ReadHeaderNumber(e.db, hash)
	if !ok {
		return nil
	}
	return rawdb.ReadBlock(e.db, hash, number)
}

// Receipts returns the receipts of the block with hash, derived fields
// filled (block and transaction positions, effective gas price, contract
// address, log indexes), or nil when the block is unknown.
func (e *Executor) Receipts(blockHash common.Hash) types.Receipts {
	number, ok := rawdb.ReadHeaderNumber(e.db, blockHash)
	if !ok {
		return nil
	}
	header := rawdb.ReadHeader(e.db, blockHash, number)
	if header == nil {
		return nil
	}
	return rawdb.ReadReceipts(e.db, blockHash, number, header.Time, e.chainConfig)
}

// TxLookup finds an included transaction: its block and index in the block.
func (e *Executor) TxLookup(hash common.Hash) (blockHash common.Hash, number, index uint64, found bool) {
	tx, blockHash, number, index := rawdb.ReadCanonicalTransaction(e.db, hash)
	if tx == nil {
		return common.Hash{}, 0, 0, false
	}
	return blockHash, number, index, true
}

// Skipped returns the transactions left out of block number, in slice order.
func (e *Executor) Skipped(number uint64) []SkippedTx {
	out, err := readSkipped(e.db, number)
	if err != nil {
		e.log.Error("read skipped txs", "number", number, "err", err)
		return nil
	}
	return out
}

// StateAt opens the state with root for reading (every block's state is
// kept). The returned StateDB is the caller's own; changes to it are never
// committed.
func (e *Executor) StateAt(root common.Hash) (*state.StateDB, error) {
	return state.New(root, e.state)
}

// ChainContext gives eth_call what core.NewEVMBlockContext needs: headers
// for BLOCKHASH and the (post-merge) engine.
func (e *Executor) ChainContext() core.ChainContext { return e.chain }

// SubscribeBlocks delivers a BlockEvent for every block committed from now
// on. Execute waits until every subscriber has received the event, so
// subscribers must keep their channel drained (or buffered). Subscriptions
// end when the executor is closed; after Close the returned one has ended.
func (e *Executor) SubscribeBlocks(ch chan<- *BlockEvent) event.Subscription {
	if sub := e.scope.Track(e.feed.Subscribe(ch)); sub != nil {
		return sub
	}
	return event.NewSubscription(func(<-chan struct{}) error { return nil })
}

// chainContext serves core.ChainContext from the executor's database.
type chainContext struct{ e *Executor }

var _ core.ChainContext = (*chainContext)(nil)

func (c *chainContext) Config() *params.ChainConfig  { return c.e.chainConfig }
func (c *chainContext) CurrentHeader() *types.Header { return c.e.Head() }
func (c *chainContext) Engine() consensus.Engine     { return c.e.engine }

func (c *chainContext) GetHeader(hash common.Hash, number uint64) *types.Header {
	return rawdb.ReadHeader(c.e.db, hash, number)
}

func (c *chainContext) GetHeaderByNumber(number uint64) *types.Header {
	return c.e.HeaderByNumber(number)
}

func (c *chainContext) GetHeaderByHash(hash common.Hash) *types.Header {
	return c.e.HeaderByHash(hash)
}

// HeaderAtWeftHeight returns the head the rollup had once Weft height h was
// executed: the last block whose Weft height is ≤ h (genesis for h = 0).
// Its Root is the rollup's state root after h. It returns nil when h has
// not been executed yet.
func (e *Executor) HeaderAtWeftHeight(h int64) *types.Header {
	e.mu.RLock()
	head, last := e.head, e.lastWeft
	e.mu.RUnlock()
	if h < 0 || h > last {
		return nil
	}
	// Block numbers grow with Weft heights: find the last block at ≤ h.
	lo, hi := uint64(0), head.Number.Uint64() // invariant: block lo is at ≤ h
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		hdr := e.HeaderByNumber(mid)
		if hdr == nil {
			return nil
		}
		if wh, ok := WeftHeight(hdr); ok && wh <= h {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return e.HeaderByNumber(lo)
}
