package devnet

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

	cfg "github.com/cometbft/cometbft/config"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"

	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/keys"
	"github.com/weftnet/weft/node"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/settlement"
	"github.com/weftnet/weft/rollups/txmgr"
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
	s := &settlementSetup{o: o, log: log, home: m.Nodes[0].Home}
	var err error
	if s.c, s.wc, err = node.LoadConfig(s.home); err != nil {
		return nil, nil, err
	}
	if len(s.wc.Rollups) == 0 {
		return nil, nil, nil
	}
	gd, app, err := genesis.LoadCometBFT(filepath.Join(s.home, "config", "genesis.json"))
	if err != nil {
		return nil, nil, err
	}
	if err := s.loadKeys(dir); err != nil {
		return nil, nil, err
	}
	s.rpcURL = o.RPC
	if o.Resume != nil && o.Resume.Deployment == nil {
		return nil, nil, errors.New("resume: no deployment recorded")
	}
	if o.RPC == "" {
		err = s.startEmbeddedL1(devAccounts)
	} else {
		err = s.dialExternalL1(ctx)
	}
	if err != nil {
		return nil, nil, err
	}
	gctx, gcancel := context.WithTimeout(ctx, 30*time.Second)
	defer gcancel()
	g, err := s.backend.HeaderByNumber(gctx, big.NewInt(0))
	if err != nil {
		return s.fail(fmt.Errorf("L1 genesis block: %w", err))
	}
	genesisHash := g.Hash()
	if o.Resume != nil {
		return s.resume(gctx, genesisHash)
	}
	return s.deploy(ctx, gd, app, genesisHash)
}

// settlementSetup is what SetupSettlement works with: node0's
// configuration, the L1 keys and the L1 it settles on.
type settlementSetup struct {
	o    L1Options
	log  *slog.Logger
	home string // node0's
	c    *cfg.Config
	wc   node.Config
	// l1Keys holds the deployer (embedded L1) and challenger keys.
	l1Keys     keys.Dir
	challenger *keys.Key
	batchers   map[string]*keys.Key // by rollup name, in node0's keys
	l1         *settlement.L1       // nil for an external L1
	backend    settlement.DeployBackend
	deployer   *ecdsa.PrivateKey
	rpcURL     string
}

// loadKeys loads (creating them first) the challenger's key in dir and a
// batcher key per rollup service in node0's keys.
func (s *settlementSetup) loadKeys(dir string) error {
	s.l1Keys = keys.Dir(filepath.Join(dir, "l1-keys"))
	nodeKeys := keys.Dir(filepath.Join(s.home, "keys"))
	var err error
	if s.challenger, err = loadOrAddKey(s.l1Keys, "challenger"); err != nil {
		return err
	}
	s.batchers = map[string]*keys.Key{}
	for _, svc := range s.wc.Rollups {
		if s.batchers[svc.Name], err = loadOrAddKey(nodeKeys, svc.Name+"-batcher"); err != nil {
			return err
		}
	}
	return nil
}

// startEmbeddedL1 starts the embedded L1 (reopening its chain in
// o.DataDir), with the deployer, the challenger, the batchers and the dev
// accounts funded at genesis. On a resume the chain must be there.
func (s *settlementSetup) startEmbeddedL1(devAccounts int) error {
	o := s.o
	dep, err := loadOrAddKey(s.l1Keys, "deployer")
	if err != nil {
		return err
	}
	s.deployer = dep.Private
	if o.Resume != nil {
		// A missing chain would be created afresh, without the contracts.
		if o.DataDir == "" {
			return errors.New("resume: the embedded L1 has no data dir")
		}
		if _, err := os.Stat(filepath.Join(o.DataDir, "geth", "chaindata")); err != nil {
			return fmt.Errorf("resume: the embedded L1's chain is not in %s (%v)", o.DataDir, err)
		}
	}
	alloc := types.GenesisAlloc{dep.Address: {Balance: l1Funding}, s.challenger.Address: {Balance: l1Funding}}
	for _, b := range s.batchers {
		alloc[b.Address] = types.Account{Balance: l1Funding}
	}
	dev, err := keys.DevAccounts(devAccounts)
	if err != nil {
		return err
	}
	for _, k := range dev {
		alloc[crypto.PubkeyToAddress(k.PublicKey)] = types.Account{Balance: new(big.Int).Mul(big.NewInt(10_000), big.NewInt(params.Ether))}
	}
	l1, err := settlement.StartL1(settlement.L1Config{Alloc: alloc, BlockTime: o.BlockTime, HTTPHost: "127.0.0.1", HTTPPort: o.Port, WS: true, DataDir: o.DataDir})
	if err != nil {
		return fmt.Errorf("embedded L1: %w", err)
	}
	s.l1 = l1
	s.backend, s.rpcURL = l1.Client(), l1.URL()
	if l1.Resumed() && o.Resume == nil {
		s.log.Info("embedded L1: reopened a chain without a deployment; deploying on it", "dir", o.DataDir)
	}
	return nil
}

