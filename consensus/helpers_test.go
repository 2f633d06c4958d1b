package consensus_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/genesis"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

const (
	testChainID    = "weft-test"
	feePerAction   = 100
	feePerDataByte = 2
	maxTxBytes     = 4096
	maxActions     = 8
	// blockBytes is the MaxTxBytes the tests' proposers get.
	blockBytes = 1 << 20
)

var ctx = context.Background()

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// key is a test account.
type key struct {
	priv *ecdsa.PrivateKey
	addr common.Address
}

// seededRand returns a rand seeded from WEFT_TEST_SEED when set, else from
// the clock, and logs the seed so a failure can be replayed exactly.
func seededRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := time.Now().UnixNano()
	if s := os.Getenv("WEFT_TEST_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("WEFT_TEST_SEED: %v", err)
		}
	}
	t.Logf("seed %d (replay with WEFT_TEST_SEED=%d)", seed, seed)
	return rand.New(rand.NewSource(seed))
}

// seededKey derives a key from rng, so a seeded run signs the same txs.
func seededKey(t testing.TB, rng *rand.Rand) key {
	t.Helper()
	for {
		var b [32]byte
		rng.Read(b[:])
		if k, err := crypto.ToECDSA(b[:]); err == nil {
			return key{k, crypto.PubkeyToAddress(k.PublicKey)}
		}
	}
}

func newKey(t testing.TB) key {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return key{k, crypto.PubkeyToAddress(k.PublicKey)}
}

// appState is the genesis every test chain starts from: the given funded
// accounts and three evm rollups.
func appState(funded map[common.Address]uint64) genesis.AppState {
	s := genesis.AppState{
		Params: genesis.Params{
			FeePerAction: "100", FeePerDataByte: "2",
			MaxTxBytes: maxTxBytes, MaxActions: maxActions,
		},
		Rollups: []genesis.Rollup{
			{Name: "alpha", VM: "evm", EVMChainID: 1001},
			{Name: "beta", VM: "evm", EVMChainID: 1002},
			{Name: "gamma", VM: "evm", EVMChainID: 1003},
		},
	}
	for a, bal := range funded {
		s.Accounts = append(s.Accounts, genesis.Account{Address: a.Hex(), Balance: uint256.NewInt(bal).Dec()})
	}
	return s
}

// chain drives one App through blocks the way CometBFT would.
type chain struct {
	t        testing.TB
	app      *consensus.App
	store    *consensus.Store
	height   int64
	proposer common.Address
}

// newChain opens a store in dir ("" for memory), builds an App on it and,
// when gs is not nil, runs InitChain.
func newChain(t testing.TB, dir string, gs *genesis.AppState) *chain {
	t.Helper()
	return newChainCfg(t, dir, gs, consensus.DefaultConfig())
}

