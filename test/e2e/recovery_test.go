package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/node"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/test/e2e/nettest"
	"github.com/weftnet/weft/txcodec"
)

// TestKillNineUnderLoad kills one of four validators with SIGKILL while all
// four APIs take load, checks the other three keep committing, restarts it
// on the same home, and checks it catches up with identical blocks and app
// hashes and that every acknowledged tx, including those the killed node
// acknowledged just before dying, is committed exactly once.
func TestKillNineUnderLoad(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, 4)
	const victim = 2
	survivors := []int{0, 1, 3}
	accounts := []int{0, 1, 2, 3, 4, 5, 6, 7}
	l := n.startLoad(loadOptions{
		accounts: accounts, nodeOf: func(k int) int { return k % 4 }, interval: 40 * time.Millisecond,
		actions: func(k int, nonce uint64) []*weftv1.Action {
			return []*weftv1.Action{client.RollupData(rollupNames[(k+int(nonce))%3], payload(k, nonce))}
		},
	})
	viaVictim := func(a ackedTx) bool { return a.node == victim }
	n.WaitHeight(time.Minute, 5, n.All()...)
	n.WaitFor(time.Minute, "load acknowledged by every node", func() error {
		for i := range n.nodes {
			if c := l.count(func(a ackedTx) bool { return a.node == i }); c < 25 {
				return fmt.Errorf("node%d acknowledged %d txs", i, c)
			}
		}
		return nil
	})

	hKill := n.MaxHeight(survivors...)
	killedAt := time.Now()
	n.Kill(victim)
	atKill := l.snapshot()
	var victimAcked [][32]byte
	for _, a := range atKill {
		if viaVictim(a) {
			victimAcked = append(victimAcked, a.hash)
		}
	}
	// How many of the dead node's acknowledged txs still need the network:
	// not committed yet, or (only its journal holds them) unknown to all.
	pending, onlyJournal := 0, 0
	for _, h := range victimAcked {
		unknown := 0
		for _, i := range survivors {
			ctx, cancel := nettest.RPCCtx()
			r, err := n.Client(i).API.GetTx(ctx, &weftv1.GetTxRequest{Hash: h[:]})
			cancel()
			if err != nil {
				t.Fatalf("node%d GetTx: %v", i, err)
			}
			if i == survivors[0] && r.Status != weftv1.TxStatus_TX_STATUS_COMMITTED {
				pending++
			}
			if r.Status == weftv1.TxStatus_TX_STATUS_UNKNOWN {
				unknown++
			}
		}
		if unknown == len(survivors) {
			onlyJournal++
		}
	}
	t.Logf("killed node%d at height %d; it had acknowledged %d txs: %d not yet committed, %d known to no survivor",
		victim, hKill, len(victimAcked), pending, onlyJournal)

	afterKill := len(atKill)
	n.WaitHeight(time.Minute, hKill+5, survivors...)
	n.WaitFor(30*time.Second, "survivors acknowledging new txs", func() error {
		if c := l.count(func(a ackedTx) bool { return !viaVictim(a) }); c <= afterKill-len(victimAcked) {
			return fmt.Errorf("no new acknowledgements since the kill")
		}
		return nil
	})
	hRestart := n.MaxHeight(survivors...)
	t.Logf("survivors went from height %d to %d in %v with node%d down", hKill, hRestart, time.Since(killedAt).Round(time.Millisecond), victim)

	n.Start(victim)
	restartedAt := time.Now()
	n.WaitHeight(2*time.Minute, hRestart, victim)
	t.Logf("node%d restarted and reached height %d in %v", victim, hRestart, time.Since(restartedAt).Round(time.Millisecond))
	before := l.count(viaVictim)
	n.WaitFor(time.Minute, "restarted node acknowledging txs again", func() error {
		if c := l.count(viaVictim); c < before+10 {
			return fmt.Errorf("%d new acknowledgements", c-before)
		}
		return nil
	})
	l.halt()
	acked := l.snapshot()
	t.Logf("load: %d txs acknowledged (%d by node%d)", len(acked), l.count(viaVictim), victim)
	l.checkNoRejections(t, "load")

	res := n.waitCommitted(0, 2*time.Minute, hashesOf(acked))
	resVictim := n.waitCommitted(victim, 2*time.Minute, hashesOf(acked))
	var last int64
	for h, r := range res {
		last = max(last, r.Height)
		if !proto.Equal(r, resVictim[h]) {
			t.Fatalf("tx %x: node0 result %v, node%d result %v", h[:8], r, victim, resVictim[h])
		}
	}
	n.WaitHeight(time.Minute, last+1, n.All()...)
	c := n.compareChains(last+1, n.All()...)
	checkExactlyOnce(t, c, acked)
	t.Logf("blocks 1..%d identical with equal app hashes on all 4 nodes; %d acknowledged txs each committed once", last+1, len(acked))
}

