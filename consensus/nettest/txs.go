package nettest

import (
	"crypto/ecdsa"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/genesis"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// Transfer is a transfer action.
func Transfer(to common.Address, amount uint64) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_Transfer{Transfer: &weftv1.Transfer{To: to.Bytes(), Amount: uint256.NewInt(amount).Bytes()}}}
}

// RollupData is a rollup data action for the rollup named rollup.
func RollupData(rollup string, data []byte) *weftv1.Action {
	id := rollups.IDFromName(rollup)
	return &weftv1.Action{Kind: &weftv1.Action_RollupData{RollupData: &weftv1.RollupData{RollupId: id[:], Data: data}}}
}

// Delegate is a delegation of amount to the validator with consensus
// address val.
func Delegate(val common.Address, amount uint64) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_Delegate{Delegate: &weftv1.Delegate{Validator: val.Bytes(), Amount: uint256.NewInt(amount).Bytes()}}}
}

// Fee is what a tx with acts costs under p: fee_per_action per action plus
// fee_per_data_byte per byte of rollup data.
func Fee(p genesis.Params, acts ...*weftv1.Action) *uint256.Int {
	perAction, err := genesis.ParseAmount(p.FeePerAction)
	if err != nil {
		panic(fmt.Sprintf("nettest: params: %v", err))
	}
	perByte, err := genesis.ParseAmount(p.FeePerDataByte)
	if err != nil {
		panic(fmt.Sprintf("nettest: params: %v", err))
	}
	fee := new(uint256.Int).Mul(perAction, uint256.NewInt(uint64(len(acts))))
	for _, a := range acts {
		if rd := a.GetRollupData(); rd != nil {
			fee.Add(fee, new(uint256.Int).Mul(perByte, uint256.NewInt(uint64(len(rd.Data)))))
		}
	}
	return fee
}

// SignTx signs a tx of the network with key at nonce, its fee limit the
// exact fee.
func (nw *Network) SignTx(key *ecdsa.PrivateKey, nonce uint64, acts ...*weftv1.Action) []byte {
	raw, err := txcodec.Sign(key, &weftv1.TxBody{
		ChainId: nw.ChainID, Nonce: nonce, FeeLimit: Fee(nw.Params, acts...).Bytes(), Actions: acts,
	})
	if err != nil {
		panic(fmt.Sprintf("nettest: sign: %v", err))
	}
	return raw
}

// Commitment is the commitment item a block of txs (without its
// commitment item) at height must start with, computed here from the
// txs' bytes rather than by the app: txs that do not decode carry no
// rollup data, and a tx too large for the chain still counts, so a
// hostile block can have a right commitment and only the fault it is
// built for.
func Commitment(height int64, txs [][]byte) []byte {
	var leaves [][]byte
	var ids []rollups.ID
	for _, raw := range txs {
		var stx weftv1.SignedTx
		if proto.Unmarshal(raw, &stx) != nil {
			continue
		}
		var body weftv1.TxBody
		if proto.Unmarshal(stx.Body, &body) != nil {
			continue
		}
		pub, err := crypto.SigToPub(txcodec.SigningHash(stx.Body), stx.Signature)
		if err != nil {
			continue
		}
		sender := crypto.PubkeyToAddress(*pub)
		h := txcodec.TxHash(raw)
		for i, a := range body.Actions {
			rd := a.GetRollupData()
			if rd == nil || len(rd.RollupId) != rollups.IDLen {
				continue
			}
			leaves = append(leaves, rollups.LeafHash(&rollups.Item{TxHash: h[:], ActionIndex: uint32(i), Sender: sender.Bytes(), Data: rd.Data}))
			ids = append(ids, rollups.ID(rd.RollupId))
		}
	}
	c := rollups.BuildCommitmentFromLeaves(leaves, func(i int) rollups.ID { return ids[i] })
	c.Height = height
	return rollups.EncodeCommitment(c)
}
