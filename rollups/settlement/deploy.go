package settlement

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/weftnet/weft/contracts"
	"github.com/weftnet/weft/contracts/bindings"
	"github.com/weftnet/weft/rollups/txmgr"
)

// RollupSpec is what Deploy registers for one rollup.
type RollupSpec struct {
	Name            string
	ID              [32]byte
	ChainID         uint64
	Batcher         common.Address
	Challenger      common.Address
	ChallengeWindow uint64 // seconds
	GenesisRoot     common.Hash
	StartHeight     uint64
}

// Deployment is where the settlement contracts live on an L1. It is written
// to endpoints.json by the devnet.
type Deployment struct {
	L1ChainID uint64         `json:"l1ChainId"`
	Registry  common.Address `json:"registry"`
	// RegistryBlock is the L1 block of the registry's deployment: log
	// queries about it and its inboxes start here.
	RegistryBlock uint64           `json:"registryBlock"`
	Rollups       []DeployedRollup `json:"rollups"`
}

// DeployedRollup is one registered rollup and its inbox.
type DeployedRollup struct {
	Name            string         `json:"name,omitempty"` // not on chain: empty after Attach
	ID              common.Hash    `json:"id"`
	ChainID         uint64         `json:"chainId"`
	Inbox           common.Address `json:"inbox"`
	InboxBlock      uint64         `json:"inboxBlock"` // L1 block of registration
	Batcher         common.Address `json:"batcher"`
	Challenger      common.Address `json:"challenger"`
	ChallengeWindow uint64         `json:"challengeWindow"`
	L2Bridge        common.Address `json:"l2Bridge"`
	GenesisRoot     common.Hash    `json:"genesisRoot"`
	StartHeight     uint64         `json:"startHeight"`
}

// Rollup returns the deployed rollup with the given id.
func (d *Deployment) Rollup(id [32]byte) (DeployedRollup, bool) {
	for _, r := range d.Rollups {
		if r.ID == id {
			return r, true
		}
	}
	return DeployedRollup{}, false
}

// DeployBackend is what Deploy needs of an L1 client.
type DeployBackend interface {
	bind.ContractBackend
	bind.DeployBackend
	ChainID(ctx context.Context) (*big.Int, error)
	NonceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (uint64, error)
}

// ReceiptPollInterval is how often Deploy and WaitReceipt poll for a receipt.
// (bind.WaitMined polls every second, too slow for a 100ms devnet L1.)
var ReceiptPollInterval = 50 * time.Millisecond

// WaitReceipt waits until txHash is mined and returns its receipt; a
// reverted transaction is an error. ctx bounds the wait.
func WaitReceipt(ctx context.Context, b bind.DeployBackend, txHash common.Hash) (*types.Receipt, error) {
	t := time.NewTicker(ReceiptPollInterval)
	defer t.Stop()
	for {
		r, err := b.TransactionReceipt(ctx, txHash)
		if err == nil {
			if r.Status != types.ReceiptStatusSuccessful {
				return r, fmt.Errorf("tx %s reverted (block %d, gas %d)", txHash, r.BlockNumber, r.GasUsed)
			}
			return r, nil
		}
		if !txmgr.NotMined(err) {
			return nil, fmt.Errorf("receipt of %s: %w", txHash, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for tx %s: %w", txHash, ctx.Err())
		case <-t.C:
		}
	}
}

// Deploy deploys WeftRegistry owned by key's address and registers every
// rollup (deploying its WeftInbox, l2Bridge = contracts.L2BridgeAddress),
// waiting for each receipt. Blocks must be produced meanwhile (the embedded
// L1's producer, or a real chain); give ctx a deadline.
func Deploy(ctx context.Context, b DeployBackend, key *ecdsa.PrivateKey, rollups []RollupSpec) (*Deployment, error) {
	chainID, err := b.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("deploy: chain id: %w", err)
	}
	opts := bind.NewKeyedTransactor(key, chainID)
	opts.Context = ctx

	reg := bindings.NewWeftRegistry()
	addr, tx, err := bind.DeployContract(opts, common.FromHex(bindings.WeftRegistryMetaData.Bin), b, reg.PackConstructor(opts.From))
	if err != nil {
		return nil, fmt.Errorf("deploy registry: %w", DecodeRevert(err))
	}
	rcpt, err := WaitReceipt(ctx, b, tx.Hash())
	if err != nil {
		return nil, fmt.Errorf("deploy registry: %w", err)
	}
	if rcpt.ContractAddress != addr {
		return nil, fmt.Errorf("deploy registry: receipt address %s, expected %s", rcpt.ContractAddress, addr)
	}
	// Gas for the registrations is estimated against the node's pending
	// state, which geth rebuilds a moment after a block: wait until it holds
	// the registry, or the estimate would price a call to an empty address.
	for {
		code, err := b.PendingCodeAt(ctx, addr)
		if err != nil {
			return nil, fmt.Errorf("deploy registry: %w", err)
		}
		if len(code) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("deploy registry: pending state never showed its code: %w", ctx.Err())
		case <-time.After(ReceiptPollInterval):
		}
	}
	d := &Deployment{L1ChainID: chainID.Uint64(), Registry: addr, RegistryBlock: rcpt.BlockNumber.Uint64()}
	regc := reg.Instance(b, addr)
	for _, r := range rollups {
		data, err := reg.TryPackRegister(r.ID, r.ChainID, r.Batcher, r.Challenger, r.ChallengeWindow, contracts.L2BridgeAddress, r.GenesisRoot, r.StartHeight)
		if err != nil {
			return nil, fmt.Errorf("register %q: %w", r.Name, err)
		}
		tx, err := bind.Transact(regc, opts, data)
		if err != nil {
			return nil, fmt.Errorf("register %q: %w", r.Name, DecodeRevert(err))
		}
		rcpt, err := WaitReceipt(ctx, b, tx.Hash())
		if err != nil {
			return nil, fmt.Errorf("register %q: %w", r.Name, err)
		}
		var ev *bindings.WeftRegistryRollupRegistered
		for _, lg := range rcpt.Logs {
			if e, err := reg.UnpackRollupRegisteredEvent(lg); err == nil {
				ev = e
			}
		}
		if ev == nil {
			return nil, fmt.Errorf("register %q: no RollupRegistered event in receipt", r.Name)
		}
		d.Rollups = append(d.Rollups, DeployedRollup{
			Name:            r.Name,
			ID:              r.ID,
			ChainID:         r.ChainID,
			Inbox:           ev.Inbox,
			InboxBlock:      rcpt.BlockNumber.Uint64(),
			Batcher:         r.Batcher,
			Challenger:      r.Challenger,
			ChallengeWindow: r.ChallengeWindow,
			L2Bridge:        contracts.L2BridgeAddress,
			GenesisRoot:     r.GenesisRoot,
			StartHeight:     r.StartHeight,
		})
	}
	return d, nil
}