// TestFreshNodeSyncsFromGenesis wipes one validator's data (keeping its
// signing state), restarts it while the others keep taking txs, and checks
// that it syncs from genesis and reproduces every block, app hash and the
// state it reaches.
func TestFreshNodeSyncsFromGenesis(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, 4)
	const fresh = 3

	// State worth replaying: a rollup registered at runtime and used, rollup
	// data for every rollup, and transfers that create new accounts.
	reg := nettest.DevKey(t, 8)
	h0, err := n.submit(0, mustSign(t, n.chainID, reg, 0, client.RegisterRollup("delta", 4242)))
	if err != nil {
		t.Fatalf("register delta: %v", err)
	}
	n.waitCommitted(0, time.Minute, [][32]byte{h0})
	// Through the node that reported the registration committed: another
	// node may not have committed that block yet.
	h1, err := n.submit(0, mustSign(t, n.chainID, reg, 1, client.RollupData("delta", []byte("hello delta"))))
	if err != nil {
		t.Fatalf("data for delta: %v", err)
	}
	recipient := func(k int, nonce uint64) [20]byte {
		return common.BytesToAddress([]byte(fmt.Sprintf("recipient-%02d-%03d", k, nonce%5)))
	}
	mixed := func(base int) func(k int, nonce uint64) []*weftv1.Action {
		return func(k int, nonce uint64) []*weftv1.Action {
			if nonce%3 == 2 {
				return []*weftv1.Action{client.Transfer(recipient(base+k, nonce), uint256.NewInt(1_000+nonce))}
			}
			return []*weftv1.Action{client.RollupData(rollupNames[(k+int(nonce))%3], payload(base+k, nonce))}
		}
	}
	phase1 := n.startLoad(loadOptions{accounts: []int{0, 1, 2, 3}, nodeOf: func(k int) int { return k }, perSender: 30, interval: 20 * time.Millisecond, actions: mixed(0)})
	phase1.wait(time.Minute)
	n.waitCommitted(0, time.Minute, append(hashesOf(phase1.snapshot()), h1))
	n.WaitHeight(time.Minute, 15, n.All()...)

	n.Stop(fresh)
	ccfg, _, err := node.LoadConfig(n.nodes[fresh].info.Home)
	if err != nil {
		t.Fatal(err)
	}
	pvState, err := os.ReadFile(ccfg.PrivValidatorStateFile())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(ccfg.DBDir()); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(ccfg.DBDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	// Keeping the last-signed state means the wiped validator can never sign
	// twice at a height it already signed.
	if err := os.WriteFile(ccfg.PrivValidatorStateFile(), pvState, 0o600); err != nil {
		t.Fatal(err)
	}
	wiped := n.MaxHeight(0, 1, 2)

	// The others keep taking txs while the wiped node is down and syncs.
	phase2 := n.startLoad(loadOptions{accounts: []int{4, 5, 6}, nodeOf: func(k int) int { return k }, interval: 50 * time.Millisecond, actions: mixed(4)})
	n.WaitHeight(time.Minute, wiped+5, 0, 1, 2)
	n.Start(fresh)
	restarted := time.Now()
	target := n.MaxHeight(0, 1, 2)
	n.WaitHeight(2*time.Minute, target, fresh)
	t.Logf("node%d wiped at height %d, synced from genesis to %d in %v", fresh, wiped, target, time.Since(restarted).Round(time.Millisecond))
	phase2.halt()
	phase1.checkNoRejections(t, "load before the wipe")
	phase2.checkNoRejections(t, "load during the sync")

	all := append(hashesOf(phase1.snapshot()), hashesOf(phase2.snapshot())...)
	all = append(all, h0, h1)
	res := n.waitCommitted(fresh, time.Minute, all)
	var last int64
	for _, r := range res {
		last = max(last, r.Height)
	}
	n.WaitHeight(time.Minute, last+1, n.All()...)
	c := n.compareChains(last+1, fresh, 0, 1, 2)
	checkExactlyOnce(t, c, append(phase1.snapshot(), phase2.snapshot()...))

	// The rebuilt app state itself: its app hash, accounts and the runtime
	// rollup, compared with node0 at the same height.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := n.Client(fresh).API.GetStatus(ctx, &weftv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	n.WaitHeight(time.Minute, st.Height+1, 0)
	if want := n.block(0, st.Height+1).AppHash; !bytes.Equal(st.AppHash, want) {
		t.Fatalf("node%d's app hash after %d is %X, node0's header %d says %X", fresh, st.Height, st.AppHash, st.Height+1, want)
	}
	var addrs [][20]byte
	for _, a := range []int{0, 1, 2, 3, 4, 5, 6, 8} {
		addrs = append(addrs, nettest.AddrOf(nettest.DevKey(t, a)))
	}
	for k := 0; k < 4; k++ {
		addrs = append(addrs, recipient(k, 2))
	}
	n.WaitFor(time.Minute, "accounts compared at one height", func() error {
		for _, addr := range addrs {
			a0, err := n.Client(0).API.GetAccount(ctx, &weftv1.GetAccountRequest{Address: addr[:]})
			if err != nil {
				return err
			}
			a3, err := n.Client(fresh).API.GetAccount(ctx, &weftv1.GetAccountRequest{Address: addr[:]})
			if err != nil {
				return err
			}
			if a0.Height != a3.Height {
				return fmt.Errorf("node0 at %d, node%d at %d", a0.Height, fresh, a3.Height)
			}
			if !proto.Equal(a0.Account, a3.Account) {
				t.Fatalf("account %x at height %d: node0 %v, node%d %v", addr, a0.Height, a0.Account, fresh, a3.Account)
			}
		}
		return nil
	})
	for _, i := range []int{0, fresh} {
		r, err := n.Client(i).API.GetRollup(ctx, &weftv1.GetRollupRequest{Name: "delta"})
		if err != nil || r.Rollup.RegisteredHeight != res[h0].Height {
			t.Fatalf("node%d GetRollup(delta) = %v, %v; want registered at %d", i, r, err, res[h0].Height)
		}
	}
	// Informational: where CometBFT handed over from block sync to consensus.
	if log, err := os.ReadFile(n.nodes[fresh].Log); err == nil {
		runs := bytes.Split(log, []byte("==== e2e: weft start"))
		for _, line := range bytes.Split(runs[len(runs)-1], []byte("\n")) {
			if bytes.Contains(line, []byte("switch to consensus")) {
				t.Logf("node%d after the wipe: %s", fresh, line)
				break
			}
		}
	}
}

