package evm

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/contracts"
)

// DepositMagic starts a rollup item that credits L1 deposits instead of
// carrying transactions. A transaction's RLP list never starts with 0x00, so
// the two kinds of item cannot be confused.
var DepositMagic = []byte("\x00WEFTDP1")

// MaxDepositsPerItem bounds one deposit item.
const MaxDepositsPerItem = 1024

// Deposit is an ETH deposit made on L1 (WeftInbox.DepositInitiated), credited
// on the rollup once its L1 block is final.
type Deposit struct {
	Nonce uint64
	From  common.Address
	To    common.Address
	Value *big.Int
}

// EncodeDeposits returns the item data crediting ds, which must have
// consecutive nonces.
func EncodeDeposits(ds []Deposit) ([]byte, error) {
	if len(ds) == 0 || len(ds) > MaxDepositsPerItem {
		return nil, fmt.Errorf("deposit item: %d deposits, want 1..%d", len(ds), MaxDepositsPerItem)
	}
	body, err := rlp.EncodeToBytes(ds)
	if err != nil {
		return nil, err
	}
	return append(bytes.Clone(DepositMagic), body...), nil
}

// IsDepositItem reports whether item data is a deposit item.
func IsDepositItem(data []byte) bool { return bytes.HasPrefix(data, DepositMagic) }

// DecodeDeposits decodes a deposit item's data and checks its shape: 1 to
// MaxDepositsPerItem deposits with consecutive nonces, positive values that
// fit 256 bits, and non-zero recipients.
func DecodeDeposits(data []byte) ([]Deposit, error) {
	if !IsDepositItem(data) {
		return nil, errors.New("deposit item: missing magic")
	}
	var ds []Deposit
	if err := rlp.DecodeBytes(data[len(DepositMagic):], &ds); err != nil {
		return nil, fmt.Errorf("deposit item: %w", err)
	}
	if len(ds) == 0 || len(ds) > MaxDepositsPerItem {
		return nil, fmt.Errorf("deposit item: %d deposits, want 1..%d", len(ds), MaxDepositsPerItem)
	}
	for i, d := range ds {
		if i > 0 && d.Nonce != ds[i-1].Nonce+1 {
			return nil, fmt.Errorf("deposit item: nonce %d follows %d", d.Nonce, ds[i-1].Nonce)
		}
		if d.Value == nil || d.Value.Sign() <= 0 || d.Value.BitLen() > 256 {
			return nil, fmt.Errorf("deposit %d: value must be positive and fit 256 bits", d.Nonce)
		}
		if d.To == (common.Address{}) {
			return nil, fmt.Errorf("deposit %d: zero recipient", d.Nonce)
		}
	}
	return ds, nil
}

// DepositsProcessed reads how many deposits the rollup state has credited.
func DepositsProcessed(st *state.StateDB) uint64 {
	return st.GetState(contracts.L2BridgeAddress, contracts.L2BridgeDepositsSlot).Big().Uint64()
}

// applyDeposits credits the deposits of one item sent by sender, all or
// nothing: the sender must be the rollup's deposit relayer and the first
// nonce must be the next one the state expects.
func (e *Executor) applyDeposits(st *state.StateDB, sender []byte, data []byte) error {
	if e.cfg.DepositRelayer == (common.Address{}) {
		return errors.New("deposit item: this rollup has no deposit relayer")
	}
	if !bytes.Equal(sender, e.cfg.DepositRelayer.Bytes()) {
		return fmt.Errorf("deposit item: sender %x is not the deposit relayer", sender)
	}
	ds, err := DecodeDeposits(data)
	if err != nil {
		return err
	}
	next := DepositsProcessed(st)
	if ds[0].Nonce != next {
		return fmt.Errorf("deposit item: first nonce %d, want %d", ds[0].Nonce, next)
	}
	for _, d := range ds {
		v, _ := uint256.FromBig(d.Value)
		st.AddBalance(d.To, v, tracing.BalanceChangeUnspecified)
	}
	st.SetState(contracts.L2BridgeAddress, contracts.L2BridgeDepositsSlot, common.BigToHash(new(big.Int).SetUint64(next+uint64(len(ds)))))
	return nil
}
