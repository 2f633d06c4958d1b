package evm

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/trie"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

var errBlobTx = errors.New("blob transactions are not allowed")

// candidate is one transaction of the slice in block order, or the record of
// bytes that did not decode into one.
type candidate struct {
	tx     *types.Transaction
	weftTx []byte
	skip   *SkippedTx
	// deposit, when set, is a deposit item (tx is nil) sent by sender.
	deposit []byte
	sender  []byte
}

// decodeSlice flattens the slice's items into candidates, in order.
func decodeSlice(s *weftv1.RollupSlice) []candidate {
	var out []candidate
	for _, item := range s.Items {
		if IsDepositItem(item.Data) {
			out = append(out, candidate{deposit: item.Data, sender: item.Sender, weftTx: item.TxHash})
			continue
		}
		raw, err := splitItem(item.Data)
		if err != nil {
			out = append(out, candidate{skip: &SkippedTx{Hash: crypto.Keccak256Hash(item.Data), WeftTx: item.TxHash, Reason: err.Error()}})
			continue
		}
		for _, b := range raw {
			tx, err := decodeTx(b)
			if err != nil {
				out = append(out, candidate{skip: &SkippedTx{Hash: crypto.Keccak256Hash(b), WeftTx: item.TxHash, Reason: "decode: " + err.Error()}})
				continue
			}
			out = append(out, candidate{tx: tx, weftTx: item.TxHash})
		}
	}
	return out
}

// recoverSenders recovers the senders of txs on all cores and caches them in
// the transactions, so the (sequential) apply loop finds them ready. Signature
// recovery is most of the cost of a simple transaction. Unlike
// core.SenderCacher, it waits for the work to finish: an apply loop that
// catches up with background recovery would redo the same transactions.
// Invalid signatures are left for the apply loop to report.
func recoverSenders(signer types.Signer, txs []*types.Transaction) {
	workers := min(runtime.GOMAXPROCS(0), len(txs)/minTxsPerWorker)
	if workers < 2 {
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(txs); i += workers {
				types.Sender(signer, txs[i])
			}
		})
	}
	wg.Wait()
}

// minTxsPerWorker keeps goroutine start-up below the work it saves.
const minTxsPerWorker = 16

// newHeader returns the header of the block built on parent from slice s,
// without the fields that depend on execution.
func (e *Executor) newHeader(parent *types.Header, s *weftv1.RollupSlice) *types.Header {
	weftHash := common.BytesToHash(s.BlockHash)
	var t uint64
	if s.TimeUnixNano > 0 {
		t = uint64(s.TimeUnixNano / 1e9)
	}
	t = max(t, parent.Time)
	excessBlobGas := eip4844.CalcExcessBlobGas(e.chainConfig, parent, t)
	return &types.Header{
		ParentHash:       parent.Hash(),
		Coinbase:         e.cfg.FeeRecipient,
		Number:           new(big.Int).Add(parent.Number, common.Big1),
		GasLimit:         e.cfg.gasLimit(),
		Time:             t,
		Extra:            encodeWeftHeight(s.Height),
		MixDigest:        weftHash,
		BaseFee:          eip1559.CalcBaseFee(e.chainConfig, parent),
		Difficulty:       new(big.Int),
		BlobGasUsed:      new(uint64),
		ExcessBlobGas:    &excessBlobGas,
		ParentBeaconRoot: &weftHash,
	}
}

// executeBlock builds, executes and commits the block of slice s on the head.
// Commit order, for crash safety: the state's trie nodes and code are
// flushed to disk first, then one batch writes the block, its receipts, the
// indexes, the skipped list, the Weft height and, in the same write, the head
// pointers. A crash before the batch leaves the previous head, whose state
// is intact; unreferenced trie nodes are harmless under the hash scheme.
func (e *Executor) executeBlock(s *weftv1.RollupSlice) (*BlockEvent, error) {
	parent := e.head
	header := e.newHeader(parent, s)
	number := header.Number.Uint64()

	statedb, err := state.New(parent.Root, e.state)
	if err != nil {
		return nil, fmt.Errorf("open state of block %d: %w", parent.Number, err)
	}
	// Warm the trie paths that Commit will hash, on other cores, while the
	// transactions run (as core.BlockChain does).
	statedb.StartPrefetcher("weft-exec", nil)
	defer statedb.StopPrefetcher()

	evm := vm.NewEVM(core.NewEVMBlockContext(header, e.chain, &header.Coinbase), statedb, e.chainConfig, vm.Config{})
	defer evm.Release()
	core.ProcessBeaconBlockRoot(*header.ParentBeaconRoot, evm, nil)

	txs, receipts, skipped := e.applyCandidates(statedb, evm, header, decodeSlice(s))
	block, err := e.sealBlock(statedb, header, txs, receipts)
	if err != nil {
		return nil, err
	}
	hash := block.Hash()
	if err := e.writeBlock(block, receipts, skipped, s.Height); err != nil {
		return nil, err
	}

	e.mu.Lock()
	e.head = block.Header()
	e.lastWeft = s.Height
	e.mu.Unlock()

	var logs []*types.Log
	for _, r := range receipts {
		logs = append(logs, r.Logs...)
	}
	e.log.Debug("executed block", "number", number, "hash", hash, "weft_height", s.Height,
		"txs", len(txs), "skipped", len(skipped), "gas", header.GasUsed, "root", header.Root)
	return &BlockEvent{Block: block, Receipts: receipts, Logs: logs, WeftHeight: s.Height}, nil
}

