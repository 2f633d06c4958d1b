package uie2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/weftnet/weft/devnet"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/keys"
	"github.com/weftnet/weft/test/e2e/nettest"
	"github.com/weftnet/weft/ui"
)

// weftBin is the binary TestMain builds once.
var weftBin string

func TestMain(m *testing.M) { nettest.Main(m, "uie2e", &weftBin) }

// chromium is the browser's path, or "" with the reason it is missing.
func chromium() (string, string) {
	if p := os.Getenv("WEFT_CHROMIUM"); p != "" {
		return p, ""
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, ""
		}
	}
	return "", "no chromium in PATH: install Debian's chromium package (apt-get install -y chromium; `make test` does) or set WEFT_CHROMIUM"
}

// screenshotDir is where the test leaves its screenshot: $WEFT_UI_SCREENSHOTS,
// else bin/uie2e in the repository.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("WEFT_UI_SCREENSHOTS"); d != "" {
		return d
	}
	d, err := filepath.Abs(filepath.Join("..", "..", "bin", "uie2e"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// startDevnet runs a devnet of four validators with rollups alpha and beta
// settling on the embedded L1, and returns its endpoints once it is up.
func startDevnet(t *testing.T) devnet.Endpoints {
	t.Helper()
	base := nettest.Ports(t, 50)
	dir := filepath.Join(t.TempDir(), "devnet")
	l1 := devnet.DefaultL1Options()
	l1.Port = 0
	l1.BlockTime = 500 * time.Millisecond
	l1.MaxBatchAge = 2 * time.Second
	out := &nettest.SyncBuffer{}
	o := devnet.Options{
		Testnet: devnet.TestnetOptions{
			Validators: 4, Output: dir, ChainID: "weft-ui", Host: "127.0.0.1", BasePort: base,
			Rollups:     []genesis.Rollup{{Name: "alpha", VM: "evm", EVMChainID: 901}, {Name: "beta", VM: "evm", EVMChainID: 902}},
			DevAccounts: 2, DevBalance: "10000000000000000000000", LibP2P: true, RollupRPCBasePort: base + 40,
		},
		Exe: weftBin, Logger: slog.New(slog.DiscardHandler), L1: l1, Out: out,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- devnet.Run(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("devnet: %v", err)
			}
		case <-time.After(90 * time.Second):
			t.Errorf("the devnet did not stop within 90s")
		}
		if t.Failed() {
			t.Logf("devnet output:\n%s", out.String())
		}
	})
	deadline := time.NewTimer(3 * time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(out.String(), "Press Ctrl-C") {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("the devnet stopped before it was up: %v\n%s", err, out.String())
		case <-deadline.C:
			t.Fatalf("the devnet was not up within 3 minutes:\n%s", out.String())
		case <-tick.C:
		}
	}
	var ep devnet.Endpoints
	b, err := os.ReadFile(filepath.Join(dir, "endpoints.json"))
	if err == nil {
		err = json.Unmarshal(b, &ep)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(ep.Nodes) != 4 || ep.Nodes[0].UI == "" || ep.L1 == nil {
		t.Fatalf("endpoints.json: %s", b)
	}
	if !strings.Contains(out.String(), "network page "+ep.Nodes[0].UI) {
		t.Errorf("the devnet did not print node0's network page %s:\n%s", ep.Nodes[0].UI, out.String())
	}
	return ep
}

// consoleErrors collects what the page reports as errors: console.error
// calls, uncaught exceptions, and error entries of the browser's log
// (failed loads, content security policy violations).
type consoleErrors struct {
	mu   sync.Mutex
	errs []string
	done chan struct{}
}

// watchConsole collects the errors of the console of ctx's tab until
// ctx ends.
func watchConsole(ctx context.Context) *consoleErrors {
	c := &consoleErrors{done: make(chan struct{})}
	messages := chromedp.Console(ctx)
	go func() {
		defer close(c.done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				c.mu.Lock()
				c.errs = append(c.errs, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
				c.mu.Unlock()
			}
		}
	}()
	return c
}

func (c *consoleErrors) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

// waitJS evaluates expr every 100 ms until it is true, or fails after d.
func waitJS(t *testing.T, ctx context.Context, d time.Duration, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML("main"))
			t.Fatalf("%s: not within %s (last error %v); the page's main:\n%s", what, d, err, html)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestNetworkPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a devnet and a browser")
	}
	browser, why := chromium()
	if browser == "" {
		t.Skip(why)
	}
	start := time.Now()
	ep := startDevnet(t)
	page := ep.Nodes[0].UI
	t.Logf("devnet up in %s; node0's network page: %s", time.Since(start).Round(time.Millisecond), page)

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 1600))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelTimeout()
	cctx, stopConsole := context.WithCancel(ctx)
	errs := watchConsole(cctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatalf("load %s: %v", page, err)
	}
	checkPage(t, ctx, ep)
	saveScreenshot(t, ctx)
	checkStatusCLI(t, ep)
	stopConsole()
	<-errs.done
	if e := errs.list(); len(e) > 0 {
		t.Fatalf("the page reported %d errors:\n%s", len(e), strings.Join(e, "\n"))
	}
	t.Logf("browser test done in %s", time.Since(start).Round(time.Millisecond))
}

