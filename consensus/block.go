package consensus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cryptoenc "github.com/cometbft/cometbft/crypto/encoding"
	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/weftnet/weft/consensus/staking"
	"github.com/weftnet/weft/mempool"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// The consensus connection: PrepareProposal builds a block, ProcessProposal
// checks one, FinalizeBlock executes it and Commit writes it.

// protoTxSize is a tx's share of CometBFT's Data proto size.
func protoTxSize(n int) int64 { return int64(1 + protowire.SizeVarint(uint64(n)) + n) }

// commitmentReserve bounds the commitment item's size for k rollups.
func commitmentReserve(k int) int64 { return protoTxSize(rollups.CommitmentSizeBound(k)) }

// maxCandidates bounds how many mempool txs a scan after a block looks at.
const maxCandidates = 200_000

// minTxBytes is less than any valid tx's size: a signature field alone is
// 67 bytes. With less room than that left, a block is full.
const minTxBytes = 67

// PrepareProposal builds a block from the mempool: the commitment item
// first, then txs valid on top of each other, in the mempool's block order
// (fee per byte, per-rollup fair shares, each sender's in nonce order). It
// is total: it never fails and never exceeds MaxTxBytes.
func (a *App) PrepareProposal(_ context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	_, params := a.limits()
	snap := a.store.snapshot()
	defer snap.discard()
	ov := NewOverlay(snap)
	votes := make([]staking.Vote, len(req.LocalLastCommit.Votes))
	for i, v := range req.LocalLastCommit.Votes {
		votes[i] = staking.Vote{Address: common.BytesToAddress(v.Validator.Address), Power: v.Validator.Power, Signed: v.BlockIdFlag == cmtproto.BlockIDFlagCommit}
	}
	beginBlock(view{ov}, params, req.Height, req.Time, votes, req.Misbehavior)
	n, size := a.mp.Size()
	b := newProposal(ov, params, req.Height, req.MaxTxBytes, n, size)
	b.leaves.concurrent = true
	defer b.leaves.stop()
	a.mp.BuildPayloads(req.MaxTxBytes, b.take)
	return &abci.ResponsePrepareProposal{Txs: b.finish()}, nil
}

// decodeAll returns the hash of each of a block's txs and, for those the
// mempool holds, the tx it decoded and checked on insert (nil for the rest),
// looked up under one mempool lock.
func (a *App) decodeAll(txs [][]byte) ([][32]byte, []*Tx) {
	hs := make([][32]byte, len(txs))
	for i, raw := range txs {
		hs[i] = txcodec.TxHash(raw)
	}
	known := make([]*Tx, len(txs))
	a.mp.Payloads(hs, func(i int, payload any) { known[i] = payload.(*Tx) })
	return hs, known
}

// execute runs a proposed block on a fresh overlay. With strict set it stops
// at the first invalid tx (ProcessProposal); otherwise it records the
// rejection and goes on (FinalizeBlock, which must be total).
func (a *App) execute(txs [][]byte, height int64, blockTime time.Time, lastCommit abci.CommitInfo, evidence []abci.Misbehavior, blockHash []byte, strict bool) (*stagedBlock, error) {
	lim, params := a.limits()
	// The block reads committed state through one badger read transaction
	// (a transaction per read costs more than the read); once it has run,
	// its overlay reads the store again, which nothing changes before Commit.
	snap := a.store.snapshot()
	sb := &stagedBlock{hash: blockHash, height: height, ov: NewOverlay(snap), results: make([]*abci.ExecTxResult, len(txs))}
	defer func() {
		sb.ov.base = a.store
		snap.discard()
	}()
	sb.events = beginBlock(view{sb.ov}, params, height, blockTime, votesOf(lastCommit), evidence)
	sb.staking = len(sb.events.Jailed) > 0 || len(sb.events.Tombstoned) > 0
	if len(txs) == 0 || !rollups.IsCommitment(txs[0]) {
		if strict {
			return nil, errors.New("block does not start with a commitment item")
		}
	}
	var valid []*Tx
	var budget blockBudget
	led := newLedger(view{sb.ov}, params, len(txs))
	hashes, known := a.decodeAll(txs)
	sb.block = BlockTxs{Height: height, Raw: make([][]byte, len(txs)), Hashes: hashes, Decoded: make([]*Tx, len(txs))}
	for i, raw := range txs {
		sb.block.Raw[i] = raw
		if i == 0 && rollups.IsCommitment(raw) {
			sb.results[i] = &abci.ExecTxResult{Code: txcodec.CodeOK, Log: "commitment item"}
			continue
		}
		tx, rej := known[i], (*txcodec.Rejection)(nil)
		if tx == nil {
			tx, rej = DecodeTx(raw, lim)
		}
		var fee uint256.Int
		if rej == nil && strict && !budget.fits(tx) {
			// Only a proposal can be refused for its size; a decided block
			// is executed whatever it holds (FinalizeBlock is total).
			return nil, fmt.Errorf("block exceeds its bounds at tx %d: more than %d txs, %d state writes or %d attestation key checks", i, MaxBlockTxs, MaxBlockWrites, MaxBlockPopChecks)
		}
		if rej == nil {
			// The decoded tx's bytes (the mempool's copy, when it had the
			// tx) stand for the block's: equal, and kept anyway.
			sb.block.Raw[i], sb.block.Decoded[i] = tx.Raw, tx
			rej = led.applyTx(sb.ov, tx, height, &fee)
		}
		h := hashes[i]
		if rej != nil {
			if strict {
				return nil, fmt.Errorf("tx %d (%x): %v", i, h[:8], rej)
			}
			sb.results[i] = &abci.ExecTxResult{Code: rej.Code, Log: rej.Log, Codespace: "weft"}
			continue
		}
		budget.add(tx)
		valid = append(valid, tx)
		sb.accept(tx, h, i, &fee)
	}
	led.flush()
	if strict {
		if want := commitmentFor(valid, height); !bytes.Equal(want, txs[0]) {
			return nil, errors.New("commitment item does not match the block's rollup data")
		}
	}
	sb.updates = validatorUpdates(view{sb.ov}.staking(params).EndBlock())
	return sb, nil
}

