package nettest_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/consensus/nettest"
	"github.com/weftnet/weft/txcodec"
)

// Deadlines are generous: the nodes share two loaded cores with the race
// detector on, and a slow machine must make a test slower, not flaky. A
// property is only timed where it is the property (a healed split resumes
// within 30 s).
const (
	settleTimeout = 2 * time.Minute
	stepTimeout   = 90 * time.Second
)

// votingSteps are CometBFT's round steps after the proposal.
var votingSteps = map[string]bool{
	"RoundStepPrevote": true, "RoundStepPrevoteWait": true,
	"RoundStepPrecommit": true, "RoundStepPrecommitWait": true,
}

// loadAccounts are the accounts the tests' loads sign with; the others
// stay for txs a test makes itself and for the attacker.
var loadAccounts = []int{0, 1, 2, 3, 4, 5}

// settle stops the load and checks the end state: every acknowledged tx
// committed, every running node at the same height, the same blocks and
// app hashes at every height, every acknowledged tx exactly once in every
// node's chain, no consensus failure.
func settle(t *testing.T, nw *nettest.Network, load *nettest.Load) {
	t.Helper()
	load.Stop()
	load.WaitCommitted(nw.Nodes[0], settleTimeout)
	nw.WaitHeight(nw.MaxHeight(), settleTimeout)
	top := nw.CheckAgreement()
	checked := 0
	for _, i := range nw.Running() {
		checked = load.CheckExactlyOnce(nw.Nodes[i])
	}
	if f := nw.Failures(); len(f) > 0 {
		t.Fatalf("consensus failures: %v", f)
	}
	if checked < 10 {
		t.Fatalf("only %d txs acknowledged: the load did not run", checked)
	}
	t.Logf("agreement up to height %d; %d acknowledged txs committed exactly once; %s", top, checked, load.Summary())
}

