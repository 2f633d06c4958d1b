package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	cryptoenc "github.com/cometbft/cometbft/crypto/encoding"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/genesis"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

// Genesis: InitChain writes the genesis app state and the staking module's
// initial validator set.

// InitChain loads the genesis app state.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	// A node killed after InitChain wrote the genesis state but before
	// CometBFT recorded it is asked again on restart: the state is there,
	// whole (Commit is atomic), and is not written twice.
	if h, ah := a.Committed(); h == req.InitialHeight-1 && ah != nil && a.ChainID() == req.ChainId {
		a.log.Info("genesis state already written", "chain_id", req.ChainId, "height", h)
		return &abci.ResponseInitChain{AppHash: ah}, nil
	}
	gs, err := genesis.ParseAppState(req.AppStateBytes)
	if err != nil {
		return nil, err
	}
	params, err := paramsFrom(gs.Params)
	if err != nil {
		return nil, err
	}
	// Stake must stay slashable for as long as evidence against it can be
	// submitted: CometBFT's evidence must expire before unbonding does.
	if cp := req.ConsensusParams; cp != nil && cp.Evidence != nil {
		if err := gs.Params.Staking.CheckEvidence(cmttypes.EvidenceParams{MaxAgeNumBlocks: cp.Evidence.MaxAgeNumBlocks, MaxAgeDuration: cp.Evidence.MaxAgeDuration}); err != nil {
			return nil, err
		}
	}
	ov := NewOverlay(a.store)
	st := view{ov}
	pj, _ := json.Marshal(gs.Params)
	ov.Set(keyParams, pj)
	ov.Set(keyChainID, []byte(req.ChainId))
	for _, acc := range gs.Accounts {
		addr, _ := genesis.ParseAddress(acc.Address)
		bal, _ := genesis.ParseAmount(acc.Balance)
		st.SetAccount(addr, &weftv1.Account{Balance: bal.Bytes()})
	}
	for _, r := range gs.Rollups {
		id := rollups.IDFromName(r.Name)
		if _, taken := st.evmChainOwner(r.EVMChainID); taken && r.EVMChainID != 0 {
			return nil, fmt.Errorf("genesis: rollup %q: evm chain id %d is already used by another rollup", r.Name, r.EVMChainID)
		}
		st.registerRollup(&weftv1.Rollup{Id: id[:], Name: r.Name, Vm: r.VM, EvmChainId: r.EVMChainID, BlockWeight: r.Weight})
	}
	if err := initStaking(st, params, gs, req.Validators); err != nil {
		return nil, err
	}
	appHash := NextAppHash(nil, req.InitialHeight-1, ov.Hash())
	if err := a.store.Commit(ov, req.InitialHeight-1, appHash, nil); err != nil {
		return nil, fmt.Errorf("write genesis state: %w", err)
	}
	a.mu.Lock()
	a.chainID, a.params, a.height, a.appHash = req.ChainId, params, req.InitialHeight-1, appHash
	a.mu.Unlock()
	if err := a.refreshWeights(); err != nil {
		return nil, err
	}
	a.log.Info("initialised chain", "chain_id", req.ChainId, "accounts", len(gs.Accounts), "rollups", len(gs.Rollups))
	return &abci.ResponseInitChain{AppHash: appHash}, nil
}

// initStaking bonds the genesis validators' stakes, records the supply and
// checks that CometBFT's genesis validator set is exactly the staked one.
func initStaking(st view, params *Params, gs *genesis.AppState, cmtVals []abci.ValidatorUpdate) error {
	sm := st.staking(params)
	supply := new(uint256.Int)
	for _, acc := range gs.Accounts {
		bal, _ := genesis.ParseAmount(acc.Balance)
		supply.Add(supply, bal)
	}
	if len(gs.Validators) == 0 {
		return errors.New("genesis: app_state.validators is empty: the staking module needs the genesis validators' stakes")
	}
	set := map[common.Address]int64{}
	for i, v := range gs.Validators {
		pk, _ := genesis.ParseValidatorKey(v.PubKey)
		op, _ := genesis.ParseAddress(v.Operator)
		stake, _ := genesis.ParseAmount(v.Stake)
		apk, pop, _ := genesis.ParseAttestationKey(v.AttestationPubKey, v.AttestationPop)
		power, err := sm.Genesis(pk, apk, pop, op, stake, v.CommissionBps, v.Name)
		if err != nil {
			return fmt.Errorf("genesis: app_state.validators[%d]: %w", i, err)
		}
		supply.Add(supply, stake)
		set[common.BytesToAddress(pk.Address())] = power
	}
	if len(cmtVals) != len(set) {
		return fmt.Errorf("genesis: %d CometBFT validators but %d staked validators in app_state", len(cmtVals), len(set))
	}
	for _, u := range cmtVals {
		pk, err := cryptoenc.PubKeyFromProto(u.PubKey)
		if err != nil {
			return fmt.Errorf("genesis validator key: %w", err)
		}
		a := common.BytesToAddress(pk.Address())
		if p, ok := set[a]; !ok || p != u.Power {
			return fmt.Errorf("genesis: validator %s has power %d in CometBFT's genesis but stake for power %d in app_state", a, u.Power, p)
		}
		sm.SetPower(a, u.Power)
	}
	sm.SetLastSet(set)
	sm.SetSupply(supply)
	return nil
}
