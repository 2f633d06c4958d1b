package consensus

import (
	"bytes"
	"fmt"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// Tx is a decoded, signature-checked transaction. Some of its fields point
// into the Tx itself: use it by pointer, never copy it.
type Tx struct {
	Raw      []byte
	Hash     [32]byte
	Body     *weftv1.TxBody
	Sender   common.Address
	FeeLimit *uint256.Int
	// Transferred is the sum of Transfer amounts.
	Transferred *uint256.Int
	// Bonded is the sum of amounts staked by CreateValidator and Delegate.
	Bonded *uint256.Int
	// DataBytes is the sum of RollupData payload sizes.
	DataBytes int
	// Rollups lists the rollup of each RollupData action, in order.
	Rollups []rollups.ID
	// Leaves holds each RollupData action's item leaf hash
	// (rollups.LeafHash), in order: hashed once, when the tx is decoded,
	// for every block commitment built over it.
	Leaves [][]byte

	// What block building reads for every tx it offers, kept in the Tx
	// itself so that checking a tx touches one object, not the body, its
	// actions and separately allocated amounts (a block visits tens of
	// thousands of txs, each a cache miss per object).
	nonce    uint64 // Body.Nonce
	nActions uint64 // len(Body.Actions)
	// writes bounds the state writes the tx can cause (txWrites).
	writes int
	// pops is the proofs of possession it checks (txPopChecks).
	pops int
	// plain: every action is RollupData or Transfer (the ledger's cached path
	// when nothing is bonded); transfers: some action is a Transfer.
	plain, transfers bool
	// amounts backs FeeLimit, Transferred and Bonded.
	amounts [3]uint256.Int
	// Storage for Rollups and Leaves when the tx has one RollupData action.
	rollup1 [1]rollups.ID
	leaf1   [1][]byte
	hash1   [32]byte
}

// Cost is the most the tx can take from its sender.
func (t *Tx) Cost() *uint256.Int {
	c, overflow := new(uint256.Int).AddOverflow(t.FeeLimit, t.Transferred)
	if _, o2 := c.AddOverflow(c, t.Bonded); overflow || o2 {
		return new(uint256.Int).SetAllOne()
	}
	return c
}

func amountFrom(b []byte, field string) (*uint256.Int, *txcodec.Rejection) {
	if len(b) > 32 {
		return nil, txcodec.Reject(txcodec.CodeInvalidAction, field+" longer than 32 bytes")
	}
	return new(uint256.Int).SetBytes(b), nil
}

func (t *Tx) addBonded(b []byte, i int) *txcodec.Rejection {
	a, rej := amountFrom(b, fmt.Sprintf("action %d: amount", i))
	if rej != nil {
		return rej
	}
	if _, overflow := t.Bonded.AddOverflow(t.Bonded, a); overflow {
		return txcodec.Reject(txcodec.CodeInvalidAction, "staked amounts overflow")
	}
	return nil
}

// recoveries counts the signers DecodeTx recovered, in this process.
var recoveries atomic.Uint64

// SignatureRecoveries is how many tx signers DecodeTx recovered in this
// process (every App in it): the costliest step of checking a tx, which a
// node should take once per tx (weft_tx_signature_recoveries_total).
func SignatureRecoveries() uint64 { return recoveries.Load() }

// Limits are the stateless bounds a tx is checked against.
type Limits struct {
	ChainID    string
	MaxTxBytes int64
	MaxActions int
}

// DecodeTx decodes raw and runs every check that needs no state: size,
// encoding, chain id, signature, and the shape of each action.
func DecodeTx(raw []byte, lim Limits) (*Tx, *txcodec.Rejection) {
	if int64(len(raw)) > lim.MaxTxBytes {
		return nil, txcodec.Reject(txcodec.CodeTxTooLarge, fmt.Sprintf("tx is %d bytes, limit is %d", len(raw), lim.MaxTxBytes))
	}
	if len(raw) == 0 {
		return nil, txcodec.Reject(txcodec.CodeMalformed, "empty tx")
	}
	if rollups.IsCommitment(raw) {
		return nil, txcodec.Reject(txcodec.CodeReservedTx, "commitment items are written by the proposer only")
	}
	var stx weftv1.SignedTx
	if err := proto.Unmarshal(raw, &stx); err != nil {
		return nil, txcodec.Reject(txcodec.CodeMalformed, "tx does not decode: "+err.Error())
	}
	// Only the canonical encoding (what txcodec.Sign writes) is accepted. Otherwise
	// anyone could re-wrap a signed tx (unknown fields, repeated or reordered
	// fields) into other bytes with another hash, and it would land under a
	// hash its sender never saw.
	if canon, err := proto.Marshal(&weftv1.SignedTx{Body: stx.Body, Signature: stx.Signature}); err != nil || !bytes.Equal(canon, raw) {
		return nil, txcodec.Reject(txcodec.CodeMalformed, "tx is not canonically encoded")
	}
	var body weftv1.TxBody
	if err := proto.Unmarshal(stx.Body, &body); err != nil {
		return nil, txcodec.Reject(txcodec.CodeMalformed, "tx body does not decode: "+err.Error())
	}
	if body.ChainId != lim.ChainID {
		return nil, txcodec.Reject(txcodec.CodeWrongChainID, fmt.Sprintf("chain id %q, this chain is %q", body.ChainId, lim.ChainID))
	}
	if len(stx.Signature) != crypto.SignatureLength {
		return nil, txcodec.Reject(txcodec.CodeBadSignature, fmt.Sprintf("signature must be %d bytes, got %d", crypto.SignatureLength, len(stx.Signature)))
	}
	sig := stx.Signature
	r, s, v := new(uint256.Int).SetBytes(sig[:32]), new(uint256.Int).SetBytes(sig[32:64]), sig[64]
	if !crypto.ValidateSignatureValues(v, r.ToBig(), s.ToBig(), true) {
		return nil, txcodec.Reject(txcodec.CodeBadSignature, "signature values out of range (need low s, v in {0,1})")
	}
	recoveries.Add(1)
	pub, err := crypto.SigToPub(txcodec.SigningHash(stx.Body), sig)
	if err != nil {
		return nil, txcodec.Reject(txcodec.CodeBadSignature, "signature does not recover a key: "+err.Error())
	}
	tx := &Tx{
		Raw:      raw,
		Hash:     txcodec.TxHash(raw),
		Body:     &body,
		Sender:   crypto.PubkeyToAddress(*pub),
		nonce:    body.Nonce,
		nActions: uint64(len(body.Actions)),
		plain:    true,
	}
	tx.FeeLimit, tx.Transferred, tx.Bonded = &tx.amounts[0], &tx.amounts[1], &tx.amounts[2]
	feeLimit, rej := amountFrom(body.FeeLimit, "fee_limit")
	if rej != nil {
		return nil, rej
	}
	tx.FeeLimit.Set(feeLimit)
	if len(body.Actions) == 0 {
		return nil, txcodec.Reject(txcodec.CodeInvalidAction, "tx has no actions")
	}
	if len(body.Actions) > lim.MaxActions {
		return nil, txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("tx has %d actions, limit is %d", len(body.Actions), lim.MaxActions))
	}
	for i, a := range body.Actions {
		if rej := tx.addAction(i, a); rej != nil {
			return nil, rej
		}
	}
	tx.writes = txWrites(&body)
	if tx.writes > MaxBlockWrites {
		return nil, txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("tx may write %d state entries, a block may write %d", tx.writes, MaxBlockWrites))
	}
	tx.pops = txPopChecks(&body)
	if tx.pops > MaxBlockPopChecks {
		return nil, txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("tx registers %d attestation keys, a block may register %d", tx.pops, MaxBlockPopChecks))
	}
	return tx, nil
}

