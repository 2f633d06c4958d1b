package rollupe2e

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"github.com/weftnet/weft/contracts"
	"github.com/weftnet/weft/contracts/bindings"
	"github.com/weftnet/weft/devnet"
	"github.com/weftnet/weft/node"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/derive"
	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/settlement"
	"github.com/weftnet/weft/test/e2e/nettest"
)

// TestSettlementEndToEnd runs 4 validators, node0 serving rollups alpha and beta
// node0 settling both on an embedded L1: an L1 deposit is credited on
// alpha, EVM txs go Weft → executor → batcher → L1, node0 is killed -9
// and restarted mid-stream, the safe and finalized tags advance, the
// verifier re-derives every posted root from L1 alone (in-process and with
// `weft rollup verify`), and a withdrawal is proved against a final root
// and paid out on L1.
func TestSettlementEndToEnd(t *testing.T) {
	skipShort(t)
	l1opts := devnet.L1Options{BlockTime: 100 * time.Millisecond, ChallengeWindow: 3, MaxBatchAge: time.Second}
	// Four validators: killing node0 must not halt the chain (a halted
	// two-validator libp2p network can deadlock on restart, see
	// TestKillNineRestartSameRoots).
	n := startNetwork(t, netConfig{validators: 4, l1: &l1opts})
	ctx := ctxFor(t, 5*time.Minute)
	l1 := n.l1.Client()
	alpha := n.eth("node0/alpha")
	dep, ok := n.l1ep.Deployment.Rollup(rollups.IDFromName("alpha"))
	if !ok {
		t.Fatal("alpha not deployed")
	}
	inbox := settlement.NewInbox(l1, dep.Inbox, settlement.WithFromBlock(dep.InboxBlock))

	// 1. Deposit 2 ETH on L1 to a fresh address (`weft rollup deposit`);
	// it is credited on alpha once its L1 block is final.
	userKey, _ := crypto.GenerateKey()
	user := crypto.PubkeyToAddress(userKey.PublicKey)
	depositor := nettest.DevKey(t, 5)
	depositorFile := nettest.WriteKeyFile(t, "depositor", depositor)
	two := new(big.Int).Mul(big.NewInt(2), big.NewInt(params.Ether))
	home0 := n.m.Nodes[0].Home
	stdout, stderr, code := nettest.RunCLI(t, time.Minute, weftBin, "rollup", "deposit", "--home", home0, "--rollup", "alpha",
		"--to", user.Hex(), "--amount", two.String(), "--l1-key", depositorFile)
	if code != 0 {
		t.Fatalf("weft rollup deposit: exit %d\n%s\n%s", code, stdout, stderr)
	}
	n.WaitFor(90*time.Second, "the deposit credited on alpha", func() error {
		c, cancel := nettest.RPCCtx()
		defer cancel()
		bal, err := alpha.BalanceAt(c, user, nil)
		if err != nil {
			return err
		}
		if bal.Cmp(two) != 0 {
			return fmt.Errorf("balance %s", bal)
		}
		return nil
	})

	// 2. EVM txs on alpha, with node0 (sequencer-side executor and
	// batcher) killed -9 and restarted halfway.
	sender := nettest.DevKey(t, 0)
	to := common.HexToAddress("0x00000000000000000000000000000000005e771e")
	var last common.Hash
	for i := uint64(0); i < 30; i++ {
		if i == 15 {
			n.waitReceipt(alpha, last, 60*time.Second)
			n.WaitFor(60*time.Second, "a batch posted", func() error {
				idx, err := inbox.NextIndex(ctx)
				if err != nil || idx == 0 {
					return fmt.Errorf("next index %d: %v", idx, err)
				}
				return nil
			})
			n.Kill(0)
			n.Start(0)
			// Back and caught up: until then the rollup's state is behind
			// and it refuses txs (ErrSyncing).
			n.WaitFor(60*time.Second, "alpha RPC back and synced", func() error {
				c, cancel := nettest.RPCCtx()
				defer cancel()
				prog, err := alpha.SyncProgress(c)
				if err == nil && prog != nil {
					err = fmt.Errorf("syncing: block %d of %d", prog.CurrentBlock, prog.HighestBlock)
				}
				return err
			})
		}
		tx := transferTx(t, sender, alphaChainID, i, to, big.NewInt(int64(i+1)), 21000, nil)
		send(t, alpha, tx)
		last = tx.Hash()
	}
	n.waitReceipt(alpha, last, 60*time.Second)

	// 3. Withdraw 1 ETH from alpha to a fresh L1 address.
	l1To := common.HexToAddress("0x00000000000000000000000000000000000a11ce")
	one := big.NewInt(params.Ether)
	wtx := transferTx(t, userKey, alphaChainID, 0, contracts.L2BridgeAddress, one, 200_000, bindings.NewWeftL2Bridge().PackInitiateWithdrawal(l1To))
	send(t, alpha, wtx)
	wr := n.waitReceipt(alpha, wtx.Hash(), 60*time.Second)
	if wr.Status != 1 {
		t.Fatalf("initiateWithdrawal failed: %+v", wr)
	}
	wBlock := wr.BlockNumber.Uint64()

	// 4. safe, then finalized, reach the withdrawal's block.
	tag := func(name string) uint64 {
		var h struct{ Number string }
		c, cancel := nettest.RPCCtx()
		defer cancel()
		if err := alpha.Client().CallContext(c, &h, "eth_getBlockByNumber", name, false); err != nil {
			t.Fatalf("%s block: %v", name, err)
		}
		v, _ := new(big.Int).SetString(strings.TrimPrefix(h.Number, "0x"), 16)
		return v.Uint64()
	}
	n.WaitFor(60*time.Second, "safe tag at the withdrawal's block", func() error {
		if s := tag("safe"); s < wBlock {
			return fmt.Errorf("safe %d < %d", s, wBlock)
		}
		return nil
	})
	n.WaitFor(90*time.Second, "finalized tag at the withdrawal's block", func() error {
		if f := tag("finalized"); f < wBlock {
			return fmt.Errorf("finalized %d < %d (safe %d)", f, wBlock, tag("safe"))
		}
		return nil
	})

	// 5. `weft rollup finalize-withdrawal` proves it against the final batch
	// covering it (eth_getProof on alpha) and gets it paid on L1.
	stdout, stderr, code = nettest.RunCLI(t, 2*time.Minute, weftBin, "rollup", "finalize-withdrawal", "--home", home0, "--rollup", "alpha",
		"--tx", wtx.Hash().Hex(), "--l1-key", depositorFile, "--wait", "60s")
	if code != 0 || !strings.Contains(stdout, "paid out on L1") {
		t.Fatalf("weft rollup finalize-withdrawal: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if bal, _ := l1.BalanceAt(ctx, l1To, nil); bal.Cmp(one) != 0 {
		t.Fatalf("L1 recipient balance %s, want %s", bal, one)
	}
	// Paid once: a second finalization is refused by the inbox.
	if _, _, code := nettest.RunCLI(t, time.Minute, weftBin, "rollup", "finalize-withdrawal", "--home", home0, "--rollup", "alpha",
		"--tx", wtx.Hash().Hex(), "--l1-key", depositorFile); code == 0 {
		t.Fatal("a second finalize-withdrawal succeeded")
	}

	// 6. The verifier re-derives alpha from L1 alone: every root matches,
	// the batches cover every Weft height once, the deposit is checked.
	cfg := rollupConfig(t, n, "alpha")
	rep, err := derive.Verify(ctx, cfg, &derive.InboxL1{Inbox: inbox, Client: l1}, derive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Fault != nil {
		t.Fatalf("verifier: %v", rep.Fault)
	}
	next, txs, deposits, depositItems := uint64(1), 0, 0, 0
	for i, c := range rep.Checked {
		if c.Index != uint64(i) || c.FromHeight != next {
			t.Fatalf("batch %d covers %d.. (index %d), want %d..", i, c.FromHeight, c.Index, next)
		}
		next = c.ToHeight + 1
		txs += c.Txs
		deposits += c.Deposits
		depositItems += c.DepositItems
	}
	if txs < 31 || deposits != 1 {
		t.Fatalf("derived %d txs and %d deposits, want ≥ 31 and 1", txs, deposits)
	}
	stdout, stderr, code = nettest.RunCLI(t, time.Minute, weftBin, "rollup", "status", "--home", home0, "--rollup", "alpha", "--output", "text")
	if code != 0 || !regexp.MustCompile(`(?m)^batches posted +\d+`).MatchString(stdout) || !regexp.MustCompile(`(?m)^L1 deposits +1$`).MatchString(stdout) || !strings.Contains(stdout, "finalized block") {
		t.Fatalf("weft rollup status: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = nettest.RunCLI(t, time.Minute, weftBin, "rollup", "verify", "--home", home0, "--rollup", "alpha")
	if code != 0 || !strings.Contains(stdout, "batches verified") {
		t.Fatalf("weft rollup verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
	t.Logf("alpha: %d batches, %d txs, 1 deposit (%d carried) and 1 withdrawal settled; %s", len(rep.Checked), txs, depositItems, strings.TrimSpace(stdout[strings.LastIndex(strings.TrimSpace(stdout), "\n")+1:]))
}

// rollupConfig is the executor config node0 runs the rollup with.
func rollupConfig(t *testing.T, n *network, name string) evm.Config {
	t.Helper()
	cfg, _, err := node.HomeRollupEVMConfig(n.m.Nodes[0].Home, name)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
