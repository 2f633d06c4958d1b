package devnet

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/keys"
	"github.com/weftnet/weft/node"
	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/settlement"
)

// devnetTestOptions describe a one-validator devnet with rollup alpha in
// dir. Nothing in these tests listens on the Weft ports (only the embedded
// L1 serves, on a port of its own choosing): they are written to the
// configs only.
func devnetTestOptions(dir string, out *bytes.Buffer) Options {
	l1 := DefaultL1Options()
	l1.Port = 0
	l1.BlockTime = 20 * time.Millisecond
	return Options{
		Testnet: TestnetOptions{
			Validators: 1, Output: dir, ChainID: "weft-devnet-test", Host: "127.0.0.1", BasePort: 20000,
			Rollups:     []genesis.Rollup{{Name: "alpha", VM: "evm", EVMChainID: 901}},
			DevAccounts: 2, DevBalance: "1000000000000000000000", LibP2P: true, RollupRPCBasePort: 20100,
		},
		Logger: slog.New(slog.DiscardHandler), Out: out, L1: l1,
	}
}

// devnetSession is one run of a devnet's L1 part: the directory prepared
// as Run does, and the L1 set up (resumed or new).
type devnetSession struct {
	t       *testing.T
	st      *State
	m       *Manifest
	resumed bool
	unlock  func()
	l1      *settlement.L1
	ep      *L1Endpoints
}

