package consensus_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cryptoenc "github.com/cometbft/cometbft/crypto/encoding"
	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/genesis"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
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

// powerReduction is the test chains' tokens per unit of voting power.
const powerReduction = 1000

// testVal is a genesis validator of the test chains: its consensus key and
// its operator, the only delegator at genesis.
type testVal struct {
	priv     secp256k1eth.PrivKey
	pub      []byte
	addr     common.Address // consensus address, as in CometBFT's votes
	operator key
	power    int64
}

// testVals are the genesis validators of every test chain, with powers 1, 2
// and 3 so reward splits have remainders. The keys are fixed: two chains from
// the same genesis are the same chain.
var testVals = func() []testVal {
	out := make([]testVal, 3)
	for i := range out {
		priv := secp256k1eth.GenPrivKeySecp256k1Eth([]byte("weft-test-validator-" + strconv.Itoa(i)))
		opSeed := sha256.Sum256([]byte("weft-test-operator-" + strconv.Itoa(i)))
		op, err := crypto.ToECDSA(opSeed[:])
		if err != nil {
			panic(err)
		}
		out[i] = testVal{
			priv: priv, pub: priv.PubKey().Bytes(), addr: common.BytesToAddress(priv.PubKey().Address()),
			operator: key{op, crypto.PubkeyToAddress(op.PublicKey)}, power: int64(i + 1),
		}
	}
	return out
}()

// testStakingParams are small windows so tests reach them in a few blocks.
func testStakingParams() genesis.StakingParams {
	p := genesis.DefaultStakingParams()
	p.MaxValidators = 4
	p.MinSelfStake = "500"
	p.PowerReduction = strconv.Itoa(powerReduction)
	p.UnbondingBlocks = 5
	p.SignedBlocksWindow = 10
	p.MaxMissedBlocks = 4
	p.DowntimeJailBlocks = 5
	return p
}

// appState is the genesis every test chain starts from: the given funded
// accounts, three evm rollups and the testVals staked by their operators.
// seededAccounts makes n keys from rng and a genesis funding each with 2^40.
func seededAccounts(t testing.TB, rng *rand.Rand, n int) ([]key, genesis.AppState) {
	keys := make([]key, n)
	funded := map[common.Address]uint64{}
	for i := range keys {
		keys[i] = seededKey(t, rng)
		funded[keys[i].addr] = 1 << 40
	}
	return keys, appState(funded)
}

func appState(funded map[common.Address]uint64) genesis.AppState {
	s := genesis.AppState{
		Params: genesis.Params{
			FeePerAction: "100", FeePerDataByte: "2",
			MaxTxBytes: maxTxBytes, MaxActions: maxActions,
			Staking: testStakingParams(),
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
	for i, v := range testVals {
		s.Validators = append(s.Validators, genesis.StakedValidator{
			Name: "val" + strconv.Itoa(i), PubKey: hex.EncodeToString(v.pub), Operator: v.operator.addr.Hex(),
			Stake: strconv.FormatInt(v.power*powerReduction, 10), CommissionBps: 1000,
		})
	}
	return s
}

// cmtValidators is the CometBFT genesis validator set matching gs: one
// secp256k1eth key per staked validator, power stake / power_reduction.
func cmtValidators(t testing.TB, gs *genesis.AppState) []abci.ValidatorUpdate {
	t.Helper()
	pr, err := genesis.ParseAmount(gs.Params.Staking.PowerReduction)
	if err != nil || pr.IsZero() {
		t.Fatalf("test genesis: power_reduction %q", gs.Params.Staking.PowerReduction)
	}
	var out []abci.ValidatorUpdate
	for _, v := range gs.Validators {
		pk, err := genesis.ParseValidatorKey(v.PubKey)
		if err != nil {
			t.Fatalf("test genesis: %v", err)
		}
		stake, err := genesis.ParseAmount(v.Stake)
		if err != nil {
			t.Fatalf("test genesis: %v", err)
		}
		pkp, err := cryptoenc.PubKeyToProto(pk)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, abci.ValidatorUpdate{PubKey: pkp, Power: int64(new(uint256.Int).Div(stake, pr).Uint64())})
	}
	return out
}

// setVal is one member of CometBFT's validator set as the test chain tracks it.
type setVal struct {
	pub   []byte
	addr  common.Address
	power int64
}

// applyUpdates returns set changed by ups (power 0 removes), sorted the way
// CometBFT orders a validator set: by power, then address.
func applyUpdates(t testing.TB, set []setVal, ups []abci.ValidatorUpdate) []setVal {
	t.Helper()
	m := map[common.Address]setVal{}
	for _, v := range set {
		m[v.addr] = v
	}
	for _, u := range ups {
		pk, err := cryptoenc.PubKeyFromProto(u.PubKey)
		if err != nil {
			t.Fatalf("validator update with a bad key: %v", err)
		}
		a := common.BytesToAddress(pk.Address())
		if u.Power == 0 {
			if _, ok := m[a]; !ok {
				t.Fatalf("update removes %s, which is not in the set", a)
			}
			delete(m, a)
			continue
		}
		m[a] = setVal{pub: pk.Bytes(), addr: a, power: u.Power}
	}
	out := make([]setVal, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].power != out[j].power {
			return out[i].power > out[j].power
		}
		return bytes.Compare(out[i].addr[:], out[j].addr[:]) < 0
	})
	if len(out) == 0 {
		t.Fatal("validator updates empty the set")
	}
	return out
}