// votesOf is the previous block's commit as staking reads it.
func votesOf(lastCommit abci.CommitInfo) []staking.Vote {
	votes := make([]staking.Vote, len(lastCommit.Votes))
	for i, v := range lastCommit.Votes {
		votes[i] = staking.Vote{Address: common.BytesToAddress(v.Validator.Address), Power: v.Validator.Power, Signed: v.BlockIdFlag == cmtproto.BlockIDFlagCommit}
	}
	return votes
}

// accept records tx, the valid tx at index i of the block with hash h that
// paid fee: its result (in state, for queries), and whether the block
// registers rollups or changes stake.
func (sb *stagedBlock) accept(tx *Tx, h [32]byte, i int, fee *uint256.Int) {
	sb.txs = append(sb.txs, h)
	sb.decoded = append(sb.decoded, tx)
	for _, act := range tx.Body.Actions {
		if _, ok := act.Kind.(*weftv1.Action_RegisterRollup); ok {
			sb.registers = true
		}
	}
	sb.staking = sb.staking || hasStaking(tx)
	res := &weftv1.TxResult{Hash: h[:], Height: sb.height, Index: uint32(i), Fee: fee.Bytes(), Sender: tx.Sender.Bytes()}
	sb.ov.Set(txResultKey(h), mustMarshal(res))
	sb.results[i] = &abci.ExecTxResult{Code: txcodec.CodeOK}
}

// validatorUpdates turns staking's power changes into CometBFT's.
func validatorUpdates(ups []staking.Update) []abci.ValidatorUpdate {
	var out []abci.ValidatorUpdate
	for _, u := range ups {
		pkp, err := cryptoenc.PubKeyToProto(secp256k1eth.PubKey(u.PubKey))
		if err != nil {
			panic(fmt.Sprintf("invariant: stored consensus key does not encode: %v", err))
		}
		out = append(out, abci.ValidatorUpdate{PubKey: pkp, Power: u.Power})
	}
	return out
}

// beginBlock runs staking's start-of-block work: rewards for the previous
// block's signers, downtime tracking, evidence slashing, matured unbonding.
func beginBlock(st view, params *Params, height int64, blockTime time.Time, votes []staking.Vote, misbehavior []abci.Misbehavior) *staking.Events {
	ev := make([]staking.Evidence, 0, len(misbehavior))
	for _, m := range misbehavior {
		ev = append(ev, staking.Evidence{Address: common.BytesToAddress(m.Validator.Address), Height: m.Height})
	}
	return st.staking(params).BeginBlockAt(height, blockTime, votes, ev)
}

// ProcessProposal accepts a block only if it starts with the right
// commitment item and every tx is valid in order. Because a bundle is one tx
// and the commitment is recomputed from the txs, a block that splits,
// reorders or drops part of a bundle is rejected.
func (a *App) ProcessProposal(_ context.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	sb, err := a.execute(req.Txs, req.Height, req.Time, req.ProposedLastCommit, req.Misbehavior, req.Hash, true)
	if err != nil {
		a.log.Warn("rejecting proposal", "height", req.Height, "reason", err.Error())
		return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
	}
	a.processed = sb
	return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
}

