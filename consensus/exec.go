package consensus

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/consensus/staking"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// applyTx runs tx on ov: all checks first against ov (which includes earlier
// txs of the block), then the writes. On rejection ov is unchanged. The fee
// goes to the staking reward pool, paid out to validators and delegators at
// the next block.
func applyTx(ov *Overlay, p *Params, tx *Tx, height int64) (*uint256.Int, *txcodec.Rejection) {
	st := view{ov.Child()}
	acc := st.Account(tx.Sender)
	bal := balanceOf(acc)
	fee, need := new(uint256.Int), new(uint256.Int)
	if rej := charge(acc.Nonce, bal, p, tx, fee, need); rej != nil {
		return nil, rej
	}
	acc.Nonce++
	acc.Balance = bal.Sub(bal, need).Bytes()
	st.SetAccount(tx.Sender, acc)
	for i, a := range tx.Body.Actions {
		switch k := a.Kind.(type) {
		case *weftv1.Action_RollupData:
			id, _ := rollups.IDFromBytes(k.RollupData.RollupId)
			if st.Rollup(id) == nil {
				return nil, unknownRollup(i, id)
			}
		case *weftv1.Action_Transfer:
			to := common.BytesToAddress(k.Transfer.To)
			credit(st, to, new(uint256.Int).SetBytes(k.Transfer.Amount))
		case *weftv1.Action_RegisterRollup:
			r := k.RegisterRollup
			id := rollups.IDFromName(r.Name)
			if rej := checkRegistration(st, i, r, map[rollups.ID]bool{}, map[uint64]bool{}); rej != nil {
				return nil, rej
			}
			st.registerRollup(&weftv1.Rollup{
				Id: id[:], Name: r.Name, Vm: r.Vm, EvmChainId: r.EvmChainId,
				Owner: tx.Sender.Bytes(), RegisteredHeight: height,
			})
		case *weftv1.Action_CreateValidator:
			if e := st.staking(p).CreateValidator(tx.Sender, k.CreateValidator, height); e != nil {
				return nil, stakingRejection(i, e)
			}
		case *weftv1.Action_Delegate:
			if e := st.staking(p).Delegate(tx.Sender, k.Delegate); e != nil {
				return nil, stakingRejection(i, e)
			}
		case *weftv1.Action_Undelegate:
			if e := st.staking(p).Undelegate(tx.Sender, k.Undelegate, height); e != nil {
				return nil, stakingRejection(i, e)
			}
		case *weftv1.Action_EditValidator:
			if e := st.staking(p).EditValidator(tx.Sender, k.EditValidator); e != nil {
				return nil, stakingRejection(i, e)
			}
		case *weftv1.Action_Unjail:
			if e := st.staking(p).Unjail(tx.Sender, k.Unjail, height); e != nil {
				return nil, stakingRejection(i, e)
			}
		}
	}
	st.staking(p).CollectFee(fee)
	st.ov.MergeInto(ov)
	return fee, nil
}

// charge is the rule every tx meets before its actions run, on either
// path (applyTx on the overlay, the ledger on its cached accounts): the
// sender's nonce is next, the fee limit covers the fee, and the balance bal
// covers the fee, the transfers and the stake. It writes the fee into fee
// and what the sender pays now (fee + transfers; stake moves with its
// action) into need.
func charge(nonce uint64, bal *uint256.Int, p *Params, tx *Tx, fee, need *uint256.Int) *txcodec.Rejection {
	if tx.nonce < nonce {
		return txcodec.Reject(txcodec.CodeNonceTooLow, fmt.Sprintf("nonce %d already used: account nonce is %d", tx.nonce, nonce))
	}
	if tx.nonce > nonce {
		return txcodec.Reject(txcodec.CodeNonceGap, fmt.Sprintf("nonce %d is ahead of account nonce %d", tx.nonce, nonce))
	}
	p.feeInto(fee, tx)
	if fee.Gt(tx.FeeLimit) {
		return txcodec.Reject(txcodec.CodeFeeTooLow, fmt.Sprintf("fee limit %s is below the fee %s", tx.FeeLimit, fee))
	}
	if _, overflow := need.AddOverflow(fee, tx.Transferred); overflow || need.Gt(bal) {
		return txcodec.Reject(txcodec.CodeInsufficientFunds, fmt.Sprintf("balance %s does not cover fee %s + transfers %s", bal, fee, tx.Transferred))
	}
	if tx.Bonded.IsZero() {
		return nil
	}
	if total, overflow := new(uint256.Int).AddOverflow(need, tx.Bonded); overflow || total.Gt(bal) {
		return txcodec.Reject(txcodec.CodeInsufficientFunds, fmt.Sprintf("balance %s does not cover fee %s + transfers %s + stake %s", bal, fee, tx.Transferred, tx.Bonded))
	}
	return nil
}

