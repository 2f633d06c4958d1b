package node

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"

	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/node/keys"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/settlement"
)

// L1Options say where a devnet settles its rollups.
type L1Options struct {
	// Disabled runs the devnet without L1 settlement.
	Disabled bool
	// RPC is an external Ethereum JSON-RPC endpoint; empty runs the
	// embedded L1 (go-ethereum's simulated backend) in the devnet process.
	RPC string
	// KeyFile is the deployer's key file for an external L1; it also funds
	// the batchers and the challenger.
	KeyFile string
	// Port is the embedded L1's HTTP/WS JSON-RPC port on 127.0.0.1 (0: any).
	Port int
	// BlockTime is the embedded L1's block interval.
	BlockTime time.Duration
	// ChallengeWindow is each inbox's challenge window in seconds.
	ChallengeWindow uint64
	// MaxBatchAge is how often a batch is posted under low load.
	MaxBatchAge time.Duration
	// DataDir keeps the embedded L1's chain on disk there (empty: in
	// memory, gone when it closes). SetupSettlement resumes a chain it
	// finds there.
	DataDir string
	// Resume, when set, is the L1 and deployment an earlier run set up:
	// SetupSettlement checks that the L1 is still that chain and holds those
	// contracts, and reuses them (no funding, no deployment).
	Resume *L1Record
}

// L1Record is what a devnet keeps about its L1 between runs (devnet.json).
type L1Record struct {
	// Embedded: the devnet's own L1, kept in the devnet dir; otherwise RPC.
	Embedded bool   `json:"embedded"`
	RPC      string `json:"rpc,omitempty"`
	// GenesisHash identifies the L1 chain (zero: not known).
	GenesisHash common.Hash            `json:"genesis_hash"`
	Deployment  *settlement.Deployment `json:"deployment"`
}

// DefaultL1Options are the devnet's: embedded L1 on 8545 with 1 s blocks,
// a 60 s challenge window, a batch at least every 5 s.
func DefaultL1Options() L1Options {
	return L1Options{Port: 8545, BlockTime: time.Second, ChallengeWindow: 60, MaxBatchAge: 5 * time.Second}
}

// L1Endpoints is the "l1" section of endpoints.json.
type L1Endpoints struct {
	RPC        string                 `json:"rpc"`
	Embedded   bool                   `json:"embedded"`
	Deployment *settlement.Deployment `json:"deployment"`
	// ChallengerKey is the key file of every rollup's challenger (for
	// `weft rollup verify --challenge`).
	ChallengerKey string `json:"challenger_key"`
	// GenesisHash is the hash of the L1's block 0.
	GenesisHash common.Hash `json:"genesis_hash"`
	// Resumed: the deployment of an earlier run was found and reused.
	Resumed bool `json:"-"`
	// Head is the L1 block number when SetupSettlement returned.
	Head uint64 `json:"-"`
}

// l1Funding is what the devnet gives each of its L1 accounts.
var l1Funding = new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(params.Ether))