// TestByzantineProposerIsRejected: a validator with just under 1/3 of the
// power (so it proposes about a third of the rounds) proposes hostile
// blocks of every kind. Every honest node rejects each one for the fault it
// carries, accepts every honest proposal, and the chain commits other
// blocks at those heights in later rounds; txs under way, some in the
// hostile blocks, commit exactly once.
func TestByzantineProposerIsRejected(t *testing.T) {
	nw := nettest.New(t, nettest.Options{Powers: []int64{10, 10, 10, 14}})
	attacker := nw.Accounts[len(nw.Accounts)-1]
	hp := nettest.NewHostileProposer(nw, attacker)
	const byz = 3
	honest := []int{0, 1, 2}
	nw.Nodes[byz].Wrap = hp.Wrap
	nw.Start()
	nw.WaitHeight(2, stepTimeout)
	// Txs go to honest nodes: a byzantine node may acknowledge a tx and
	// never pass it on.
	load := nw.StartLoad(nettest.LoadOptions{Accounts: loadAccounts, Nodes: func() []int { return honest }})

	hostile := func() map[[32]byte]nettest.Hostile {
		m := map[[32]byte]nettest.Hostile{}
		for _, h := range hp.Made() {
			m[h.Digest] = h
		}
		return m
	}
	// A proposal a node does not receive within its propose timeout is
	// never judged there: on a loaded machine not every honest node judges
	// every hostile block, so each attack must have been judged by two.
	nw.Eventually(3*time.Minute, "every attack proposed and judged by two honest nodes", func() bool {
		made := hostile()
		judgedBy := map[nettest.Attack]map[int]bool{}
		for _, i := range honest {
			for _, v := range nw.Nodes[i].Verdicts() {
				if h, ok := made[v.Digest]; ok {
					if judgedBy[h.Attack] == nil {
						judgedBy[h.Attack] = map[int]bool{}
					}
					judgedBy[h.Attack][i] = true
				}
			}
		}
		for _, a := range nettest.AllAttacks {
			if len(judgedBy[a]) < 2 {
				return false
			}
		}
		return true
	})
	last := nw.MaxHeight()
	nw.WaitHeight(last+2, stepTimeout)
	settle(t, nw, load)

	if errs := hp.Errors(); len(errs) > 0 {
		t.Fatalf("the harness built hostile blocks wrongly: %v", errs)
	}
	wantReason := map[nettest.Attack]*regexp.Regexp{
		nettest.AttackOversizedTx:     regexp.MustCompile(`^tx 1 \([0-9a-f]+\): tx_too_large: `),
		nettest.AttackDuplicateTx:     regexp.MustCompile(`^tx 2 \([0-9a-f]+\): nonce_too_low: `),
		nettest.AttackWrongCommitment: regexp.MustCompile(`commitment item does not match`),
		nettest.AttackWriteHeavy:      regexp.MustCompile(`exceeds its bounds`),
		nettest.AttackGarbage:         regexp.MustCompile(`does not start with a commitment item`),
		nettest.AttackGarbageTx:       regexp.MustCompile(`^tx \d+ \([0-9a-f]+\): (malformed|bad_signature|wrong_chain_id|invalid_action): `),
	}
	made := hostile()
	rejected := map[nettest.Attack]int{}
	for _, i := range honest {
		for _, v := range nw.Nodes[i].Verdicts() {
			h, bad := made[v.Digest]
			switch {
			case bad && v.Accept:
				t.Errorf("node%d accepted the %s block at height %d", i, h.Attack, v.Height)
			case bad && !wantReason[h.Attack].MatchString(v.Reason):
				t.Errorf("node%d rejected the %s block at height %d for another reason: %q", i, h.Attack, v.Height, v.Reason)
			case bad:
				rejected[h.Attack]++
			case !v.Accept:
				t.Errorf("node%d rejected an honest proposal of node%d at height %d: %q", i, v.Proposer, v.Height, v.Reason)
			}
		}
	}
	// No hostile block is in the chain: every one of their heights has
	// another block, committed in a later round.
	for _, h := range made {
		b, next := nw.Nodes[0].Block(h.Height), nw.Nodes[0].Block(h.Height+1)
		if b == nil || next == nil {
			t.Fatalf("no block at height %d or %d", h.Height, h.Height+1)
		}
		if nettest.TxsDigest(h.Height, b.Data.Txs.ToSliceOfBytes()) == h.Digest {
			t.Errorf("the %s block proposed at height %d was committed", h.Attack, h.Height)
		}
		if r := next.LastCommit.Round; r < 1 {
			t.Errorf("height %d, where the %s block was proposed, committed in round %d", h.Height, h.Attack, r)
		}
	}
	// Nothing of the attacker's committed.
	for _, i := range nw.Running() {
		nw.Nodes[i].WithApp(func(a *consensus.App) {
			acc := a.Reader().Account(attacker.Addr)
			if acc.Nonce != 0 || !new(uint256.Int).SetBytes(acc.Balance).Eq(nettest.AccountBalance) {
				t.Errorf("node%d: the attacker's account changed: nonce %d balance %x", i, acc.Nonce, acc.Balance)
			}
		})
	}
	// Txs under way rode in hostile blocks and still committed once
	// (settle checked every acknowledged tx).
	carried := 0
	for _, h := range made {
		carried += len(h.Carried)
	}
	if carried == 0 {
		t.Fatalf("no hostile block carried a user tx: the test does not cover them")
	}
	t.Logf("%d hostile proposals carrying %d user txs; honest rejections by attack: %v", len(made), carried, rejected)
}

// TestIsolatedValidatorCatchesUp: one validator is cut off. The other three
// (3/4 of the power) keep committing; the isolated one commits nothing on
// its own, catches up once the links heal, and the txs it acknowledged
// while alone commit exactly once.
func TestIsolatedValidatorCatchesUp(t *testing.T) {
	nw := nettest.New(t, nettest.Options{})
	nw.Start()
	nw.WaitHeight(2, stepTimeout)
	load := nw.StartLoad(nettest.LoadOptions{Accounts: loadAccounts})
	nw.WaitHeight(4, stepTimeout)

	const alone = 0
	nw.Fabric.Isolate(alone)
	cutAt := nw.Nodes[alone].Height()
	ackedBefore := load.AckedBy(alone)
	nw.WaitHeight(nw.MaxHeight()+4, stepTimeout, 1, 2, 3)
	if h := nw.Nodes[alone].Height(); h > cutAt+1 {
		t.Fatalf("the isolated node went from height %d to %d alone", cutAt, h)
	}
	if load.AckedBy(alone) == ackedBefore {
		t.Fatalf("the isolated node acknowledged no tx while alone: the test does not cover them")
	}

	nw.Fabric.Heal()
	nw.WaitHeight(nw.MaxHeight(), stepTimeout, alone)
	settle(t, nw, load)
}