// unknownRollup rejects a tx whose action i carries data for rollup id,
// which is not registered.
func unknownRollup(i int, id rollups.ID) *txcodec.Rejection {
	return txcodec.Reject(txcodec.CodeUnknownRollup, fmt.Sprintf("action %d: rollup %s is not registered", i, id))
}

func stakingRejection(i int, e *staking.Error) *txcodec.Rejection {
	code := txcodec.CodeInvalidAction
	switch e.Kind {
	case staking.ErrNotFound:
		code = txcodec.CodeNotFound
	case staking.ErrExists:
		code = txcodec.CodeValidatorExists
	case staking.ErrFunds:
		code = txcodec.CodeInsufficientFunds
	case staking.ErrStakeTooLow:
		code = txcodec.CodeStakeTooLow
	case staking.ErrUnauthorized:
		code = txcodec.CodeUnauthorized
	case staking.ErrState:
		code = txcodec.CodeInvalidState
	case staking.ErrExceedsDelegation:
		code = txcodec.CodeExceedsDelegation
	}
	return txcodec.Reject(code, fmt.Sprintf("action %d: %s", i, e.Msg))
}

func credit(st view, to common.Address, amt *uint256.Int) {
	acc := st.Account(to)
	bal, overflow := new(uint256.Int).AddOverflow(balanceOf(acc), amt)
	if overflow {
		// Supply is bounded far below 2^256; overflow means a broken invariant.
		panic(fmt.Sprintf("invariant: balance overflow crediting %s", to))
	}
	acc.Balance = bal.Bytes()
	st.SetAccount(to, acc)
}

// rollupItems lists tx's RollupData actions as rollup items.
func rollupItems(tx *Tx, fn func(id rollups.ID, it *rollups.Item)) {
	for i, a := range tx.Body.Actions {
		if rd, ok := a.Kind.(*weftv1.Action_RollupData); ok {
			id, _ := rollups.IDFromBytes(rd.RollupData.RollupId)
			fn(id, &rollups.Item{
				TxHash: tx.Hash[:], ActionIndex: uint32(i), Sender: tx.Sender.Bytes(), Data: rd.RollupData.Data,
			})
		}
	}
}

// commitmentFor builds the commitment item of the block of height holding
// txs in order, from the leaf hashes computed when each tx was decoded.
func commitmentFor(txs []*Tx, height int64) []byte {
	n := 0
	for _, tx := range txs {
		n += len(tx.Leaves)
	}
	leaves := make([][]byte, 0, n)
	ids := make([]rollups.ID, 0, n)
	for _, tx := range txs {
		leaves = append(leaves, tx.Leaves...)
		ids = append(ids, tx.Rollups...)
	}
	c := rollups.BuildCommitmentFromLeaves(leaves, func(i int) rollups.ID { return ids[i] })
	c.Height = height
	return rollups.EncodeCommitment(c)
}

// BlockItems decodes a committed block's transactions and returns its
// commitment item and every rollup item with its rollup, in block order.
// Nodes serving rollup slices use it; txs that fail to decode are skipped
// (a committed block has none).
func BlockItems(txs [][]byte, lim Limits, fn func(id rollups.ID, it *rollups.Item)) (commitment []byte) {
	for i, raw := range txs {
		if i == 0 && rollups.IsCommitment(raw) {
			commitment = raw
			continue
		}
		tx, rej := DecodeTx(raw, lim)
		if rej != nil {
			continue
		}
		rollupItems(tx, fn)
	}
	return commitment
}