// chain drives one App through blocks the way CometBFT would: each block
// carries the last commit of the validator set CometBFT would have at the
// previous height (genesis set, then every FinalizeBlock's updates applied
// two heights later), and after every commit the supply invariant is checked.
type chain struct {
	t        testing.TB
	app      *consensus.App
	store    *consensus.Store
	height   int64
	proposer common.Address
	// sets[h] is the validator set that votes on block h.
	sets map[int64][]setVal
	// absent validators do not sign from now on (BlockIDFlagAbsent).
	absent map[common.Address]bool
	// evidence is the misbehaviour the next block carries.
	evidence []abci.Misbehavior
	// clock is the next block's time (zero unless a test sets it).
	clock time.Time
	// published is every block the app handed to Config.OnCommit.
	published []consensus.BlockTxs
}

// onCommit checks that Commit hands a block over in its place in Commit's
// order: the block is durable and its txs are out of the mempool, and
// neither the queries nor the commit notification show it yet.
func (c *chain) onCommit(b consensus.BlockTxs) {
	c.t.Helper()
	if h, _ := c.app.Committed(); h != b.Height-1 {
		c.t.Errorf("OnCommit(%d): Committed already shows %d", b.Height, h)
	}
	if h, _, err := c.store.Meta(); err != nil || h != b.Height {
		c.t.Errorf("OnCommit(%d): the store holds height %d (%v)", b.Height, h, err)
	}
	select {
	case <-c.app.CommitNotify():
		c.t.Errorf("OnCommit(%d): the commit notification fired first", b.Height)
	default:
	}
	for _, h := range b.Hashes {
		if c.app.Mempool().Has(h) {
			c.t.Errorf("OnCommit(%d): tx %x is still in the mempool", b.Height, h[:4])
		}
	}
	c.published = append(c.published, b)
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
	c := &chain{t: t, store: store, proposer: testVals[0].addr, sets: map[int64][]setVal{}, absent: map[common.Address]bool{}}
	cfg.OnCommit = c.onCommit
	app, err := consensus.NewApp(store, cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	c.app = app
	c.height, _ = app.Committed()
	t.Cleanup(func() { _ = store.Close() })
	if gs != nil {
		raw, err := json.Marshal(gs)
		if err != nil {
			t.Fatal(err)
		}
		vals := cmtValidators(t, gs)
		if _, err := app.InitChain(ctx, &abci.RequestInitChain{ChainId: testChainID, InitialHeight: 1, AppStateBytes: raw, Validators: vals}); err != nil {
			t.Fatal(err)
		}
		set := applyUpdates(t, nil, vals)
		c.sets[1], c.sets[2] = set, set
		c.checkSupply()
	}
	return c
}

// reopen closes the store and builds a new App on the same directory; the
// validator sets CometBFT would remember carry over.
func (c *chain) reopen(dir string) *chain {
	c.t.Helper()
	return c.reopenCfg(dir, consensus.DefaultConfig())
}

// reopenCfg is reopen with the App's config.
func (c *chain) reopenCfg(dir string, cfg consensus.Config) *chain {
	c.t.Helper()
	if err := c.store.Close(); err != nil {
		c.t.Fatal(err)
	}
	n := newChainCfg(c.t, dir, nil, cfg)
	n.sets, n.proposer = c.sets, c.proposer
	return n
}

// checkSupply fails the test unless balances + bonded + unbonding + reward
// pool equal the supply in committed state.
func (c *chain) checkSupply() {
	c.t.Helper()
	if err := consensus.CheckSupply(c.app); err != nil {
		c.t.Fatalf("height %d: %v", c.height, err)
	}
}

// votes is the last commit block h carries: every validator of the set at
// h-1, signed unless marked absent. Block 1 has none.
func (c *chain) votes(h int64) []abci.VoteInfo {
	var out []abci.VoteInfo
	for _, v := range c.sets[h-1] {
		flag := cmtproto.BlockIDFlagCommit
		if c.absent[v.addr] {
			flag = cmtproto.BlockIDFlagAbsent
		}
		out = append(out, abci.VoteInfo{Validator: abci.Validator{Address: v.addr.Bytes(), Power: v.power}, BlockIdFlag: flag})
	}
	return out
}

func (c *chain) lastCommit(h int64) abci.CommitInfo { return abci.CommitInfo{Votes: c.votes(h)} }

func (c *chain) extendedLastCommit(h int64) abci.ExtendedCommitInfo {
	var out []abci.ExtendedVoteInfo
	for _, v := range c.votes(h) {
		out = append(out, abci.ExtendedVoteInfo{Validator: v.Validator, BlockIdFlag: v.BlockIdFlag})
	}
	return abci.ExtendedCommitInfo{Votes: out}
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
	h := c.height + 1
	resp, err := c.app.PrepareProposal(ctx, &abci.RequestPrepareProposal{
		MaxTxBytes: maxBytes, Height: h, ProposerAddress: c.proposer.Bytes(),
		LocalLastCommit: c.extendedLastCommit(h), Misbehavior: c.evidence,
	})
	if err != nil {
		c.t.Fatalf("PrepareProposal: %v", err)
	}
	return resp.Txs
}

// process runs ProcessProposal on txs at the next height.
func (c *chain) process(txs [][]byte) bool {
	c.t.Helper()
	h := c.height + 1
	resp, err := c.app.ProcessProposal(ctx, &abci.RequestProcessProposal{
		Txs: txs, Height: h, Hash: blockHash(h, txs), ProposerAddress: c.proposer.Bytes(),
		ProposedLastCommit: c.lastCommit(h), Misbehavior: c.evidence,
	})
	if err != nil {
		c.t.Fatalf("ProcessProposal: %v", err)
	}
	return resp.Status == abci.ResponseProcessProposal_ACCEPT
}

// finalize runs FinalizeBlock and Commit on txs at the next height, records
// the validator updates for two heights later and checks the supply.
func (c *chain) finalize(txs [][]byte) *abci.ResponseFinalizeBlock {
	c.t.Helper()
	h := c.height + 1
	resp, err := c.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{
		Txs: txs, Height: h, Hash: blockHash(h, txs), ProposerAddress: c.proposer.Bytes(),
		DecidedLastCommit: c.lastCommit(h), Misbehavior: c.evidence, Time: c.clock,
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
	c.height = h
	c.evidence = nil
	if _, ok := c.sets[h+1]; !ok {
		c.sets[h+1] = c.sets[h]
	}
	c.sets[h+2] = applyUpdates(c.t, c.sets[h+1], resp.ValidatorUpdates)
	if got, ah := c.app.Committed(); got != c.height || !bytes.Equal(ah, resp.AppHash) {
		c.t.Fatalf("after commit: height %d app hash %x, want %d %x", got, ah, c.height, resp.AppHash)
	}
	c.checkSupply()
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
	txs, _ := c.blockResp()
	return txs
}

// blockResp is block that also returns the FinalizeBlock response.
func (c *chain) blockResp() ([][]byte, *abci.ResponseFinalizeBlock) {
	c.t.Helper()
	txs := c.prepare(blockBytes)
	resp := c.apply(txs)
	for i, r := range resp.TxResults {
		if r.Code != txcodec.CodeOK {
			c.t.Fatalf("height %d tx %d: code %d %s", c.height, i, r.Code, r.Log)
		}
	}
	return txs, resp
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
	b := new(uint256.Int).SetBytes(c.app.Reader().Account(a).Balance)
	if !b.IsUint64() {
		c.t.Fatalf("balance of %s does not fit uint64", a)
	}
	return b.Uint64()
}

func (c *chain) nonce(a common.Address) uint64 { return c.app.Reader().Account(a).Nonce }

// signBody signs body with k.
func signBody(t testing.TB, k key, body *weftv1.TxBody) []byte {
	t.Helper()
	raw, err := txcodec.Sign(k.priv, body)
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