// TestSplitHaltsAndResumes: a 2|2 split leaves no side with 2/3 of the
// power: every node gets to voting and no node commits. Once healed, the
// chain resumes within 30 s. The network is split twice: first refusing
// connections (they are closed and must be dialled again), then silently
// holding every byte (they stay open and starve).
func TestSplitHaltsAndResumes(t *testing.T) {
	nw := nettest.New(t, nettest.Options{})
	nw.Start()
	nw.WaitHeight(2, stepTimeout)
	load := nw.StartLoad(nettest.LoadOptions{Accounts: loadAccounts})
	nw.WaitHeight(4, stepTimeout)

	for _, split := range []struct {
		name string
		do   func(groups ...[]int)
	}{
		{"refused", nw.Fabric.Partition},
		{"silent", nw.Fabric.SilentPartition},
	} {
		split.do([]int{0, 1}, []int{2, 3})
		// Two of four validators are half the power: past its proposal,
		// each node waits for votes that cannot come.
		nw.Eventually(stepTimeout, split.name+" split: every node voting at the height after its last commit", func() bool {
			for _, n := range nw.Nodes {
				h, _, step := n.Round()
				if h != n.Height()+1 || !votingSteps[step] {
					return false
				}
			}
			return true
		})
		stuck := nw.Heights()
		nw.Never(3*time.Second, split.name+" split: a node committed", func() bool {
			return !slices.Equal(nw.Heights(), stuck)
		})

		nw.Fabric.Heal()
		healed := time.Now()
		nw.WaitHeight(slices.Max(stuck)+2, 30*time.Second)
		t.Logf("%s split: resumed %v after the heal (heights %v during the split)", split.name, time.Since(healed).Round(time.Millisecond), stuck)
	}
	settle(t, nw, load)
}