// dialExternalL1 dials the L1 at o.RPC with the deployer of o.KeyFile,
// which tops up the challenger and the batchers.
func (s *settlementSetup) dialExternalL1(ctx context.Context) error {
	o := s.o
	if o.KeyFile == "" {
		return errors.New("--l1-rpc needs --l1-key (the deployer, which also funds the batchers and the challenger)")
	}
	k, err := keys.LoadFile(o.KeyFile)
	if err != nil {
		return fmt.Errorf("--l1-key: %w", err)
	}
	s.deployer = k.Private
	cl, err := ethclient.DialContext(ctx, o.RPC)
	if err != nil {
		return fmt.Errorf("dial L1 %s: %w", o.RPC, err)
	}
	s.backend = cl
	// fund only tops up accounts below min (on a resume too: the
	// batchers spend their L1 ether on every batch).
	min := big.NewInt(params.Ether / 2)
	for _, a := range append([]*keys.Key{s.challenger}, mapValues(s.batchers)...) {
		if err := fund(ctx, cl, s.deployer, a.Address, min); err != nil {
			cl.Close()
			return err
		}
	}
	return nil
}

// fail closes the embedded L1, if any, and returns err.
func (s *settlementSetup) fail(err error) (*settlement.L1, *L1Endpoints, error) {
	if s.l1 != nil {
		s.l1.Close()
	}
	return nil, nil, err
}

// resume checks that the L1 (of genesisHash) still holds the deployment
// of o.Resume and points node0's rollup services at it.
func (s *settlementSetup) resume(ctx context.Context, genesisHash common.Hash) (*settlement.L1, *L1Endpoints, error) {
	o, wc := s.o, s.wc
	if err := checkDeployment(ctx, s.backend, o.Resume, genesisHash, wc.Rollups); err != nil {
		return s.fail(err)
	}
	for i := range wc.Rollups {
		svc := &wc.Rollups[i]
		r, _ := o.Resume.Deployment.Rollup(rollups.IDFromName(svc.Name))
		if svc.Settlement != nil && strings.EqualFold(svc.Settlement.Inbox, r.Inbox.Hex()) {
			// Keep the service's settings; only the endpoint may move
			// (another --l1-port, another external URL).
			svc.Settlement.L1RPC = s.rpcURL
		} else {
			svc.Settlement = settlementFor(svc, r, s.rpcURL, o)
		}
	}
	if err := node.WriteConfig(s.home, s.c, wc); err != nil {
		return s.fail(err)
	}
	head, err := s.backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return s.fail(fmt.Errorf("L1 head: %w", err))
	}
	return s.l1, &L1Endpoints{
		RPC: s.rpcURL, Embedded: s.l1 != nil, Deployment: o.Resume.Deployment, ChallengerKey: filepath.Join(string(s.l1Keys), "challenger.json"),
		GenesisHash: genesisHash, Resumed: true, Head: head.Number.Uint64(),
	}, nil
}