// addAction checks the shape of action i and adds what it carries to tx's
// totals (data bytes and leaves, transfers, stake).
func (tx *Tx) addAction(i int, a *weftv1.Action) *txcodec.Rejection {
	switch k := a.Kind.(type) {
	case *weftv1.Action_RollupData:
		if k.RollupData == nil || len(k.RollupData.RollupId) != rollups.IDLen {
			return txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("action %d: rollup_id must be %d bytes", i, rollups.IDLen))
		}
		if len(k.RollupData.Data) == 0 {
			return txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("action %d: rollup data is empty", i))
		}
		tx.DataBytes += len(k.RollupData.Data)
		leaf := rollups.LeafHash(&rollups.Item{
			TxHash: tx.Hash[:], ActionIndex: uint32(i), Sender: tx.Sender.Bytes(), Data: k.RollupData.Data,
		})
		if tx.Rollups == nil {
			tx.rollup1[0] = rollups.ID(k.RollupData.RollupId)
			tx.hash1 = [32]byte(leaf)
			tx.leaf1[0] = tx.hash1[:]
			tx.Rollups, tx.Leaves = tx.rollup1[:], tx.leaf1[:]
		} else {
			tx.Rollups = append(tx.Rollups, rollups.ID(k.RollupData.RollupId))
			tx.Leaves = append(tx.Leaves, leaf)
		}
	case *weftv1.Action_Transfer:
		if k.Transfer == nil || len(k.Transfer.To) != common.AddressLength {
			return txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("action %d: transfer recipient must be %d bytes", i, common.AddressLength))
		}
		amt, rej := amountFrom(k.Transfer.Amount, fmt.Sprintf("action %d: amount", i))
		if rej != nil {
			return rej
		}
		var overflow bool
		if _, overflow = tx.Transferred.AddOverflow(tx.Transferred, amt); overflow {
			return txcodec.Reject(txcodec.CodeInvalidAction, "transfer amounts overflow")
		}
		tx.transfers = true
	case *weftv1.Action_RegisterRollup:
		if k.RegisterRollup == nil {
			return txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("action %d: empty register_rollup", i))
		}
		if err := rollups.ValidateName(k.RegisterRollup.Name); err != nil {
			return txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("action %d: %v", i, err))
		}
		if k.RegisterRollup.Vm != "evm" {
			return txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("action %d: unknown vm %q (known: evm)", i, k.RegisterRollup.Vm))
		}
		if k.RegisterRollup.EvmChainId == 0 {
			return txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("action %d: evm_chain_id is required", i))
		}
	case *weftv1.Action_CreateValidator:
		if k.CreateValidator == nil {
			return txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("action %d: empty create_validator", i))
		}
		if rej := tx.addBonded(k.CreateValidator.SelfStake, i); rej != nil {
			return rej
		}
	case *weftv1.Action_Delegate:
		if k.Delegate == nil || len(k.Delegate.Validator) != common.AddressLength {
			return txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("action %d: validator address must be %d bytes", i, common.AddressLength))
		}
		if rej := tx.addBonded(k.Delegate.Amount, i); rej != nil {
			return rej
		}
	case *weftv1.Action_Undelegate, *weftv1.Action_EditValidator, *weftv1.Action_Unjail:
		if len(validatorOf(a)) != common.AddressLength { // nil when the action is empty
			return txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("action %d: validator address must be %d bytes", i, common.AddressLength))
		}
	default:
		return txcodec.Reject(txcodec.CodeInvalidAction, fmt.Sprintf("action %d: unknown or empty action", i))
	}
	switch a.Kind.(type) {
	case *weftv1.Action_RollupData, *weftv1.Action_Transfer:
	default:
		tx.plain = false
	}
	return nil
}

// validatorOf is the validator an Undelegate, EditValidator or Unjail
// action names (nil for an empty one).
func validatorOf(a *weftv1.Action) []byte {
	switch k := a.Kind.(type) {
	case *weftv1.Action_Undelegate:
		return k.Undelegate.GetValidator()
	case *weftv1.Action_EditValidator:
		return k.EditValidator.GetValidator()
	case *weftv1.Action_Unjail:
		return k.Unjail.GetValidator()
	}
	return nil
}
