package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"path/filepath"
	"sync"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/event"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/keys"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/exec"
	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/feed"
	"github.com/weftnet/weft/rollups/rpc"
)

// RollupService is one rollup this node executes and serves, in weft.toml:
//
//	[[rollup]]
//	name = "alpha"
//	rpc_listen_addr = "127.0.0.1:8546"
//	submitter_key = "keys/alpha-submitter.json"
//	dev_alloc = 20
type RollupService struct {
	Name          string `toml:"name"`
	RPCListenAddr string `toml:"rpc_listen_addr"`
	// SubmitterKey is the key file (relative to the home) of the Weft account
	// that orders this rollup's txs; it pays Weft fees.
	SubmitterKey string `toml:"submitter_key"`
	// DevAlloc prefunds that many Hardhat/Anvil accounts on the rollup.
	DevAlloc int `toml:"dev_alloc"`
	// DevBalance is each dev account's balance in wei (decimal).
	DevBalance string `toml:"dev_balance"`
	// DepositRelayer is the Weft account (0x address) whose deposit items
	// credit L1 deposits on the rollup. Like the chain id and the dev
	// allocation it is part of the rollup's identity: every node and
	// verifier of the rollup must use the same. Empty: deposits refused.
	DepositRelayer string `toml:"deposit_relayer"`
	// AllowUnprotectedTxs makes the rollup's JSON-RPC accept legacy txs
	// without EIP-155 replay protection, like go-ethereum's
	// --rpc.allow-unprotected-txs (the deterministic deployment proxy's
	// published deployment tx is one). Off by default; the devnet turns it
	// on. It only decides what this node's RPC admits: every node executes
	// such a tx once it is ordered.
	AllowUnprotectedTxs bool `toml:"allow_unprotected_txs"`
	// Settlement, when present, makes this node settle the rollup on L1.
	Settlement *SettlementConfig `toml:"settlement"`
}

// rollupRuntime is a running rollup service.
type rollupRuntime struct {
	svc    RollupService
	id     rollups.ID
	exec   *evm.Executor
	server *rpc.Server
	feed   event.Feed
	// executed is how far the executor has gone: the batcher follows the
	// rollup through it (see rollupSource), so each height flows commit →
	// executor → batcher down one pipeline.
	executed progress
	status   settlementStatus
	// l1 is the rollup's settlement on L1, for the status snapshot (nil
	// when this node does not settle it).
	l1     *rollupL1
	bg     sync.WaitGroup // settlement goroutines
	cancel context.CancelFunc
	done   chan struct{}
}

// rollupBackend adapts the executor to the RPC layer.
type rollupBackend struct {
	*evm.Executor
	rt *rollupRuntime
}

func (b rollupBackend) SubscribeBlocks(ch chan<- *rpc.BlockEvent) event.Subscription {
	return b.rt.feed.Subscribe(ch)
}

// DevAlloc returns n Hardhat/Anvil accounts funded with balance wei each.
func DevAlloc(n int, balance *big.Int) (types.GenesisAlloc, error) {
	ks, err := keys.DevAccounts(n)
	if err != nil {
		return nil, err
	}
	alloc := types.GenesisAlloc{}
	for _, k := range ks {
		alloc[crypto.PubkeyToAddress(k.PublicKey)] = types.Account{Balance: new(big.Int).Set(balance)}
	}
	return alloc, nil
}