// loadOrAddKey returns the key called name in dir, creating it first.
func loadOrAddKey(dir keys.Dir, name string) (*keys.Key, error) {
	if _, err := os.Stat(filepath.Join(string(dir), name+".json")); err == nil {
		return dir.Load(name)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	pk, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	return dir.Add(name, pk)
}

// SetupSettlement starts (or dials) the L1, deploys the registry with one
// inbox per rollup served by node0 of a testnet in dir, and points node0's
// rollup services at it: batcher key, deposit relaying, inbox. With
// o.Resume it deploys and funds nothing: it checks the L1 still holds that
// deployment and points node0 at it. The returned L1 is nil for an external
// endpoint; the caller closes it. It returns nil, nil, nil when node0 serves
// no rollup.
func SetupSettlement(ctx context.Context, dir string, m *Manifest, o L1Options, devAccounts int, log *slog.Logger) (*settlement.L1, *L1Endpoints, error) {
	home := m.Nodes[0].Home
	c, wc, err := LoadConfig(home)
	if err != nil {
		return nil, nil, err
	}
	if len(wc.Rollups) == 0 {
		return nil, nil, nil
	}
	gd, app, err := genesis.LoadCometBFT(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		return nil, nil, err
	}
	l1Keys := keys.Dir(filepath.Join(dir, "l1-keys"))
	nodeKeys := keys.Dir(filepath.Join(home, "keys"))
	challenger, err := loadOrAddKey(l1Keys, "challenger")
	if err != nil {
		return nil, nil, err
	}
	batchers := map[string]*keys.Key{}
	for _, svc := range wc.Rollups {
		if batchers[svc.Name], err = loadOrAddKey(nodeKeys, svc.Name+"-batcher"); err != nil {
			return nil, nil, err
		}
	}

	var (
		l1       *settlement.L1
		backend  settlement.DeployBackend
		deployer *ecdsa.PrivateKey
		rpcURL   = o.RPC
	)
	if o.Resume != nil && o.Resume.Deployment == nil {
		return nil, nil, errors.New("resume: no deployment recorded")
	}
	if o.RPC == "" {
		dep, err := loadOrAddKey(l1Keys, "deployer")
		if err != nil {
			return nil, nil, err
		}
		deployer = dep.Private
		if o.Resume != nil {
			// A missing chain would be created afresh, without the contracts.
			if o.DataDir == "" {
				return nil, nil, errors.New("resume: the embedded L1 has no data dir")
			}
			if _, err := os.Stat(filepath.Join(o.DataDir, "geth", "chaindata")); err != nil {
				return nil, nil, fmt.Errorf("resume: the embedded L1's chain is not in %s (%v)", o.DataDir, err)
			}
		}
		alloc := types.GenesisAlloc{dep.Address: {Balance: l1Funding}, challenger.Address: {Balance: l1Funding}}
		for _, b := range batchers {
			alloc[b.Address] = types.Account{Balance: l1Funding}
		}
		dev, err := keys.DevAccounts(devAccounts)
		if err != nil {
			return nil, nil, err
		}
		for _, k := range dev {
			alloc[crypto.PubkeyToAddress(k.PublicKey)] = types.Account{Balance: new(big.Int).Mul(big.NewInt(10_000), big.NewInt(params.Ether))}
		}
		l1, err = settlement.StartL1(settlement.L1Config{Alloc: alloc, BlockTime: o.BlockTime, HTTPHost: "127.0.0.1", HTTPPort: o.Port, WS: true, DataDir: o.DataDir})
		if err != nil {
			return nil, nil, fmt.Errorf("embedded L1: %w", err)
		}
		backend, rpcURL = l1.Client(), l1.URL()
		if l1.Resumed() && o.Resume == nil {
			log.Info("embedded L1: reopened a chain without a deployment; deploying on it", "dir", o.DataDir)
		}
	} else {
		if o.KeyFile == "" {
			return nil, nil, errors.New("--l1-rpc needs --l1-key (the deployer, which also funds the batchers and the challenger)")
		}
		k, err := keys.LoadFile(o.KeyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--l1-key: %w", err)
		}
		deployer = k.Private
		cl, err := ethclient.DialContext(ctx, o.RPC)
		if err != nil {
			return nil, nil, fmt.Errorf("dial L1 %s: %w", o.RPC, err)
		}
		backend = cl
		// fund only tops up accounts below min (on a resume too: the
		// batchers spend their L1 ether on every batch).
		min := big.NewInt(params.Ether / 2)
		for _, a := range append([]*keys.Key{challenger}, mapValues(batchers)...) {
			if err := fund(ctx, cl, deployer, a.Address, min); err != nil {
				cl.Close()
				return nil, nil, err
			}
		}
	}
	fail := func(err error) (*settlement.L1, *L1Endpoints, error) {
		if l1 != nil {
			l1.Close()
		}
		return nil, nil, err
	}
	gctx, gcancel := context.WithTimeout(ctx, 30*time.Second)
	defer gcancel()
	g, err := backend.HeaderByNumber(gctx, big.NewInt(0))
	if err != nil {
		return fail(fmt.Errorf("L1 genesis block: %w", err))
	}
	genesisHash := g.Hash()
	if o.Resume != nil {
		if err := checkDeployment(gctx, backend, o.Resume, genesisHash, wc.Rollups); err != nil {
			return fail(err)
		}
		for i := range wc.Rollups {
			svc := &wc.Rollups[i]
			r, _ := o.Resume.Deployment.Rollup(rollups.IDFromName(svc.Name))
			if svc.Settlement != nil && strings.EqualFold(svc.Settlement.Inbox, r.Inbox.Hex()) {
				// Keep the service's settings; only the endpoint may move
				// (another --l1-port, another external URL).
				svc.Settlement.L1RPC = rpcURL
			} else {
				svc.Settlement = settlementFor(svc, r, rpcURL, o)
			}
		}
		if err := WriteConfig(home, c, wc); err != nil {
			return fail(err)
		}
		head, err := backend.HeaderByNumber(gctx, nil)
		if err != nil {
			return fail(fmt.Errorf("L1 head: %w", err))
		}
		return l1, &L1Endpoints{
			RPC: rpcURL, Embedded: l1 != nil, Deployment: o.Resume.Deployment, ChallengerKey: filepath.Join(string(l1Keys), "challenger.json"),
			GenesisHash: genesisHash, Resumed: true, Head: head.Number.Uint64(),
		}, nil
	}

	var specs []settlement.RollupSpec
	for _, svc := range wc.Rollups {
		ecfg, err := GenesisRollupEVMConfig(svc, gd, app)
		if err != nil {
			return fail(err)
		}
		ex, err := evm.New(ecfg, nil)
		if err != nil {
			return fail(err)
		}
		root := ex.Head().Root
		ex.Close()
		specs = append(specs, settlement.RollupSpec{
			Name: svc.Name, ID: rollups.IDFromName(svc.Name), ChainID: ecfg.ChainID, Batcher: batchers[svc.Name].Address,
			Challenger: challenger.Address, ChallengeWindow: o.ChallengeWindow, GenesisRoot: root, StartHeight: 1,
		})
	}
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	dep, err := settlement.Deploy(dctx, backend, deployer, specs)
	if err != nil {
		return fail(fmt.Errorf("deploy settlement contracts: %w", err))
	}
	for i := range wc.Rollups {
		svc := &wc.Rollups[i]
		r, _ := dep.Rollup(rollups.IDFromName(svc.Name))
		svc.Settlement = settlementFor(svc, r, rpcURL, o)
		log.Info("rollup settles on L1", "rollup", svc.Name, "inbox", r.Inbox, "batcher", r.Batcher)
	}
	if err := WriteConfig(home, c, wc); err != nil {
		return fail(err)
	}
	head, err := backend.HeaderByNumber(dctx, nil)
	if err != nil {
		return fail(fmt.Errorf("L1 head: %w", err))
	}
	return l1, &L1Endpoints{
		RPC: rpcURL, Embedded: l1 != nil, Deployment: dep, ChallengerKey: filepath.Join(string(l1Keys), "challenger.json"),
		GenesisHash: genesisHash, Head: head.Number.Uint64(),
	}, nil
}

// settlementFor is node0's [rollup.settlement] table for svc settling in
// inbox r on the L1 at rpcURL.
func settlementFor(svc *RollupService, r settlement.DeployedRollup, rpcURL string, o L1Options) *SettlementConfig {
	return &SettlementConfig{
		L1RPC: rpcURL, Inbox: r.Inbox.Hex(), BatcherKey: filepath.Join("keys", svc.Name+"-batcher.json"),
		RelayerKey: svc.SubmitterKey, Confirmations: 1, MaxBatchAge: o.MaxBatchAge.String(), L1StartBlock: r.InboxBlock,
	}
}

// checkDeployment checks that the L1 behind b is the chain rec was made on
// (same genesis, when rec knows it) and still holds rec's contracts, with an
// inbox for each of node0's rollup services.
func checkDeployment(ctx context.Context, b settlement.DeployBackend, rec *L1Record, genesisHash common.Hash, svcs []RollupService) error {
	d := rec.Deployment
	if rec.GenesisHash != (common.Hash{}) && rec.GenesisHash != genesisHash {
		return fmt.Errorf("the L1 is another chain than the devnet's (genesis %s, the devnet's %s)", genesisHash, rec.GenesisHash)
	}
	chainID, err := b.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("L1 chain id: %w", err)
	}
	if chainID.Uint64() != d.L1ChainID {
		return fmt.Errorf("the L1 has chain id %d, the devnet's contracts are on chain %d", chainID, d.L1ChainID)
	}
	code := func(what string, a common.Address) error {
		c, err := b.CodeAt(ctx, a, nil)
		if err != nil {
			return fmt.Errorf("L1 code of %s %s: %w", what, a, err)
		}
		if len(c) == 0 {
			return fmt.Errorf("the L1 holds no %s at %s: it is not the chain the devnet deployed on (or lost its state)", what, a)
		}
		return nil
	}
	if err := code("registry", d.Registry); err != nil {
		return err
	}
	for _, svc := range svcs {
		r, ok := d.Rollup(rollups.IDFromName(svc.Name))
		if !ok {
			return fmt.Errorf("rollup %q has no inbox in the devnet's deployment (registry %s)", svc.Name, d.Registry)
		}
		if err := code("inbox of "+svc.Name, r.Inbox); err != nil {
			return err
		}
	}
	return nil
}