// applyCandidates runs the slice's candidates in order on statedb: deposits
// are applied, transactions that cannot be included (undecodable, blob, or
// rejected by the EVM) are recorded as skipped and leave no trace in the
// state or the gas pool. It sets header.GasUsed and returns the included
// transactions with their receipts, and the skipped list.
func (e *Executor) applyCandidates(statedb *state.StateDB, evm *vm.EVM, header *types.Header, cands []candidate) (types.Transactions, types.Receipts, []SkippedTx) {
	signer := types.MakeSigner(e.chainConfig, header.Number, header.Time)
	txsIn := make([]*types.Transaction, 0, len(cands))
	for _, c := range cands {
		if c.tx != nil {
			txsIn = append(txsIn, c.tx)
		}
	}
	recoverSenders(signer, txsIn)

	var (
		gp       = core.NewGasPool(header.GasLimit)
		txs      = make(types.Transactions, 0, len(txsIn))
		receipts = make(types.Receipts, 0, len(txsIn))
		skipped  []SkippedTx
		ctx      = context.Background()
	)
	for _, c := range cands {
		if c.skip != nil {
			skipped = append(skipped, *c.skip)
			continue
		}
		if c.deposit != nil {
			if err := e.applyDeposits(statedb, c.sender, c.deposit); err != nil {
				skipped = append(skipped, SkippedTx{Hash: crypto.Keccak256Hash(c.deposit), WeftTx: c.weftTx, Reason: err.Error()})
			}
			continue
		}
		tx := c.tx
		if tx.Type() == types.BlobTxType {
			skipped = append(skipped, SkippedTx{Hash: tx.Hash(), WeftTx: c.weftTx, Reason: errBlobTx.Error()})
			continue
		}
		statedb.SetTxContext(tx.Hash(), len(receipts), uint32(len(receipts)+1))
		snap, gpSnap := statedb.Snapshot(), gp.Snapshot()
		receipt, _, err := core.ApplyTransaction(ctx, evm, gp, statedb, header, tx)
		if err != nil {
			// A transaction that cannot be included may have touched state
			// (gas bought before the intrinsic gas check): undo it.
			statedb.RevertToSnapshot(snap)
			gp.Set(gpSnap)
			skipped = append(skipped, SkippedTx{Hash: tx.Hash(), WeftTx: c.weftTx, Reason: err.Error()})
			continue
		}
		txs = append(txs, tx)
		receipts = append(receipts, receipt)
	}
	header.GasUsed = gp.Used()
	return txs, receipts, skipped
}

// sealBlock commits the executed state, sets header.Root, flushes the trie
// to disk and returns the block, with the receipts' derived fields filled
// in.
func (e *Executor) sealBlock(statedb *state.StateDB, header *types.Header, txs types.Transactions, receipts types.Receipts) (*types.Block, error) {
	number := header.Number.Uint64()
	root, err := statedb.Commit(e.chainConfig.Rules(header.Number, true, header.Time), number)
	if err != nil {
		return nil, fmt.Errorf("commit state of block %d: %w", number, err)
	}
	header.Root = root
	if err := e.triedb.Commit(root, false); err != nil {
		return nil, fmt.Errorf("flush trie of block %d: %w", number, err)
	}
	block := types.NewBlock(header, &types.Body{Transactions: txs, Withdrawals: []*types.Withdrawal{}}, receipts, trie.NewStackTrie(nil))
	hash := block.Hash()
	// The receipts were made before the block hash existed; fill the derived
	// fields exactly as Receipts will when reading them back.
	if err := receipts.DeriveFields(e.chainConfig, hash, number, header.Time, header.BaseFee, eip4844.CalcBlobFee(e.chainConfig, header), txs); err != nil {
		return nil, fmt.Errorf("derive receipt fields of block %d: %w", number, err)
	}
	return block, nil
}

// writeBlock writes, in one batch, the block, its receipts, the indexes,
// the skipped list, the Weft height and the head pointers.
func (e *Executor) writeBlock(block *types.Block, receipts types.Receipts, skipped []SkippedTx, weftHeight int64) error {
	hash, number := block.Hash(), block.NumberU64()
	if e.beforeHead != nil {
		if err := e.beforeHead(); err != nil {
			return err
		}
	}
	batch := e.db.NewBatch()
	rawdb.WriteBlock(batch, block)
	rawdb.WriteReceipts(batch, hash, number, receipts)
	rawdb.WriteCanonicalHash(batch, hash, number)
	rawdb.WriteTxLookupEntriesByBlock(batch, block)
	if err := writeSkipped(batch, number, skipped); err != nil {
		return err
	}
	if err := writeLastWeftHeight(batch, weftHeight); err != nil {
		return err
	}
	rawdb.WriteHeadHeaderHash(batch, hash)
	rawdb.WriteHeadBlockHash(batch, hash)
	rawdb.WriteHeadFastBlockHash(batch, hash)
	if err := batch.Write(); err != nil {
		return fmt.Errorf("write block %d: %w", number, err)
	}
	return nil
}