func newChainCfg(t testing.TB, dir string, gs *genesis.AppState, cfg consensus.Config) *chain {
	t.Helper()
	store, err := consensus.OpenStore(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	app, err := consensus.NewApp(store, cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	c := &chain{t: t, app: app, store: store, proposer: common.Address{0xb0}}
	c.height, _ = app.Committed()
	if gs != nil {
		raw, err := json.Marshal(gs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.InitChain(ctx, &abci.RequestInitChain{ChainId: testChainID, InitialHeight: 1, AppStateBytes: raw}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = store.Close() })
	return c
}

// reopen closes the store and builds a new App on the same directory.
func (c *chain) reopen(dir string) *chain {
	c.t.Helper()
	if err := c.store.Close(); err != nil {
		c.t.Fatal(err)
	}
	return newChain(c.t, dir, nil)
}

// blockHash is a stand-in for the CometBFT block hash.
func blockHash(height int64, txs [][]byte) []byte {
	h := sha256.New()
	_ = binary.Write(h, binary.BigEndian, height)
	for _, tx := range txs {
		s := sha256.Sum256(tx)
		h.Write(s[:])
	}
	return h.Sum(nil)
}

// prepare asks the app for a proposal at the next height.
func (c *chain) prepare(maxBytes int64) [][]byte {
	c.t.Helper()
	resp, err := c.app.PrepareProposal(ctx, &abci.RequestPrepareProposal{
		MaxTxBytes: maxBytes, Height: c.height + 1, ProposerAddress: c.proposer.Bytes(),
	})
	if err != nil {
		c.t.Fatalf("PrepareProposal: %v", err)
	}
	return resp.Txs
}

// process runs ProcessProposal on txs at the next height.
func (c *chain) process(txs [][]byte) bool {
	c.t.Helper()
	resp, err := c.app.ProcessProposal(ctx, &abci.RequestProcessProposal{
		Txs: txs, Height: c.height + 1, Hash: blockHash(c.height+1, txs), ProposerAddress: c.proposer.Bytes(),
	})
	if err != nil {
		c.t.Fatalf("ProcessProposal: %v", err)
	}
	return resp.Status == abci.ResponseProcessProposal_ACCEPT
}

// finalize runs FinalizeBlock and Commit on txs at the next height.
func (c *chain) finalize(txs [][]byte) *abci.ResponseFinalizeBlock {
	c.t.Helper()
	resp, err := c.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{
		Txs: txs, Height: c.height + 1, Hash: blockHash(c.height+1, txs), ProposerAddress: c.proposer.Bytes(),
	})
	if err != nil {
		c.t.Fatalf("FinalizeBlock: %v", err)
	}
	if len(resp.TxResults) != len(txs) {
		c.t.Fatalf("FinalizeBlock: %d results for %d txs", len(resp.TxResults), len(txs))
	}
	if _, err := c.app.Commit(ctx, &abci.RequestCommit{}); err != nil {
		c.t.Fatalf("Commit: %v", err)
	}
	c.height++
	if h, ah := c.app.Committed(); h != c.height || !bytes.Equal(ah, resp.AppHash) {
		c.t.Fatalf("after commit: height %d app hash %x, want %d %x", h, ah, c.height, resp.AppHash)
	}
	return resp
}

// apply processes (must accept), finalizes and commits txs.
func (c *chain) apply(txs [][]byte) *abci.ResponseFinalizeBlock {
	c.t.Helper()
	if !c.process(txs) {
		c.t.Fatalf("height %d: own proposal rejected", c.height+1)
	}
	return c.finalize(txs)
}

// block builds a proposal from the mempool and runs it through consensus.
// Every tx in it must succeed.
func (c *chain) block() [][]byte {
	c.t.Helper()
	txs := c.prepare(blockBytes)
	resp := c.apply(txs)
	for i, r := range resp.TxResults {
		if r.Code != consensus.CodeOK {
			c.t.Fatalf("height %d tx %d: code %d %s", c.height, i, r.Code, r.Log)
		}
	}
	return txs
}

// submit must succeed.
func (c *chain) submit(raw []byte) [32]byte {
	c.t.Helper()
	h, rej := c.app.Submit(raw, false)
	if rej != nil {
		c.t.Fatalf("submit: %v", rej)
	}
	return h
}

func (c *chain) balance(a common.Address) uint64 {
	c.t.Helper()
	b := new(uint256.Int).SetBytes(c.app.Account(a).Balance)
	if !b.IsUint64() {
		c.t.Fatalf("balance of %s does not fit uint64", a)
	}
	return b.Uint64()
}

func (c *chain) nonce(a common.Address) uint64 { return c.app.Account(a).Nonce }

// signBody signs body with k.
func signBody(t testing.TB, k key, body *weftv1.TxBody) []byte {
	t.Helper()
	raw, err := consensus.Sign(k.priv, body)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// tx signs a transaction of this chain.
func tx(t testing.TB, k key, nonce, feeLimit uint64, acts ...*weftv1.Action) []byte {
	t.Helper()
	return signBody(t, k, &weftv1.TxBody{
		ChainId: testChainID, Nonce: nonce, FeeLimit: uint256.NewInt(feeLimit).Bytes(), Actions: acts,
	})
}

func transfer(to common.Address, amount uint64) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_Transfer{Transfer: &weftv1.Transfer{To: to.Bytes(), Amount: uint256.NewInt(amount).Bytes()}}}
}

func data(rollup string, b []byte) *weftv1.Action {
	id := rollups.IDFromName(rollup)
	return &weftv1.Action{Kind: &weftv1.Action_RollupData{RollupData: &weftv1.RollupData{RollupId: id[:], Data: b}}}
}

func register(name string, evmChainID uint64) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_RegisterRollup{RegisterRollup: &weftv1.RegisterRollup{Name: name, Vm: "evm", EvmChainId: evmChainID}}}
}

// fee is what a tx with these actions costs under the test params.
func fee(acts ...*weftv1.Action) uint64 {
	n := uint64(feePerAction * len(acts))
	for _, a := range acts {
		if rd, ok := a.Kind.(*weftv1.Action_RollupData); ok {
			n += feePerDataByte * uint64(len(rd.RollupData.Data))
		}
	}
	return n
}

// contains reports whether block holds raw.
func contains(block [][]byte, raw []byte) bool {
	for _, tx := range block {
		if bytes.Equal(tx, raw) {
			return true
		}
	}
	return false
}

func mustCommitment(t testing.TB, block [][]byte) *weftv1.BlockCommitment {
	t.Helper()
	if len(block) == 0 {
		t.Fatal("empty block")
	}
	c, err := rollups.DecodeCommitment(block[0])
	if err != nil {
		t.Fatalf("txs[0] is not a commitment: %v", err)
	}
	for i, tx := range block[1:] {
		if rollups.IsCommitment(tx) {
			t.Fatalf("commitment item at position %d", i+1)
		}
	}
	return c
}