func mapValues(m map[string]*keys.Key) []*keys.Key {
	out := make([]*keys.Key, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// fund tops addr up to at least min wei from key on an external L1.
func fund(ctx context.Context, cl *ethclient.Client, key *ecdsa.PrivateKey, addr common.Address, min *big.Int) error {
	bal, err := cl.BalanceAt(ctx, addr, nil)
	if err != nil {
		return err
	}
	if bal.Cmp(min) >= 0 {
		return nil
	}
	chainID, err := cl.ChainID(ctx)
	if err != nil {
		return err
	}
	opts := bind.NewKeyedTransactor(key, chainID)
	nonce, err := cl.PendingNonceAt(ctx, opts.From)
	if err != nil {
		return err
	}
	tip, err := cl.SuggestGasTipCap(ctx)
	if err != nil {
		return err
	}
	head, err := cl.HeaderByNumber(ctx, nil)
	if err != nil {
		return err
	}
	feeCap := new(big.Int).Add(tip, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.DynamicFeeTx{
		ChainID: chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: 21000, To: &addr, Value: new(big.Int).Sub(min, bal),
	})
	if err != nil {
		return err
	}
	if err := cl.SendTransaction(ctx, tx); err != nil {
		return fmt.Errorf("fund %s: %w", addr, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	_, err = settlement.WaitReceipt(wctx, cl, tx.Hash())
	return err
}