// AttachBackend is what Attach needs of an L1 client.
type AttachBackend interface {
	bind.ContractCaller
	ethereum.LogFilterer
	ChainID(ctx context.Context) (*big.Int, error)
}

// Attach reads a deployment back from the registry at registryAddr: the
// rollups from its RollupRegistered events (in registration order), their
// current batcher and challenger from the registry, the rest from each inbox.
func Attach(ctx context.Context, b AttachBackend, registryAddr common.Address) (*Deployment, error) {
	chainID, err := b.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("attach: chain id: %w", err)
	}
	reg := bindings.NewWeftRegistry()
	regc := bind.NewBoundContract(registryAddr, reg.GetABI(), b, nil, nil)
	call := &bind.CallOpts{Context: ctx}
	if _, err := bind.Call(regc, call, reg.PackOwner(), reg.UnpackOwner); err != nil {
		return nil, fmt.Errorf("attach: registry %s: %w", registryAddr, err)
	}
	logs, err := b.FilterLogs(ctx, ethereum.FilterQuery{
		Addresses: []common.Address{registryAddr},
		Topics:    [][]common.Hash{{reg.GetABI().Events["RollupRegistered"].ID, reg.GetABI().Events["OwnershipTransferred"].ID}},
	})
	if err != nil {
		return nil, fmt.Errorf("attach: registry logs: %w", err)
	}
	d := &Deployment{L1ChainID: chainID.Uint64(), Registry: registryAddr}
	first := true
	inbox := bindings.NewWeftInbox()
	for i := range logs {
		lg := &logs[i]
		if lg.Removed {
			continue
		}
		if first {
			d.RegistryBlock = lg.BlockNumber // the constructor's OwnershipTransferred
			first = false
		}
		ev, err := reg.UnpackRollupRegisteredEvent(lg)
		if err != nil {
			continue
		}
		r, err := bind.Call(regc, call, reg.PackRollup(ev.RollupId), reg.UnpackRollup)
		if err != nil {
			return nil, fmt.Errorf("attach: rollup %x: %w", ev.RollupId, err)
		}
		ic := bind.NewBoundContract(ev.Inbox, inbox.GetABI(), b, nil, nil)
		bridge, err := bind.Call(ic, call, inbox.PackL2Bridge(), inbox.UnpackL2Bridge)
		if err != nil {
			return nil, fmt.Errorf("attach: inbox %s: %w", ev.Inbox, err)
		}
		genesis, err := bind.Call(ic, call, inbox.PackGenesisRoot(), inbox.UnpackGenesisRoot)
		if err != nil {
			return nil, fmt.Errorf("attach: inbox %s: %w", ev.Inbox, err)
		}
		start, err := bind.Call(ic, call, inbox.PackStartHeight(), inbox.UnpackStartHeight)
		if err != nil {
			return nil, fmt.Errorf("attach: inbox %s: %w", ev.Inbox, err)
		}
		d.Rollups = append(d.Rollups, DeployedRollup{
			ID:              ev.RollupId,
			ChainID:         ev.ChainId,
			Inbox:           ev.Inbox,
			InboxBlock:      lg.BlockNumber,
			Batcher:         r.Batcher,
			Challenger:      r.Challenger,
			ChallengeWindow: ev.ChallengeWindow,
			L2Bridge:        bridge,
			GenesisRoot:     genesis,
			StartHeight:     start,
		})
	}
	return d, nil
}
