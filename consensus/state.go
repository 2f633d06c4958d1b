package consensus

import (
	"encoding/json"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/consensus/staking"
	"github.com/weftnet/weft/genesis"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

func accountKey(a common.Address) []byte {
	return append(append([]byte(nil), prefixAccount...), a[:]...)
}
func rollupKey(id rollups.ID) []byte { return append(append([]byte(nil), prefixRollup...), id[:]...) }
func txResultKey(h [32]byte) []byte  { return append(append([]byte(nil), prefixTxResult...), h[:]...) }

func mustMarshal(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("invariant: marshal %T: %v", m, err))
	}
	return b
}

// Params are the decoded chain parameters.
type Params struct {
	FeePerAction   *uint256.Int
	FeePerDataByte *uint256.Int
	MaxTxBytes     int64
	MaxActions     int
	Staking        *staking.Params
}

func paramsFrom(p genesis.Params) (*Params, error) {
	fa, err := genesis.ParseAmount(p.FeePerAction)
	if err != nil {
		return nil, err
	}
	fb, err := genesis.ParseAmount(p.FeePerDataByte)
	if err != nil {
		return nil, err
	}
	sp := p.Staking
	unbonding, err := sp.UnbondingDuration()
	if err != nil {
		return nil, err
	}
	st := &staking.Params{
		MaxValidators: sp.MaxValidators, UnbondingBlocks: sp.UnbondingBlocks, UnbondingTime: unbonding,
		SlashDoubleSignBps: sp.SlashDoubleSignBps, SlashDowntimeBps: sp.SlashDowntimeBps,
		SignedBlocksWindow: sp.SignedBlocksWindow, MaxMissedBlocks: sp.MaxMissedBlocks, DowntimeJailBlocks: sp.DowntimeJailBlocks,
	}
	for _, f := range []struct {
		dst **uint256.Int
		s   string
	}{{&st.MinSelfStake, sp.MinSelfStake}, {&st.PowerReduction, sp.PowerReduction}, {&st.BlockReward, sp.BlockReward}} {
		if *f.dst, err = genesis.ParseAmount(f.s); err != nil {
			return nil, err
		}
	}
	return &Params{FeePerAction: fa, FeePerDataByte: fb, MaxTxBytes: p.MaxTxBytes, MaxActions: p.MaxActions, Staking: st}, nil
}

// Fee is what tx costs: per action plus per byte of rollup data.
func (p *Params) Fee(tx *Tx) *uint256.Int { return p.feeInto(new(uint256.Int), tx) }

// feeInto is Fee written into dst, without allocating (block building
// computes it for every tx it offers).
func (p *Params) feeInto(dst *uint256.Int, tx *Tx) *uint256.Int {
	var n, d uint256.Int
	n.SetUint64(tx.nActions)
	dst.Mul(p.FeePerAction, &n)
	n.SetUint64(uint64(tx.DataBytes))
	d.Mul(p.FeePerDataByte, &n)
	return dst.Add(dst, &d)
}

// view gives typed access to state through an overlay. Read errors are
// infrastructure failures (a broken disk) and panic: consensus cannot go on
// deterministically without its state.
type view struct{ ov *Overlay }

func (v view) get(key []byte) ([]byte, bool) {
	b, ok, err := v.ov.Get(key)
	if err != nil {
		panic(fmt.Sprintf("state read %q: %v", key, err))
	}
	return b, ok
}

// Account returns the account at a (zero value when absent).
func (v view) Account(a common.Address) *weftv1.Account {
	acc := &weftv1.Account{}
	if b, ok := v.get(accountKey(a)); ok {
		if err := proto.Unmarshal(b, acc); err != nil {
			panic(fmt.Sprintf("invariant: corrupt account %s: %v", a, err))
		}
	}
	return acc
}

func balanceOf(acc *weftv1.Account) *uint256.Int { return new(uint256.Int).SetBytes(acc.Balance) }

// Balance implements staking.Bank.
func (v view) Balance(a common.Address) *uint256.Int { return balanceOf(v.Account(a)) }

// SetBalance implements staking.Bank.
func (v view) SetBalance(a common.Address, bal *uint256.Int) {
	acc := v.Account(a)
	acc.Balance = bal.Bytes()
	v.SetAccount(a, acc)
}

// staking returns the staking module over this view.
func (v view) staking(p *Params) *staking.Module { return staking.New(v.ov, v, p.Staking) }

func (v view) SetAccount(a common.Address, acc *weftv1.Account) {
	v.ov.Set(accountKey(a), mustMarshal(acc))
}

// Rollup returns the registered rollup id, or nil.
func (v view) Rollup(id rollups.ID) *weftv1.Rollup {
	b, ok := v.get(rollupKey(id))
	if !ok {
		return nil
	}
	r := &weftv1.Rollup{}
	if err := proto.Unmarshal(b, r); err != nil {
		panic(fmt.Sprintf("invariant: corrupt rollup %s: %v", id, err))
	}
	return r
}

func (v view) SetRollup(r *weftv1.Rollup) {
	id, _ := rollups.IDFromBytes(r.Id)
	v.ov.Set(rollupKey(id), mustMarshal(r))
}

func (v view) Params() *Params {
	b, ok := v.get(keyParams)
	if !ok {
		return nil
	}
	var gp genesis.Params
	if err := json.Unmarshal(b, &gp); err != nil {
		panic(fmt.Sprintf("invariant: corrupt params: %v", err))
	}
	p, err := paramsFrom(gp)
	if err != nil {
		panic(fmt.Sprintf("invariant: corrupt params: %v", err))
	}
	return p
}
