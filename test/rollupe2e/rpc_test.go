package rollupe2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"

	"github.com/weftnet/weft/test/e2e/nettest"
)

// TestEthersJS has ethers.js, a real Ethereum client, send a transfer on
// alpha and read it back, then use the genesis predeploys
// (checkEthersPredeploys).
func TestEthersJS(t *testing.T) {
	skipShort(t)
	nodeJS, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node (Node.js) is not on PATH: the ethers.js check needs it")
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "rollups", "rpc", "testdata", "ethers"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ethers", "package.json")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("%s has no node_modules and npm is not on PATH to install it (npm ci)", dir)
		}
		ctx := ctxFor(t, 3*time.Minute)
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	n := startNetwork(t, netConfig{})
	alpha := n.eth("node0/alpha")
	ctx := ctxFor(t, 2*time.Minute)

	key := nettest.DevKey(t, 8)
	to := nettest.AddrOf(nettest.DevKey(t, 9))
	amount := "1234500000000000000"
	cmd := exec.CommandContext(ctx, nodeJS, "transfer.mjs", n.rollupRPC["node0/alpha"], hexutil.Encode(crypto.FromECDSA(key)), to.Hex(), amount)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node transfer.mjs: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}
	var res struct {
		ChainID     string      `json:"chainId"`
		Hash        common.Hash `json:"hash"`
		Status      int         `json:"status"`
		BlockNumber uint64      `json:"blockNumber"`
		BlockHash   common.Hash `json:"blockHash"`
		BlockHasTx  bool        `json:"blockHasTx"`
		GasUsed     string      `json:"gasUsed"`
		Delta       string      `json:"delta"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &res); err != nil {
		t.Fatalf("transfer.mjs output %q: %v", out, err)
	}
	t.Logf("ethers.js: %s", bytes.TrimSpace(out))
	if res.ChainID != "901" || res.Status != 1 || res.Delta != amount || !res.BlockHasTx || res.GasUsed != "21000" {
		t.Fatalf("ethers.js saw chainId %s, status %d, delta %s (want %s), blockHasTx %v, gasUsed %s", res.ChainID, res.Status, res.Delta, amount, res.BlockHasTx, res.GasUsed)
	}
	// What ethers saw is what the chain holds.
	r, err := alpha.TransactionReceipt(ctx, res.Hash)
	if err != nil || r.BlockHash != res.BlockHash || r.BlockNumber.Uint64() != res.BlockNumber {
		t.Fatalf("receipt of %s: %v (%v); ethers saw block %d %s", res.Hash, r, err, res.BlockNumber, res.BlockHash)
	}
	checkEthersPredeploys(t, n, nodeJS, dir)
}

// TestBadRawTxs sends invalid raw txs and checks each is refused with
// go-ethereum's error text and never appears; then that 200 valid
// transfers sent concurrently from 4 accounts all land.
func TestBadRawTxs(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, netConfig{})
	alpha := n.eth("node0/alpha")
	ctx := ctxFor(t, 3*time.Minute)
	key := nettest.DevKey(t, 10)
	from := nettest.AddrOf(key)
	sink := common.HexToAddress("0x000000000000000000000000000000000000dEaD")
	one := big.NewInt(1)

	// A mined tx gives a nonce to reuse.
	first := transferTx(t, key, alphaChainID, 0, sink, one, 21000, nil)
	send(t, alpha, first)
	n.waitReceipt(alpha, first.Hash(), time.Minute)

	fresh, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	valid := transferTx(t, key, alphaChainID, 1, sink, one, 21000, nil)
	v, r, s := valid.RawSignatureValues()
	withSig := func(v, r, s *big.Int) *types.Transaction {
		return types.NewTx(&types.DynamicFeeTx{ChainID: alphaChainID, Nonce: 1, GasTipCap: testTip, GasFeeCap: testFeeCap, Gas: 21000, To: &sink, Value: one, V: v, R: r, S: s})
	}
	cases := []struct {
		name    string
		tx      *types.Transaction
		signer  common.Address
		wantErr string
	}{
		{"wrong chain id", transferTx(t, key, betaChainID, 1, sink, one, 21000, nil), from, "invalid chain id for signer"},
		{"zero r", withSig(v, new(big.Int), s), from, "invalid sender"},
		{"high s", withSig(v, r, new(big.Int).Sub(crypto.S256().Params().N, s)), from, "invalid sender"},
		{"nonce too low", transferTx(t, key, alphaChainID, 0, sink, big.NewInt(2), 21000, nil), from, "nonce too low"},
		{"no funds", transferTx(t, fresh, alphaChainID, 0, sink, one, 21000, nil), nettest.AddrOf(fresh), "insufficient funds for gas * price + value"},
		{"oversized", transferTx(t, key, alphaChainID, 1, sink, one, 3_000_000, make([]byte, 129<<10)), from, "oversized data"},
		{"gas below intrinsic", transferTx(t, key, alphaChainID, 1, sink, one, 20_999, nil), from, "intrinsic gas too low"},
	}
	nonces := map[common.Address]uint64{from: 1, nettest.AddrOf(fresh): 0}
	for _, c := range cases {
		err := alpha.SendTransaction(ctx, c.tx)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Fatalf("%s: eth_sendRawTransaction returned %v; want %q", c.name, err, c.wantErr)
		}
		t.Logf("%s: %v", c.name, err)
	}
	checkNone := func(when string) {
		t.Helper()
		for _, c := range cases {
			if _, _, err := alpha.TransactionByHash(ctx, c.tx.Hash()); !notFound(err) {
				t.Fatalf("%s (%s): eth_getTransactionByHash = %v; want null", c.name, when, err)
			}
		}
		for a, want := range nonces {
			for _, bn := range []string{"latest", "pending"} {
				var got hexutil.Uint64
				if err := alpha.Client().CallContext(ctx, &got, "eth_getTransactionCount", a, bn); err != nil || uint64(got) != want {
					t.Fatalf("%s: %s nonce of %s = %d, %v; want %d", when, bn, a, got, err, want)
				}
			}
		}
	}
	checkNone("right after the refusals")

	// A valid tx sent right after lands.
	send(t, alpha, valid)
	if r := n.waitReceipt(alpha, valid.Hash(), time.Minute); r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("valid tx after the refusals: status %d", r.Status)
	}
	nonces[from] = 2
	checkNone("after a later tx landed")

	// Nothing accepted is lost: 200 transfers from 4 accounts at once.
	const senders, perSender = 4, 50
	ws := n.ethWS("node0/alpha")
	heads := make(chan *types.Header, 1024)
	headSub, err := ws.SubscribeNewHead(ctx, heads)
	if err != nil {
		t.Fatalf("eth_subscribe newHeads: %v", err)
	}
	defer headSub.Unsubscribe()
	txs := make([][]*types.Transaction, senders)
	want := map[common.Hash]bool{}
	recipients := make([]common.Address, senders)
	value := big.NewInt(params.GWei)
	for a := range txs {
		k := nettest.DevKey(t, 11+a)
		recipients[a] = common.BigToAddress(big.NewInt(int64(0x1000 + a)))
		for i := 0; i < perSender; i++ {
			tx := transferTx(t, k, alphaChainID, uint64(i), recipients[a], value, 21000, nil)
			txs[a] = append(txs[a], tx)
			want[tx.Hash()] = true
		}
	}
	var (
		mu       sync.Mutex
		sentAt   = map[common.Hash]time.Time{}
		sendTook []time.Duration
		wg       sync.WaitGroup
		errs     = make(chan error, senders)
	)
	start := time.Now()
	for a := range txs {
		wg.Add(1)
		go func(a int) {
			defer wg.Done()
			for _, tx := range txs[a] {
				t0 := time.Now()
				if err := alpha.SendTransaction(ctx, tx); err != nil {
					errs <- fmt.Errorf("sender %d nonce %d: %w", a, tx.Nonce(), err)
					return
				}
				mu.Lock()
				sentAt[tx.Hash()] = t0
				sendTook = append(sendTook, time.Since(t0))
				mu.Unlock()
			}
		}(a)
	}
	landedAt := map[common.Hash]time.Time{}
	deadline := time.After(2 * time.Minute)
	for len(landedAt) < len(want) {
		select {
		case h := <-heads:
			now := time.Now()
			b, err := alpha.BlockByHash(ctx, h.Hash())
			if err != nil {
				t.Fatalf("block %v of a newHeads notification: %v", h.Number, err)
			}
			for _, tx := range b.Transactions() {
				if want[tx.Hash()] {
					landedAt[tx.Hash()] = now
				}
			}
		case err := <-errs:
			t.Fatalf("eth_sendRawTransaction of an accepted stream: %v", err)
		case err := <-headSub.Err():
			t.Fatalf("newHeads subscription ended: %v", err)
		case <-deadline:
			t.Fatalf("only %d of %d transfers landed within 2 minutes", len(landedAt), len(want))
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errs:
		t.Fatalf("eth_sendRawTransaction: %v", err)
	default:
	}
	for a := range txs {
		for _, tx := range txs[a] {
			r, err := alpha.TransactionReceipt(ctx, tx.Hash())
			if err != nil || r.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("receipt of sender %d nonce %d: %v, %v", a, tx.Nonce(), r, err)
			}
		}
		if nonce, err := alpha.NonceAt(ctx, nettest.AddrOf(nettest.DevKey(t, 11+a)), nil); err != nil || nonce != perSender {
			t.Fatalf("sender %d nonce %d, %v; want %d", a, nonce, err, perSender)
		}
		wantBal := new(big.Int).Mul(value, big.NewInt(perSender))
		if bal, err := alpha.BalanceAt(ctx, recipients[a], nil); err != nil || bal.Cmp(wantBal) != 0 {
			t.Fatalf("recipient %d balance %v, %v; want %v", a, bal, err, wantBal)
		}
	}
	checkNone("after the 200 transfers")
	var lat []time.Duration
	for h, at := range landedAt {
		lat = append(lat, at.Sub(sentAt[h]))
	}
	slices.Sort(lat)
	slices.Sort(sendTook)
	t.Logf("%d transfers from %d accounts landed in %v (%.0f tx/s); eth_sendRawTransaction call p50 %v p99 %v; send → in a block (newHeads) p50 %v p99 %v max %v",
		len(lat), senders, elapsed.Round(time.Millisecond), float64(len(lat))/elapsed.Seconds(),
		pct(sendTook, 50), pct(sendTook, 99), pct(lat, 50), pct(lat, 99), lat[len(lat)-1].Round(time.Millisecond))
}

// waitUntil polls cond every 10ms until it holds, ctx ends or timeout
// passes; for goroutines that cannot fail the test themselves.
func waitUntil(ctx context.Context, timeout time.Duration, cond func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("not within %v", timeout)
		case <-tick.C:
		}
	}
	return nil
}

// pct is the p-th percentile of sorted d.
func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, len(d)*p/100)].Round(time.Millisecond)
}

// TestKillNineRestartSameRoots runs alpha on node0 and node1, kills node1
// with SIGKILL while txs stream through node0's alpha RPC, restarts it, and
// checks that both nodes end with the same rollup chain: the same block hash
// and state root at every block number.
//
// Two networks: four validators on the libp2p transport (the default), where
// Weft keeps ordering while node1 is down and node1 must catch up and
// re-execute the heights it missed; and two validators on the classic
// transport, where Weft halts while node1 is down. The two-validator case
// on libp2p deadlocks in CometBFT v0.40's lp2p switch (see
// TestKillNineRestartSameRoots/libp2p-2-validators-halted); it runs only with
// WEFT_E2E_LP2P_HALT=1.
func TestKillNineRestartSameRoots(t *testing.T) {
	skipShort(t)
	for _, c := range []struct {
		name string
		cfg  netConfig
		skip string
	}{
		{"libp2p-4-validators-live", netConfig{alphaOnNode1: true, validators: 4}, ""},
		{"classic-2-validators-halted", netConfig{alphaOnNode1: true, classicP2P: true}, ""},
		{"libp2p-2-validators-halted", netConfig{alphaOnNode1: true},
			"known deadlock: CometBFT v0.40's lp2p switch keeps a restarted peer's stale consensus PeerState " +
				"when no send to it failed while it was down (a halted chain sends nothing), so neither validator " +
				"gossips height H again; set WEFT_E2E_LP2P_HALT=1 to reproduce"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.skip != "" && os.Getenv("WEFT_E2E_LP2P_HALT") == "" {
				t.Skip(c.skip)
			}
			killNineRestart(t, c.cfg)
		})
	}
}

// killNineRestart is TestKillNineRestartSameRoots on one network.
func killNineRestart(t *testing.T, cfg netConfig) {
	n := startNetwork(t, cfg)
	a0, a1 := n.eth("node0/alpha"), n.eth("node1/alpha")
	ctx := ctxFor(t, 3*time.Minute)

	const senders, perSender = 4, 150
	const total = senders * perSender
	var sent atomic.Int64
	errs := make(chan error, senders)
	done := make(chan struct{})
	var wg sync.WaitGroup
	var last []*types.Transaction
	txs := make([][]*types.Transaction, senders)
	for a := range txs {
		k := nettest.DevKey(t, 15+a)
		for i := 0; i < perSender; i++ {
			txs[a] = append(txs[a], transferTx(t, k, alphaChainID, uint64(i), common.BigToAddress(big.NewInt(int64(0x2000+i))), big.NewInt(int64(1+a)), 21000, nil))
		}
		last = append(last, txs[a][perSender-1])
	}
	// The stream is paced so that it spans many rollup blocks: after every
	// paceEvery txs a sender waits for node0's alpha head to move, except
	// while a halted Weft (two validators, one down) cannot move it.
	const paceEvery = 10
	var head0 atomic.Uint64
	var unpaced atomic.Bool
	var limited atomic.Int64 // senders waiting at the RPC's in-flight limit
	stopPoll := make(chan struct{})
	defer close(stopPoll)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopPoll:
				return
			case <-tick.C:
				c, cancel := nettest.RPCCtx()
				if h, err := a0.BlockNumber(c); err == nil {
					head0.Store(h)
				}
				cancel()
			}
		}
	}()
	for a := range txs {
		wg.Add(1)
		go func(a int) {
			defer wg.Done()
			for i, tx := range txs[a] {
				if i > 0 && i%paceEvery == 0 {
					from := head0.Load()
					if err := waitUntil(ctx, time.Minute, func() bool { return unpaced.Load() || head0.Load() > from }); err != nil {
						errs <- fmt.Errorf("sender %d: node0 alpha head stuck at %d: %w", a, from, err)
						return
					}
				}
				for {
					err := a0.SendTransaction(ctx, tx)
					if err == nil {
						break
					}
					// The rollup RPC holds at most 64 txs of a sender in
					// flight (not yet executed): past that a wallet waits
					// for blocks, as here.
					if !strings.Contains(err.Error(), "account limit exceeded") {
						errs <- fmt.Errorf("sender %d nonce %d: %w", a, tx.Nonce(), err)
						return
					}
					from := head0.Load()
					limited.Add(1)
					err = waitUntil(ctx, 2*time.Minute, func() bool { return head0.Load() > from })
					limited.Add(-1)
					if err != nil {
						errs <- fmt.Errorf("sender %d at its in-flight limit: node0 alpha head stuck at %d: %w", a, from, err)
						return
					}
				}
				sent.Add(1)
			}
		}(a)
	}
	go func() { wg.Wait(); close(done) }()
	streamErr := func() error {
		select {
		case err := <-errs:
			return err
		default:
			return nil
		}
	}
	blockNumber := func(ec *ethclient.Client) (uint64, error) {
		c, cancel := nettest.RPCCtx()
		defer cancel()
		return ec.BlockNumber(c)
	}

	// Kill node1 mid-stream, once it has executed some alpha blocks.
	var headAtKill uint64
	n.WaitFor(time.Minute, "a third of the stream sent and alpha blocks on node1", func() error {
		if err := streamErr(); err != nil {
			t.Fatal(err)
		}
		h, err := blockNumber(a1)
		if err != nil {
			return err
		}
		if s := sent.Load(); s < total/3 || h < 2 {
			return fmt.Errorf("%d sent, node1 alpha head %d", s, h)
		}
		headAtKill = h
		return nil
	})
	sentAtKill := sent.Load()
	live := cfg.validators >= 4
	unpaced.Store(!live)
	n.Kill(1)
	// With two validators Weft stalls while node1 is down, with four it goes
	// on; either way node0 keeps accepting txs.
	n.WaitFor(time.Minute, "two thirds of the stream sent while node1 is down (and, if Weft is live, alpha 3 blocks past node1)", func() error {
		if err := streamErr(); err != nil {
			t.Fatal(err)
		}
		if live {
			h, err := blockNumber(a0)
			if err != nil {
				return err
			}
			if h < headAtKill+3 {
				return fmt.Errorf("node0 alpha head %d", h)
			}
		}
		select {
		case <-done:
			return nil
		default:
		}
		if s := sent.Load(); s < 2*total/3 && !(!live && limited.Load() == int64(len(txs))) {
			return fmt.Errorf("%d sent, %d senders at their in-flight limit", s, limited.Load())
		}
		return nil
	})
	sentAtRestart := sent.Load()
	headAtRestart, _ := blockNumber(a0)
	n.Start(1)
	unpaced.Store(false)
	t.Logf("node1 killed at alpha head %d with %d/%d txs sent; restarted with %d sent, node0 alpha head %d", headAtKill, sentAtKill, total, sentAtRestart, headAtRestart)
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("stream did not finish: %d/%d sent", sent.Load(), total)
	}
	if err := streamErr(); err != nil {
		t.Fatal(err)
	}
	for _, tx := range last {
		n.waitReceipt(a0, tx.Hash(), 2*time.Minute)
	}
	for a := range txs {
		for _, tx := range txs[a] {
			if r, err := a0.TransactionReceipt(ctx, tx.Hash()); err != nil || r.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("node0: receipt of sender %d nonce %d: %v, %v", a, tx.Nonce(), r, err)
			}
		}
	}
	head, err := blockNumber(a0)
	if err != nil {
		t.Fatal(err)
	}
	n.WaitFor(2*time.Minute, fmt.Sprintf("node1 alpha at node0's head %d", head), func() error {
		h, err := blockNumber(a1)
		if err != nil {
			return err
		}
		if h < head {
			return fmt.Errorf("node1 alpha head %d", h)
		}
		return nil
	})
	for num := uint64(0); num <= head; num++ {
		bn := new(big.Int).SetUint64(num)
		h0, err := a0.HeaderByNumber(ctx, bn)
		if err != nil {
			t.Fatalf("node0 alpha block %d: %v", num, err)
		}
		h1, err := a1.HeaderByNumber(ctx, bn)
		if err != nil {
			t.Fatalf("node1 alpha block %d: %v", num, err)
		}
		if h0.Root != h1.Root || h0.Hash() != h1.Hash() {
			t.Fatalf("alpha block %d: node0 root %s hash %s, node1 root %s hash %s", num, h0.Root, h0.Hash(), h1.Root, h1.Hash())
		}
	}
	t.Logf("alpha blocks 0..%d identical on node0 and node1 (state root and hash)", head)
}