// TestRestartedValidatorCatchesUp: a validator holding txs no other node
// has (it acknowledged them while cut off) stops; the others go on; it
// starts again on the same stores, replays, catches up, agrees, and the
// txs it had journaled commit exactly once. Then the whole network stops
// and starts again, and goes on.
func TestRestartedValidatorCatchesUp(t *testing.T) {
	nw := nettest.New(t, nettest.Options{})
	nw.Start()
	nw.WaitHeight(2, stepTimeout)
	load := nw.StartLoad(nettest.LoadOptions{Accounts: loadAccounts})
	nw.WaitHeight(4, stepTimeout)

	const crash = 1
	n := nw.Nodes[crash]
	nw.Fabric.Isolate(crash)
	own := nw.Accounts[len(loadAccounts)]
	var held [][32]byte
	for nonce := range uint64(3) {
		raw := nw.SignTx(own.Key, nonce, nettest.RollupData("alpha", []byte("journaled before the crash")))
		if rej := load.Submit(crash, raw); rej != nil {
			t.Fatalf("node%d refused a tx: %v", crash, rej)
		}
		held = append(held, txcodec.TxHash(raw))
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	stoppedAt := n.Height()
	nw.Fabric.Heal()
	nw.WaitHeight(nw.MaxHeight()+4, stepTimeout, 0, 2, 3)
	nw.Nodes[0].WithApp(func(a *consensus.App) {
		for _, h := range held {
			if a.Reader().TxResult(h) != nil {
				t.Fatalf("tx %x committed while the only node holding it was down", h[:8])
			}
		}
	})

	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	nw.WaitHeight(nw.MaxHeight(), stepTimeout, crash)
	t.Logf("node%d stopped at height %d, caught up to %d", crash, stoppedAt, n.Height())

	// Then every node at once, wherever each is in its height: they
	// replay their WALs and stores and the chain goes on. Not while node1
	// still block-syncs: CometBFT v0.40 then crashes when a peer goes away
	// (TestBlockSyncSurvivesPeerLoss).
	syncStart := time.Now()
	nw.Eventually(stepTimeout, "node1 past block sync", n.InConsensus)
	t.Logf("node1 left block sync %v after catching up", time.Since(syncStart).Round(time.Millisecond))
	for _, n := range nw.Nodes {
		if err := n.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	top := nw.MaxHeight()
	nw.Start()
	nw.WaitHeight(top+3, stepTimeout)
	settle(t, nw, load)
}

// TestRestartBeforeFirstBlock: a validator stopped after InitChain and
// before the first block (its app at height 0, so CometBFT's handshake
// sends InitChain again on restart) starts again and joins the chain.
func TestRestartBeforeFirstBlock(t *testing.T) {
	nw := nettest.New(t, nettest.Options{})
	n := nw.Nodes[3]
	if err := n.Start(); err != nil { // InitChain runs in the handshake
		t.Fatal(err)
	}
	if err := n.Stop(); err != nil { // alone, 1/4 of the power: no block
		t.Fatal(err)
	}
	if h := n.Height(); h != 0 {
		t.Fatalf("node3 stopped at height %d, want 0", h)
	}
	nw.Start()
	nw.WaitHeight(3, stepTimeout)
	nw.CheckAgreement()
}

// TestLinkFaultsUnderLoad: delayed links, connections reset, a duplicated
// chunk (which the secret connection must refuse, dropping the
// connection) and a one-way blackhole, all under load; the chain goes on
// and ends in agreement with every acknowledged tx committed once.
func TestLinkFaultsUnderLoad(t *testing.T) {
	nw := nettest.New(t, nettest.Options{})
	nw.Start()
	nw.WaitHeight(2, stepTimeout)
	load := nw.StartLoad(nettest.LoadOptions{Accounts: loadAccounts})
	nw.WaitHeight(4, stepTimeout)

	nw.Fabric.DelayAll(20 * time.Millisecond)
	nw.Fabric.Reset(0, 1)
	nw.Fabric.Duplicate(2, 3)
	nw.Fabric.Blackhole(3, 0)
	// The reset connection and the one that carried a duplicated chunk are
	// dropped and dialled again (node i dials node j > i).
	nw.Eventually(stepTimeout, "links 0-1 and 2-3 dialled again", func() bool {
		return nw.Fabric.Stats(0, 1).Accepted >= 2 && nw.Fabric.Stats(2, 3).Accepted >= 2
	})
	acked := len(load.Acked())
	nw.Eventually(stepTimeout, "30 more txs acknowledged under the faults", func() bool {
		return len(load.Acked()) >= acked+30
	})
	nw.WaitHeight(nw.MaxHeight()+3, stepTimeout)
	nw.Fabric.Heal()
	nw.WaitHeight(nw.MaxHeight()+2, stepTimeout)
	settle(t, nw, load)
}

// panicAt is an app that panics in FinalizeBlock at one height.
type panicAt struct {
	*consensus.App
	height int64
}

func (p *panicAt) FinalizeBlock(ctx context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	if req.Height == p.height {
		panic("nettest: planted panic")
	}
	return p.App.FinalizeBlock(ctx, req)
}

// TestHarnessReportsAppPanic: CometBFT recovers a panic in the app during
// consensus and stops that node's consensus while the process goes on; the
// harness must report it (the other tests fail on any), and the other
// three nodes go on.
func TestHarnessReportsAppPanic(t *testing.T) {
	nw := nettest.New(t, nettest.Options{})
	nw.Nodes[2].Wrap = func(a *consensus.App) abci.Application { return &panicAt{App: a, height: 3} }
	nw.Start()
	nw.Eventually(stepTimeout, "the planted panic reported", func() bool {
		f := nw.Failures()
		return len(f) == 1 && strings.Contains(f[0], "planted panic")
	})
	nw.WaitHeight(4, stepTimeout, 0, 1, 3)
	if h := nw.Nodes[2].Height(); h != 2 {
		t.Fatalf("the panicking node is at height %d, want 2", h)
	}
}