// FinalizeBlock applies a decided block and returns its app hash; the state
// is written in Commit.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	sb := a.processed
	a.processed = nil
	if sb == nil || sb.height != req.Height || !bytes.Equal(sb.hash, req.Hash) {
		var err error
		if sb, err = a.execute(req.Txs, req.Height, req.Time, req.DecidedLastCommit, req.Misbehavior, req.Hash, false); err != nil {
			return nil, err
		}
	}
	sb.time = req.Time
	_, prev := a.Committed()
	sb.appHash = NextAppHash(prev, req.Height, sb.ov.Hash())
	a.staged = sb
	if ev := sb.events; ev != nil {
		for _, v := range ev.Jailed {
			a.log.Warn("validator jailed for downtime", "height", req.Height, "validator", v, "slashed", ev.Slashed[v])
		}
		for _, v := range ev.Tombstoned {
			a.log.Warn("validator slashed and tombstoned for double signing", "height", req.Height, "validator", v, "slashed", ev.Slashed[v])
		}
	}
	for _, u := range sb.updates {
		a.log.Info("validator set change", "height", req.Height, "effective_height", req.Height+2, "power", u.Power)
	}
	return &abci.ResponseFinalizeBlock{TxResults: sb.results, AppHash: sb.appHash, ValidatorUpdates: sb.updates}, nil
}

// Commit applies a finalized block's effects in one fixed order, each step
// seeing the ones before it:
//  1. the state writes and the journal deletes of the block's txs, in one
//     badger transaction (an acknowledged tx leaves the journal only with
//     the block that includes it);
//  2. the mempool removals: the included txs, and the pending txs the new
//     state invalidates (their dropped reasons recorded, their journal
//     entries deleted);
//  3. the committed block for the feed and the queries: the decoded block
//     handed to Config.OnCommit (the node's recent blocks, which the feed
//     splits), then the height and app hash, and the commit notification
//     that wakes every follower.
//
// A follower woken in step 3 thus never sees a mempool still holding the
// block's txs.
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	sb := a.staged
	if sb == nil {
		panic("invariant: Commit without FinalizeBlock")
	}
	a.staged = nil
	if err := a.store.Commit(sb.ov, sb.height, sb.appHash, a.journal.Committed(sb.txs)); err != nil {
		return nil, fmt.Errorf("commit height %d: %w", sb.height, err)
	}
	a.mu.RLock()
	now := a.clock
	a.mu.RUnlock()
	if sb.time.After(now) {
		now = sb.time
	}
	if err := a.pruneMempool(sb, now); err != nil {
		return nil, err
	}
	if a.cfg.OnCommit != nil {
		a.cfg.OnCommit(sb.block)
	}
	a.mu.Lock()
	a.height, a.appHash, a.clock = sb.height, sb.appHash, now
	close(a.commitC)
	a.commitC = make(chan struct{})
	a.mu.Unlock()
	return &abci.ResponseCommit{}, nil
}

// pruneMempool is Commit's second step: it removes the block's txs and
// drops the pending txs the new state invalidates, at mempool time now.
func (a *App) pruneMempool(sb *stagedBlock, now time.Time) error {
	// Only a block's senders can have a higher nonce or a lower balance
	// now: transfers and rewards only add to other accounts.
	senders := make([][20]byte, len(sb.decoded))
	for i, tx := range sb.decoded {
		senders[i] = tx.Sender
	}
	// The block's overlay holds exactly the accounts it changed (the rest
	// it reads from the store just committed): no store read per sender.
	post := view{sb.ov}
	dropped := a.mp.Update(now, sb.txs, senders, func(sender [20]byte) mempool.AccountState {
		acc := post.Account(sender)
		return mempool.AccountState{Nonce: acc.Nonce, Balance: balanceOf(acc)}
	})
	if sb.registers {
		dropped = append(dropped, a.dropTakenRegistrations()...)
		if err := a.refreshWeights(); err != nil {
			return err
		}
	}
	if sb.staking {
		dropped = append(dropped, a.dropFailedStaking()...)
	}
	if len(dropped) > 0 {
		a.forget(dropped)
		a.log.Info("dropped invalidated or expired mempool txs", "height", sb.height, "count", len(dropped))
	}
	return nil
}

// dropTakenRegistrations removes pending txs that register a rollup that now
// exists, with their sender's later txs. The mempool re-checks only nonces
// and balances; without this such a tx could never execute yet would block
// its sender's queue for good.
func (a *App) dropTakenRegistrations() []mempool.Dropped {
	st := view{NewOverlay(a.store)}
	var out []mempool.Dropped
	for _, m := range a.mp.Pending(maxCandidates) {
		for _, act := range m.Payload.(*Tx).Body.Actions {
			r, ok := act.Kind.(*weftv1.Action_RegisterRollup)
			if !ok || st.Rollup(rollups.IDFromName(r.RegisterRollup.Name)) == nil {
				continue
			}
			reason := fmt.Sprintf("rollup %q already exists", r.RegisterRollup.Name)
			for _, gone := range a.mp.Remove(m.Hash) {
				out = append(out, mempool.Dropped{Tx: gone, Reason: reason})
			}
			break
		}
	}
	return out
}