// RollupEVMConfig is the executor config of an EVM rollup service (Dir
// unset: in memory). Verifiers build the same config to re-derive the
// rollup, and the devnet to learn its genesis state root.
func RollupEVMConfig(svc RollupService, chainID, genesisTime uint64) (evm.Config, error) {
	bal, ok := new(big.Int).SetString(svc.DevBalance, 10)
	if !ok {
		bal = new(big.Int).Mul(big.NewInt(10_000), big.NewInt(params.Ether))
	}
	alloc, err := DevAlloc(svc.DevAlloc, bal)
	if err != nil {
		return evm.Config{}, err
	}
	cfg := evm.Config{Name: svc.Name, ChainID: chainID, Alloc: alloc, GenesisTime: genesisTime}
	if svc.DepositRelayer != "" {
		if !common.IsHexAddress(svc.DepositRelayer) {
			return evm.Config{}, fmt.Errorf("rollup %s: deposit_relayer %q is not a 0x address", svc.Name, svc.DepositRelayer)
		}
		cfg.DepositRelayer = common.HexToAddress(svc.DepositRelayer)
	}
	return cfg, cfg.Check()
}

// GenesisRollupEVMConfig is RollupEVMConfig for a service of the chain
// whose genesis is gd/app: the chain id comes from the genesis rollup.
func GenesisRollupEVMConfig(svc RollupService, gd *cmttypes.GenesisDoc, app *genesis.AppState) (evm.Config, error) {
	for _, r := range app.Rollups {
		if r.Name == svc.Name && r.EVMChainID != 0 {
			return RollupEVMConfig(svc, r.EVMChainID, uint64(gd.GenesisTime.Unix()))
		}
	}
	return evm.Config{}, fmt.Errorf("rollup %q is not an EVM rollup of this chain's genesis", svc.Name)
}

// HomeRollupEVMConfig is the executor config (Dir unset) of rollup name as
// the node at home runs it, with that service's settings.
func HomeRollupEVMConfig(home, name string) (evm.Config, RollupService, error) {
	_, wc, err := LoadConfig(home)
	if err != nil {
		return evm.Config{}, RollupService{}, err
	}
	gd, app, err := genesis.LoadCometBFT(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		return evm.Config{}, RollupService{}, err
	}
	for _, svc := range wc.Rollups {
		if svc.Name == name {
			cfg, err := GenesisRollupEVMConfig(svc, gd, app)
			return cfg, svc, err
		}
	}
	return evm.Config{}, RollupService{}, fmt.Errorf("rollup %q is not configured in %s", name, home)
}

// startRollups starts every configured rollup service: executor fed by the
// rollup feed, batched submitter, JSON-RPC server.
func (n *Node) startRollups() error {
	for _, svc := range n.wcfg.Rollups {
		rt, err := n.startRollup(svc)
		if err != nil {
			n.stopRollups()
			return fmt.Errorf("rollup %s: %w", svc.Name, err)
		}
		n.rollups = append(n.rollups, rt)
	}
	if n.wcfg.RollupBundleKey == "" || len(n.rollups) == 0 {
		return nil
	}
	key, err := keys.LoadFile(filepath.Join(n.home, n.wcfg.RollupBundleKey))
	if err != nil {
		n.stopRollups()
		return fmt.Errorf("rollup bundle key: %w", err)
	}
	servers := map[string]*rpc.Server{}
	for _, rt := range n.rollups {
		servers[rt.svc.Name] = rt.server
	}
	return rpc.RegisterBundler(rpc.NewBundler(key.Private, n.app, servers), servers)
}