// TestBadInput checks that bad input is refused with its own error: through
// the CLI (insufficient balance, unknown rollup, malformed hash) and through
// SubmitTx (malformed bytes, bad signature, wrong chain id, replayed nonce,
// oversized tx), each a gRPC error naming its weft code.
func TestBadInput(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, 1)
	api := n.nodes[0].info.API
	dev0 := nettest.DevKey(t, 0)
	keyFile := nettest.WriteKeyFile(t, "dev0", dev0)

	cli := []struct {
		name string
		args []string
		want []string
	}{
		{"transfer beyond balance", []string{"tx", "transfer", "--node", api, "--key-file", keyFile,
			"--to", "0x0000000000000000000000000000000000000001", "--amount", "20000000000000000000000"},
			[]string{"insufficient_funds", "balance"}},
		{"rollup-data for unknown rollup", []string{"tx", "rollup-data", "--node", api, "--key-file", keyFile, "--rollup", "nope", "--data", "hi"},
			[]string{"unknown_rollup", "not registered"}},
		{"query malformed tx hash", []string{"query", "tx", "0xzz", "--node", api},
			[]string{`tx hash "0xzz" must be 32 bytes of hex`}},
	}
	var stderrs []string
	for _, tc := range cli {
		stdout, stderr, code := runCLI(t, tc.args...)
		if code == 0 {
			t.Errorf("%s: weft %s exited 0\nstdout: %s", tc.name, strings.Join(tc.args, " "), stdout)
		}
		if !strings.HasPrefix(stderr, "Error: ") || strings.Contains(stderr, "Usage:") {
			t.Errorf("%s: stderr is not one clear error line: %q", tc.name, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q lacks %q", tc.name, stderr, w)
			}
		}
		stderrs = append(stderrs, strings.TrimSpace(stderr))
	}
	for i := range stderrs {
		for j := i + 1; j < len(stderrs); j++ {
			if stderrs[i] == stderrs[j] {
				t.Errorf("%s and %s print the same error", cli[i].name, cli[j].name)
			}
		}
	}
	t.Logf("CLI errors:\n  %s", strings.Join(stderrs, "\n  "))

	// A committed tx whose nonce is then replayed with different content.
	dev1 := nettest.DevKey(t, 1)
	first, err := n.submit(0, mustSign(t, n.chainID, dev1, 0, client.RollupData("alpha", []byte("first"))))
	if err != nil {
		t.Fatal(err)
	}
	n.waitCommitted(0, time.Minute, [][32]byte{first})

	valid := mustSign(t, n.chainID, dev1, 1, client.RollupData("beta", []byte("valid")))
	var stx weftv1.SignedTx
	if err := proto.Unmarshal(valid, &stx); err != nil {
		t.Fatal(err)
	}
	stx.Signature = append([]byte(nil), stx.Signature...)
	stx.Signature[64] += 27 // Ethereum-style v: not what Weft signs
	badSig, _ := proto.Marshal(&stx)

	api0 := []struct {
		name string
		raw  []byte
		code codes.Code
	}{
		{"malformed", []byte("definitely not a protobuf tx"), codes.InvalidArgument},
		{"malformed", nil, codes.InvalidArgument},
		{"bad_signature", badSig, codes.InvalidArgument},
		{"wrong_chain_id", mustSign(t, "not-"+n.chainID, dev1, 1, client.RollupData("beta", []byte("x"))), codes.InvalidArgument},
		{"nonce_too_low", mustSign(t, n.chainID, dev1, 0, client.RollupData("alpha", []byte("replayed"))), codes.FailedPrecondition},
		{"tx_too_large", mustSign(t, n.chainID, dev1, 1, client.RollupData("gamma", make([]byte, 1<<20))), codes.InvalidArgument},
	}
	for _, tc := range api0 {
		_, err := n.submit(0, tc.raw)
		st := status.Convert(err)
		if err == nil || st.Code() != tc.code || !strings.Contains(st.Message(), "("+tc.name+")") {
			t.Errorf("SubmitTx(%s, %d bytes) = %v; want %s naming (%s)", tc.name, len(tc.raw), err, tc.code, tc.name)
			continue
		}
		h := txcodec.TxHash(tc.raw)
		ctx, cancel := nettest.RPCCtx()
		r, err := n.Client(0).API.GetTx(ctx, &weftv1.GetTxRequest{Hash: h[:]})
		cancel()
		if err != nil || r.Status != weftv1.TxStatus_TX_STATUS_UNKNOWN {
			t.Errorf("%s tx: GetTx = %v, %v; want UNKNOWN", tc.name, r, err)
		}
		t.Logf("%-15s %s", tc.name, st.Message())
	}

	// None of it moved dev0, and dev1's valid nonce-1 tx still goes through.
	ctx, cancel := nettest.RPCCtx()
	defer cancel()
	a0 := nettest.AddrOf(dev0)
	acc, err := n.Client(0).API.GetAccount(ctx, &weftv1.GetAccountRequest{Address: a0[:]})
	if err != nil || acc.Account.Nonce != 0 || acc.PendingNonce != 0 {
		t.Errorf("dev0 after refused CLI txs: %v, %v; want nonce 0", acc, err)
	}
	ok, err := n.submit(0, valid)
	if err != nil {
		t.Fatalf("valid tx after the refusals: %v", err)
	}
	n.waitCommitted(0, time.Minute, [][32]byte{ok})
}