func openDevnetSession(t *testing.T, o Options) *devnetSession {
	t.Helper()
	st, m, resumed, unlock, err := openDevnet(o)
	if err != nil {
		t.Fatalf("open devnet: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l1, ep, err := startDevnetL1(ctx, o, st, m)
	if err != nil {
		unlock()
		t.Fatalf("devnet L1: %v", err)
	}
	if l1 == nil || ep == nil {
		unlock()
		t.Fatal("no embedded L1")
	}
	if err := st.save(o.Testnet.Output); err != nil {
		t.Fatal(err)
	}
	s := &devnetSession{t: t, st: st, m: m, resumed: resumed, unlock: unlock, l1: l1, ep: ep}
	t.Cleanup(s.close)
	return s
}

// stop closes the L1 and records the stop as Run does; it returns
// the L1 head it stopped at.
func (s *devnetSession) stop() uint64 {
	s.t.Helper()
	n := s.blockNumber()
	s.close()
	s.st.Stopped = &Stop{Time: time.Now().UTC(), WeftHeight: 0, L1Block: n}
	if err := s.st.save(filepath.Dir(s.m.Nodes[0].Home)); err != nil {
		s.t.Fatal(err)
	}
	return n
}

func (s *devnetSession) close() {
	if s.l1 != nil {
		if err := s.l1.Close(); err != nil {
			s.t.Errorf("close L1: %v", err)
		}
		s.l1 = nil
		s.unlock()
	}
}

func (s *devnetSession) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	s.t.Cleanup(cancel)
	return ctx
}

func (s *devnetSession) blockNumber() uint64 {
	s.t.Helper()
	n, err := s.l1.Client().BlockNumber(s.ctx())
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

func (s *devnetSession) balance(a common.Address) *big.Int {
	s.t.Helper()
	b, err := s.l1.Client().BalanceAt(s.ctx(), a, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

func (s *devnetSession) nonce(a common.Address) uint64 {
	s.t.Helper()
	n, err := s.l1.Client().NonceAt(s.ctx(), a, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

func (s *devnetSession) code(a common.Address) []byte {
	s.t.Helper()
	c, err := s.l1.Client().CodeAt(s.ctx(), a, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// send transfers value wei from dev account 0 to `to` on the L1 and waits
// for the receipt (the L1's producer seals blocks meanwhile).
func (s *devnetSession) send(to common.Address, value int64) {
	s.t.Helper()
	dev, err := keys.DevAccounts(1)
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, c := s.ctx(), s.l1.Client()
	nonce, err := c.PendingNonceAt(ctx, crypto.PubkeyToAddress(dev[0].PublicKey))
	if err != nil {
		s.t.Fatal(err)
	}
	head, err := c.HeaderByNumber(ctx, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	tx, err := types.SignNewTx(dev[0], types.LatestSignerForChainID(s.l1.ChainID()), &types.DynamicFeeTx{
		ChainID: s.l1.ChainID(), Nonce: nonce, GasTipCap: big.NewInt(1e9),
		GasFeeCap: new(big.Int).Add(big.NewInt(1e9), new(big.Int).Mul(head.BaseFee, big.NewInt(2))),
		Gas:       21000, To: &to, Value: big.NewInt(value),
	})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := c.SendTransaction(ctx, tx); err != nil {
		s.t.Fatal(err)
	}
	if _, err := settlement.WaitReceipt(ctx, c, tx.Hash()); err != nil {
		s.t.Fatal(err)
	}
}

// settlementOf is node0's [rollup.settlement] table for rollup name.
func settlementOf(t *testing.T, home, name string) *node.SettlementConfig {
	t.Helper()
	_, wc, err := node.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range wc.Rollups {
		if svc.Name == name {
			return svc.Settlement
		}
	}
	t.Fatalf("node0 has no rollup %q", name)
	return nil
}

// TestDevnetL1ResumesAndResets: a devnet's embedded L1 is kept in the
// devnet dir. A second run on the same dir resumes it: same chain (head at
// or past where it stopped, a transfer's balance kept), same contracts
// (reused from devnet.json: nothing deployed or funded again, the deployer's
// nonce unchanged), node0 pointed at the new endpoint. While a run holds
// the dir, another is refused. --reset removes the devnet's files (and
// only those) and starts a new chain.
func TestDevnetL1ResumesAndResets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "devnet")
	var out bytes.Buffer
	o := devnetTestOptions(dir, &out)
	who := common.HexToAddress("0x00000000000000000000000000000000000d3e57")

	s := openDevnetSession(t, o)
	if s.resumed || s.ep.Resumed || s.l1.Resumed() {
		t.Fatalf("first run: resumed %v, deployment reused %v, L1 resumed %v; want a new devnet", s.resumed, s.ep.Resumed, s.l1.Resumed())
	}
	dep := s.ep.Deployment
	s.send(who, 777)
	deployer, err := keys.Dir(filepath.Join(dir, "l1-keys")).Load("deployer")
	if err != nil {
		t.Fatal(err)
	}
	deployerNonce := s.nonce(deployer.Address)
	registryCode := s.code(dep.Registry)
	if len(registryCode) == 0 || deployerNonce == 0 {
		t.Fatalf("first run: registry code %d bytes, deployer nonce %d", len(registryCode), deployerNonce)
	}
	home0 := s.m.Nodes[0].Home
	cfg1 := settlementOf(t, home0, "alpha")
	genesis1 := s.st.L1.GenesisHash
	stoppedAt := s.stop()

	// Resume.
	s = openDevnetSession(t, o)
	if !s.resumed || !s.ep.Resumed || !s.l1.Resumed() {
		t.Fatalf("second run: resumed %v, deployment reused %v, L1 resumed %v; want all resumed", s.resumed, s.ep.Resumed, s.l1.Resumed())
	}
	if s.st.Stopped == nil || s.st.Stopped.L1Block != stoppedAt {
		t.Fatalf("devnet.json's stop record: %+v, want L1 block %d", s.st.Stopped, stoppedAt)
	}
	if n := s.blockNumber(); n < stoppedAt {
		t.Fatalf("resumed L1 at block %d, below where it stopped (%d)", n, stoppedAt)
	}
	if !reflect.DeepEqual(s.ep.Deployment, dep) {
		t.Fatalf("resumed deployment %+v, want the first run's %+v", s.ep.Deployment, dep)
	}
	if s.st.L1.GenesisHash != genesis1 {
		t.Fatalf("resumed L1 genesis %s, want %s", s.st.L1.GenesisHash, genesis1)
	}
	if got := s.code(dep.Registry); !bytes.Equal(got, registryCode) {
		t.Fatal("registry code changed across the restart")
	}
	if len(s.code(dep.Rollups[0].Inbox)) == 0 {
		t.Fatal("alpha's inbox has no code after the restart")
	}
	if b := s.balance(who); b.Cmp(big.NewInt(777)) != 0 {
		t.Fatalf("balance after the restart %v, want 777", b)
	}
	if n := s.nonce(deployer.Address); n != deployerNonce {
		t.Fatalf("deployer nonce %d after the restart, was %d: something was deployed or funded again", n, deployerNonce)
	}
	cfg2 := settlementOf(t, home0, "alpha")
	if cfg2 == nil || cfg2.Inbox != cfg1.Inbox || cfg2.L1StartBlock != cfg1.L1StartBlock || cfg2.L1RPC != s.ep.RPC {
		t.Fatalf("node0's alpha settlement after the restart %+v; want inbox %s from block %d on %s", cfg2, cfg1.Inbox, cfg1.L1StartBlock, s.ep.RPC)
	}
	// The chain goes on.
	s.send(who, 1)
	if b := s.balance(who); b.Cmp(big.NewInt(778)) != 0 {
		t.Fatalf("balance after a transfer on the resumed L1 %v, want 778", b)
	}
	// A second devnet on the dir while this one runs is refused.
	if _, _, _, unlock, err := openDevnet(o); err == nil {
		unlock()
		t.Fatal("a second devnet opened a dir in use")
	} else if !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second devnet on a dir in use: %v", err)
	}
	s.stop()

	// Reset: only the devnet's files go.
	note := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(note, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	o.Reset = true
	s = openDevnetSession(t, o)
	printed := out.String()
	for _, want := range []string{"--reset: removing", filepath.Join(dir, "node0"), filepath.Join(dir, L1Dir), filepath.Join(dir, "l1-keys"), filepath.Join(dir, StateFile), "keeping " + note} {
		if !strings.Contains(printed, want) {
			t.Errorf("--reset printed %q; want it to mention %q", printed, want)
		}
	}
	if _, err := os.Stat(note); err != nil {
		t.Errorf("--reset removed a file that is not the devnet's: %v", err)
	}
	if s.resumed || s.ep.Resumed || s.l1.Resumed() {
		t.Fatalf("after --reset: resumed %v, deployment reused %v, L1 resumed %v; want a new devnet", s.resumed, s.ep.Resumed, s.l1.Resumed())
	}
	if s.st.Stopped != nil {
		t.Fatalf("after --reset the stop record is %+v", s.st.Stopped)
	}
	if b := s.balance(who); b.Sign() != 0 {
		t.Fatalf("after --reset the L1 balance is %v, want 0 (a new chain)", b)
	}
	if s.st.L1.GenesisHash == genesis1 {
		t.Fatal("after --reset the L1 has the old genesis")
	}
}

// TestDevnetRefusesForeignDir: a --dir holding something other than a
// devnet is neither used nor, with --reset, removed.
func TestDevnetRefusesForeignDir(t *testing.T) {
	for _, reset := range []bool{false, true} {
		dir := t.TempDir()
		mine := filepath.Join(dir, "thesis.tex")
		if err := os.WriteFile(mine, []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		o := devnetTestOptions(dir, &out)
		o.Reset = reset
		err := Run(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), "not a Weft devnet") || !strings.Contains(err.Error(), "thesis.tex") {
			t.Fatalf("reset=%v: %v; want a refusal naming what the dir holds", reset, err)
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Fatalf("reset=%v: the dir now holds %d entries, want only thesis.tex", reset, len(ents))
		}
	}
}

// TestDevnetLegacyEmbeddedL1: a devnet an older weft left, which settled on
// an embedded L1 that was never kept, cannot resume: it is refused with a
// pointer to --reset, and --reset starts over.
func TestDevnetLegacyEmbeddedL1(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	o := devnetTestOptions(dir, &out)
	m, err := GenerateTestnet(o.Testnet)
	if err != nil {
		t.Fatal(err)
	}
	ep := Endpoints{ChainID: m.ChainID, Nodes: m.Nodes, L1: &L1Endpoints{RPC: "http://127.0.0.1:1", Embedded: true, Deployment: &settlement.Deployment{L1ChainID: settlement.L1ChainID}}}
	b, _ := json.Marshal(ep)
	if err := os.WriteFile(filepath.Join(dir, "endpoints.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, _, _, err = openDevnet(o)
	if err == nil || !strings.Contains(err.Error(), "--reset") {
		t.Fatalf("legacy devnet with an embedded L1: %v; want a refusal pointing at --reset", err)
	}
	o.Reset = true
	st, _, resumed, unlock, err := openDevnet(o)
	if err != nil {
		t.Fatalf("--reset on a legacy devnet: %v", err)
	}
	unlock()
	if resumed || st.L1 != nil {
		t.Fatalf("--reset on a legacy devnet: resumed %v, L1 %+v; want a new devnet", resumed, st.L1)
	}
}

// TestDevnetL1Switch: a devnet keeps settling where it started; another L1
// is refused, not silently deployed to.
func TestDevnetL1Switch(t *testing.T) {
	dep := &settlement.Deployment{L1ChainID: 1}
	embedded := &State{L1: &L1Record{Embedded: true, Deployment: dep}}
	external := &State{L1: &L1Record{RPC: "http://127.0.0.1:1", Deployment: dep}}
	for _, c := range []struct {
		name string
		st   *State
		rpc  string
		ok   bool
	}{
		{"new, embedded", &State{}, "", true},
		{"embedded, embedded", embedded, "", true},
		{"embedded, external", embedded, "http://127.0.0.1:2", false},
		{"external, embedded", external, "", false},
		{"external, external elsewhere", external, "http://127.0.0.1:2", true},
	} {
		lo, err := l1Choice("d", c.st, L1Options{RPC: c.rpc})
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
			continue
		}
		if err != nil {
			continue
		}
		if (lo.Resume != nil) != (c.st.L1 != nil) {
			t.Errorf("%s: resume %+v", c.name, lo.Resume)
		}
		if c.rpc == "" && lo.DataDir != filepath.Join("d", L1Dir) {
			t.Errorf("%s: embedded L1 data dir %q", c.name, lo.DataDir)
		}
	}
}

// TestDevnetRollupGenesisRevision: a devnet whose rollups were created
// with an older EVM genesis (before the preinstalls) is refused with a
// pointer to --reset, not left to fail at node start on a genesis hash
// mismatch; a new devnet records this weft's revision, enables unprotected
// txs on its rollup RPC, and resumes.
func TestDevnetRollupGenesisRevision(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	o := devnetTestOptions(dir, &out)
	st, _, _, unlock, err := openDevnet(o)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if st.RollupGenesis != evm.GenesisRevision {
		t.Fatalf("new devnet records rollup genesis %d, want %d", st.RollupGenesis, evm.GenesisRevision)
	}
	_, wc, err := node.LoadConfig(filepath.Join(dir, "node0"))
	if err != nil {
		t.Fatal(err)
	}
	if len(wc.Rollups) != 1 || !wc.Rollups[0].AllowUnprotectedTxs {
		t.Fatalf("devnet rollup services %+v: want alpha with allow_unprotected_txs", wc.Rollups)
	}
	_, _, resumed, unlock, err := openDevnet(o)
	if err != nil || !resumed {
		t.Fatalf("resume: resumed %v, %v", resumed, err)
	}
	unlock()

	st.RollupGenesis = 0 // as a devnet.json written before revision 1
	if err := st.save(dir); err != nil {
		t.Fatal(err)
	}
	_, _, _, _, err = openDevnet(o)
	if err == nil || !strings.Contains(err.Error(), "--reset") || !strings.Contains(err.Error(), "preinstalls") {
		t.Fatalf("devnet of an older rollup genesis: %v; want a refusal naming the preinstalls and --reset", err)
	}
	o.Reset = true
	st, _, resumed, unlock, err = openDevnet(o)
	if err != nil || resumed || st.RollupGenesis != evm.GenesisRevision {
		t.Fatalf("--reset: resumed %v, rollup genesis %d, %v", resumed, st.RollupGenesis, err)
	}
	unlock()
}