// checkPage checks what the page shows: the chain, four validators, both
// rollups with their links, charts, and a height that advances while the
// page is not reloaded.
func checkPage(t *testing.T, ctx context.Context, ep devnet.Endpoints) {
	t.Helper()
	waitJS(t, ctx, 30*time.Second, "four validators", `document.querySelectorAll("#validators tbody tr.validator").length === 4`)
	chain, err := chromedp.Run(ctx, chromedp.Text("#chain-id"))
	if err != nil {
		t.Fatal(err)
	}
	monikers, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#validators tbody tr.validator td:first-child")).map(td => td.textContent).sort()`))
	if err != nil {
		t.Fatal(err)
	}
	if chain != ep.ChainID || strings.Join(monikers, ",") != "node0,node1,node2,node3" {
		t.Errorf("chain %q, validators %v", chain, monikers)
	}
	for _, r := range ep.L1.Deployment.Rollups {
		sel := fmt.Sprintf(`article.rollup[data-rollup=%q]`, r.Name)
		rpc := ep.Nodes[0].RollupRPC[r.Name]
		waitJS(t, ctx, 30*time.Second, "rollup "+r.Name, fmt.Sprintf(
			`(() => { const a = document.querySelector(%q); return !!a && a.querySelector("a.rpc").getAttribute("href") === %q && a.querySelector(".inbox").textContent === %q })()`,
			sel, rpc, r.Inbox.Hex()))
	}
	waitJS(t, ctx, 30*time.Second, "charts", `document.querySelectorAll("figure.chart polyline").length >= 7`)
	// Txs sent to alpha show in its tx/s chart.
	sendRollupTxs(t, ep.Nodes[0].RollupRPC["alpha"], 5)
	waitJS(t, ctx, 30*time.Second, "alpha's txs in its tx/s chart",
		`(() => { const f = document.querySelector('figure.chart[data-chart="alpha tx/s"]'); return !!f && f.dataset.max !== "" && f.dataset.max !== "0 tx/s" })()`)
	// The height must advance without a reload: a mark left on the window
	// survives only if the document is the same one.
	h0, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__weftMark = 1; document.getElementById("height").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	n0, err := strconv.Atoi(strings.TrimSpace(h0))
	if err != nil {
		t.Fatalf("height %q: %v", h0, err)
	}
	waitJS(t, ctx, 30*time.Second, "the height to pass "+h0, fmt.Sprintf(`parseInt(document.getElementById("height").textContent, 10) > %d`, n0+2))
	if mark, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__weftMark || 0`)); err != nil || mark != 1 {
		t.Fatalf("the page was reloaded (mark %d, %v)", mark, err)
	}
	if live, err := chromedp.Run(ctx, chromedp.Text("#live")); err != nil || !strings.HasPrefix(live, "live · updated") {
		t.Errorf("live indicator %q (%v)", live, err)
	}
}

func saveScreenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := screenshotDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "network-page.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// sendRollupTxs sends n transfers from the first dev account on the rollup
// at url and waits for their receipts.
func sendRollupTxs(t *testing.T, url string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ec, err := ethclient.DialContext(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	dev, err := keys.DevAccounts(2)
	if err != nil {
		t.Fatal(err)
	}
	from, to := crypto.PubkeyToAddress(dev[0].PublicKey), crypto.PubkeyToAddress(dev[1].PublicKey)
	chainID, err := ec.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nonce, err := ec.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	price, err := ec.SuggestGasPrice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	signer := types.LatestSignerForChainID(chainID)
	var last common.Hash
	for i := range n {
		tx, err := types.SignNewTx(dev[0], signer, &types.LegacyTx{Nonce: nonce + uint64(i), To: &to, Value: big.NewInt(1), Gas: 21000, GasPrice: new(big.Int).Mul(price, big.NewInt(2))})
		if err != nil {
			t.Fatal(err)
		}
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatalf("send tx %d: %v", i, err)
		}
		last = tx.Hash()
	}
	for {
		if r, err := ec.TransactionReceipt(ctx, last); err == nil && r != nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the rollup txs were not executed: %v", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// checkStatusCLI runs `weft status -o json` against node0 until both
// rollups have a batch safe on L1, and checks the snapshot: four healthy
// validators, the rollups' RPC, inbox and settlement read from L1, no
// warnings.
func checkStatusCLI(t *testing.T, ep devnet.Endpoints) {
	t.Helper()
	inbox := map[string]string{}
	for _, r := range ep.L1.Deployment.Rollups {
		inbox[r.Name] = r.Inbox.Hex()
	}
	var v ui.View
	var last string
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(200 * time.Millisecond) // a separate process: polled until the deadline
	defer tick.Stop()
	for {
		out, err := exec.Command(weftBin, "status", "--node", ep.Nodes[0].API, "--output", "json").CombinedOutput()
		last = string(out)
		v = ui.View{}
		if err == nil && json.Unmarshal(out, &v) == nil && len(v.Rollups) == 2 &&
			v.Rollups[0].SafeWeftHeight > 0 && v.Rollups[1].SafeWeftHeight > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("weft status: no rollup batch safe on L1 within a minute: %v\n%s", err, out)
		}
		<-tick.C
	}
	if v.ChainID != ep.ChainID || len(v.Validators) != 4 || len(v.Warnings) != 0 {
		t.Errorf("weft status: chain %q, %d validators, warnings %+v:\n%s", v.ChainID, len(v.Validators), v.Warnings, last)
	}
	for _, val := range v.Validators {
		if val.State != "active" || val.Stake != "10 WEFT" || val.RecentBlocks == 0 {
			t.Errorf("validator %+v", val)
		}
	}
	for _, r := range v.Rollups {
		s := r.Settlement
		if s == nil || s.Inbox != inbox[r.Name] || !s.Batcher || !s.Relayer || s.L1Error != "" || s.BatchesPosted == 0 ||
			s.LastPostL1Block == 0 || r.RPCURL != ep.Nodes[0].RollupRPC[r.Name] || r.SettlementLag == "" {
			t.Errorf("rollup %s: %+v, settlement %+v", r.Name, r, s)
		}
	}
}
