package consensus

import weftv1 "github.com/weftnet/weft/proto/weftv1"

// Per-block bounds. CometBFT bounds a block's bytes (MaxTxBytes in
// PrepareProposal, the block's MaxBytes param for everyone else); these bound
// what the bytes make a validator do. The builder (PrepareProposal) stops
// before a block would exceed one and ProcessProposal rejects a block that
// does, so an honest proposer never makes a block every validator refuses and
// a byzantine one cannot make them do more.
//
// A block's worst case at these limits: MaxBlockTxs signature recoveries
// (~50 µs each here, but a validator that already holds a tx reuses the
// mempool's decoding) and MaxBlockWrites state writes, which Store.Commit
// writes in chunks when they exceed one badger transaction.
const (
	// MaxBlockTxs bounds the user txs of a block: one signature check each.
	MaxBlockTxs = 20_000
	// MaxBlockWrites bounds the state writes a block's txs may cause,
	// counted per tx by txWrites (an upper bound, known before execution).
	MaxBlockWrites = 100_000
	// MaxBlockPopChecks bounds the attestation keys a block registers
	// (CreateValidator or EditValidator actions that carry one): each costs a
	// proof-of-possession check, two pairings, about a millisecond, where
	// MaxBlockTxs signature recoveries cost about a second.
	MaxBlockPopChecks = 64
)

// Writes a tx may cause, by action, beyond the two every tx makes (its
// sender's account and its result record). Staking actions touch the
// validator, the delegation, the delegator's rewards and index entries, the
// pool and the unbonding queue; 16 is more than any of them writes.
const (
	writesPerTx       = 2
	writesPerTransfer = 1
	writesPerRegister = 2 // the rollup and its EVM chain id
	writesPerStaking  = 16
)

// txWrites is the most state writes tx can cause: a bound computed from its
// actions alone, so the builder and every validator count the same number
// without executing it.
func txWrites(body *weftv1.TxBody) int {
	n := writesPerTx
	for _, a := range body.Actions {
		switch a.Kind.(type) {
		case *weftv1.Action_RollupData:
		case *weftv1.Action_Transfer:
			n += writesPerTransfer
		case *weftv1.Action_RegisterRollup:
			n += writesPerRegister
		default:
			n += writesPerStaking
		}
	}
	return n
}

// txPopChecks is the number of proofs of possession tx makes a validator
// check: its actions that register an attestation key.
func txPopChecks(body *weftv1.TxBody) int {
	n := 0
	for _, a := range body.Actions {
		switch k := a.Kind.(type) {
		case *weftv1.Action_CreateValidator:
			if len(k.CreateValidator.AttestationPubKey) > 0 || len(k.CreateValidator.AttestationPop) > 0 {
				n++
			}
		case *weftv1.Action_EditValidator:
			if len(k.EditValidator.AttestationPubKey) > 0 || len(k.EditValidator.AttestationPop) > 0 {
				n++
			}
		}
	}
	return n
}

// blockBudget counts a block's bounded costs as txs are added.
type blockBudget struct {
	txs, writes, pops int
}

// fits reports whether tx can join the block without exceeding a bound.
func (b *blockBudget) fits(tx *Tx) bool {
	return b.txs+1 <= MaxBlockTxs && b.writes+tx.writes <= MaxBlockWrites && b.pops+tx.pops <= MaxBlockPopChecks
}

// full reports whether no tx at all can join the block.
func (b *blockBudget) full() bool {
	return b.txs >= MaxBlockTxs || b.writes+writesPerTx > MaxBlockWrites
}

func (b *blockBudget) add(tx *Tx) {
	b.txs++
	b.writes += tx.writes
	b.pops += tx.pops
}