func (n *Node) startRollup(svc RollupService) (*rollupRuntime, error) {
	id := rollups.IDFromName(svc.Name)
	reg := n.app.Reader().Rollup(id)
	if reg == nil {
		return nil, fmt.Errorf("rollup %q is not registered on this chain", svc.Name)
	}
	if reg.Vm != "evm" {
		return nil, fmt.Errorf("rollup %q has vm %q; this node runs evm rollups", svc.Name, reg.Vm)
	}
	ecfg, err := RollupEVMConfig(svc, reg.EvmChainId, uint64(n.cmt.GenesisDoc().GenesisTime.Unix()))
	if err != nil {
		return nil, err
	}
	ecfg.Dir = filepath.Join(n.ccfg.DBDir(), "rollups", svc.Name)
	log := n.log.With("module", "rollup", "rollup", svc.Name)
	ex, err := evm.New(ecfg, log)
	if err != nil {
		return nil, err
	}
	key, err := keys.LoadFile(filepath.Join(n.home, svc.SubmitterKey))
	if err != nil {
		ex.Close()
		return nil, fmt.Errorf("submitter key: %w", err)
	}
	rt := &rollupRuntime{svc: svc, id: id, exec: ex, done: make(chan struct{})}
	rt.executed.advance(ex.LastWeftHeight())
	rt.status.exec = ex
	sub := rpc.NewSubmitter(rpc.SubmitterConfig{Rollup: id, Key: key.Private, FeeLimit: uint256.NewInt(1e17)}, n.app, log)
	progress := func() (int64, int64, bool) {
		chain, _ := n.app.Committed()
		return ex.LastWeftHeight(), chain, n.cmt.ConsensusReactor().WaitSync()
	}
	rt.server, err = rpc.NewServer(rpc.Config{Name: svc.Name, ListenAddr: svc.RPCListenAddr, Settlement: &rt.status, Progress: progress, AllowUnprotectedTxs: svc.AllowUnprotectedTxs}, rollupBackend{ex, rt}, sub, log)
	if err != nil {
		ex.Close()
		return nil, err
	}
	if err := rt.server.Start(); err != nil {
		ex.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	rt.cancel = cancel
	go n.driveRollup(ctx, rt, log)
	if err := n.startSettlement(ctx, rt, log); err != nil {
		cancel()
		<-rt.done
		rt.bg.Wait()
		rt.server.Stop()
		ex.Close()
		return nil, err
	}
	log.Info("rollup service started", "rpc", rt.server.Addr(), "evm_chain_id", reg.EvmChainId, "weft_height", ex.LastWeftHeight(), "submitter", key.Address)
	return rt, nil
}

// driveRollup feeds committed slices to the executor and publishes each
// executed block to RPC subscribers.
func (n *Node) driveRollup(ctx context.Context, rt *rollupRuntime, log *slog.Logger) {
	defer close(rt.done)
	blocks := make(chan *evm.BlockEvent, 64)
	sub := rt.exec.SubscribeBlocks(blocks)
	defer sub.Unsubscribe()
	go func() {
		for {
			select {
			case ev := <-blocks:
				out := &rpc.BlockEvent{Block: ev.Block, Receipts: ev.Receipts, Logs: ev.Logs}
				for _, s := range rt.exec.Skipped(ev.Block.NumberU64()) {
					out.Skipped = append(out.Skipped, s.Hash)
				}
				rt.feed.Send(out)
			case <-sub.Err():
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	for ctx.Err() == nil {
		err := feed.Follow(ctx, n.splitter, rt.id, rt.exec.LastWeftHeight()+1, func(s *weftv1.RollupSlice) error {
			if err := rt.exec.Execute(s); err != nil {
				return err
			}
			rt.executed.advance(rt.exec.LastWeftHeight())
			return nil
		})
		if err == nil || ctx.Err() != nil {
			return
		}
		if errors.Is(err, exec.ErrHeightGap) {
			continue // re-stream from the executor's head
		}
		log.Error("rollup executor stopped", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (n *Node) stopRollups() {
	var wg sync.WaitGroup
	for _, rt := range n.rollups {
		wg.Add(1)
		go func(rt *rollupRuntime) {
			defer wg.Done()
			rt.server.Stop()
			rt.cancel()
			<-rt.done
			rt.bg.Wait()
			if err := rt.exec.Close(); err != nil {
				n.log.Error("close rollup executor", "rollup", rt.svc.Name, "err", err)
			}
		}(rt)
	}
	wg.Wait()
	n.rollups = nil
}

// RollupRPCAddrs maps each served rollup to its JSON-RPC address.
func (n *Node) RollupRPCAddrs() map[string]string {
	out := map[string]string{}
	for _, rt := range n.rollups {
		out[rt.svc.Name] = rt.server.Addr()
	}
	return out
}

var _ exec.Executor = (*evm.Executor)(nil)