// deploy deploys the registry and an inbox per rollup service on the L1
// (of genesisHash) and points node0's rollup services at them.
func (s *settlementSetup) deploy(ctx context.Context, gd *cmttypes.GenesisDoc, app *genesis.AppState, genesisHash common.Hash) (*settlement.L1, *L1Endpoints, error) {
	o, wc := s.o, s.wc
	specs, err := s.rollupSpecs(gd, app)
	if err != nil {
		return s.fail(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	dep, err := settlement.Deploy(dctx, s.backend, s.deployer, specs)
	if err != nil {
		return s.fail(fmt.Errorf("deploy settlement contracts: %w", err))
	}
	for i := range wc.Rollups {
		svc := &wc.Rollups[i]
		r, _ := dep.Rollup(rollups.IDFromName(svc.Name))
		svc.Settlement = settlementFor(svc, r, s.rpcURL, o)
		s.log.Info("rollup settles on L1", "rollup", svc.Name, "inbox", r.Inbox, "batcher", r.Batcher)
	}
	if err := node.WriteConfig(s.home, s.c, wc); err != nil {
		return s.fail(err)
	}
	head, err := s.backend.HeaderByNumber(dctx, nil)
	if err != nil {
		return s.fail(fmt.Errorf("L1 head: %w", err))
	}
	return s.l1, &L1Endpoints{
		RPC: s.rpcURL, Embedded: s.l1 != nil, Deployment: dep, ChallengerKey: filepath.Join(string(s.l1Keys), "challenger.json"),
		GenesisHash: genesisHash, Head: head.Number.Uint64(),
	}, nil
}

// rollupSpecs describes for the deployment each of node0's rollup
// services: its genesis state root, batcher, challenger and window.
func (s *settlementSetup) rollupSpecs(gd *cmttypes.GenesisDoc, app *genesis.AppState) ([]settlement.RollupSpec, error) {
	var specs []settlement.RollupSpec
	for _, svc := range s.wc.Rollups {
		ecfg, err := node.GenesisRollupEVMConfig(svc, gd, app)
		if err != nil {
			return nil, err
		}
		ex, err := evm.New(ecfg, nil)
		if err != nil {
			return nil, err
		}
		root := ex.Head().Root
		ex.Close()
		specs = append(specs, settlement.RollupSpec{
			Name: svc.Name, ID: rollups.IDFromName(svc.Name), ChainID: ecfg.ChainID, Batcher: s.batchers[svc.Name].Address,
			Challenger: s.challenger.Address, ChallengeWindow: s.o.ChallengeWindow, GenesisRoot: root, StartHeight: 1,
		})
	}
	return specs, nil
}

// settlementFor is node0's [rollup.settlement] table for svc settling in
// inbox r on the L1 at rpcURL.
func settlementFor(svc *node.RollupService, r settlement.DeployedRollup, rpcURL string, o L1Options) *node.SettlementConfig {
	return &node.SettlementConfig{
		L1RPC: rpcURL, Inbox: r.Inbox.Hex(), BatcherKey: filepath.Join("keys", svc.Name+"-batcher.json"),
		RelayerKey: svc.SubmitterKey, Confirmations: 1, MaxBatchAge: o.MaxBatchAge.String(), L1StartBlock: r.InboxBlock,
	}
}

// checkDeployment checks that the L1 behind b is the chain rec was made on
// (same genesis, when rec knows it) and still holds rec's contracts, with an
// inbox for each of node0's rollup services.
func checkDeployment(ctx context.Context, b settlement.DeployBackend, rec *L1Record, genesisHash common.Hash, svcs []node.RollupService) error {
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
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	sender := txmgr.Sender{L1: cl, Key: key, Policy: txmgr.DefaultPolicy, Poll: settlement.ReceiptPollInterval}
	out, err := sender.Send(wctx, txmgr.Call{To: addr, Value: new(big.Int).Sub(min, bal), Gas: 21000})
	if err != nil {
		return fmt.Errorf("fund %s: %w", addr, err)
	}
	if out.Receipt.Status != types.ReceiptStatusSuccessful {
		return fmt.Errorf("fund %s: tx %s failed", addr, out.Tx.Hash())
	}
	return nil
}
