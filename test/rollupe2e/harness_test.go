package rollupe2e

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/devnet"
	"github.com/weftnet/weft/keys"
	"github.com/weftnet/weft/rollups/settlement"
	"github.com/weftnet/weft/test/e2e/nettest"
)

// weftBin is the binary TestMain builds once for every test.
var weftBin string

func TestMain(m *testing.M) { nettest.Main(m, "rollupe2e", &weftBin) }

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("multi-process rollup network test; skipped with -short")
	}
}

// EVM chain ids of the two rollups every test network registers.
var (
	alphaChainID = big.NewInt(901)
	betaChainID  = big.NewInt(902)
)

// Fees every test tx offers: far above the rollup's base fee (1 gwei at
// genesis, falling while blocks are below the gas target).
var (
	testTip    = big.NewInt(params.GWei)
	testFeeCap = big.NewInt(20 * params.GWei)
)

// transferTx is a signed EIP-1559 value transfer (or call, with data).
func transferTx(t *testing.T, key *ecdsa.PrivateKey, chainID *big.Int, nonce uint64, to common.Address, value *big.Int, gas uint64, data []byte) *types.Transaction {
	t.Helper()
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.DynamicFeeTx{
		ChainID: chainID, Nonce: nonce, GasTipCap: testTip, GasFeeCap: testFeeCap, Gas: gas, To: &to, Value: value, Data: data,
	})
	if err != nil {
		t.Fatalf("sign tx: %v", err)
	}
	return tx
}

func rawOf(t *testing.T, tx *types.Transaction) []byte {
	t.Helper()
	b, err := tx.MarshalBinary()
	if err != nil {
		t.Fatalf("encode tx: %v", err)
	}
	return b
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// proc is one `weft start` process.
// network is a local testnet whose validators run as `weft start` processes.
type network struct {
	nettest.Cluster
	t   *testing.T
	dir string
	m   *devnet.Manifest
	// rollupRPC maps "nodeI/rollup" to the rollup's JSON-RPC URL.
	rollupRPC map[string]string
	// l1 and l1ep are set when the network settles on an embedded L1.
	l1   *settlement.L1
	l1ep *devnet.L1Endpoints
}

// netConfig chooses a network's shape. Its ports are a block of its own
// (nettest.Ports) at base B: node i uses B+10i .. +4 (p2p, CometBFT RPC,
// API, metrics, rollup feed); node0 serves alpha's JSON-RPC on B+rpcOffset,
// beta's on B+rpcOffset+1.
type netConfig struct {
	// alphaOnNode1 makes node1 execute alpha too, serving it on
	// B+rpcOffset+2.
	alphaOnNode1 bool
	// validators defaults to 2.
	validators int
	// classicP2P selects CometBFT's classic transport instead of libp2p.
	classicP2P bool
	// l1, when set, runs an embedded L1 in the test process, deploys the
	// settlement contracts and makes node0 settle both rollups on it.
	l1 *devnet.L1Options
}

// rpcOffset is where a network's rollup JSON-RPC ports start, after those
// of at most five validators.
const rpcOffset = 50

// startNetwork writes a network (2 validators unless c says otherwise) with
// rollups alpha (EVM chain 901) and beta (902) served by node0, starts every
// validator and returns once all have committed a block and every rollup
// RPC answers.
func startNetwork(t *testing.T, c netConfig) *network {
	t.Helper()
	validators := c.validators
	if validators == 0 {
		validators = 2
	}
	if 10*validators > rpcOffset {
		t.Fatalf("%d validators: their ports would run into the rollup RPC ports at +%d", validators, rpcOffset)
	}
	basePort := nettest.Ports(t, rpcOffset+3)
	rpcPort := basePort + rpcOffset
	dir := filepath.Join(t.TempDir(), "net")
	args := []string{"--validators", strconv.Itoa(validators),
		"--base-port", strconv.Itoa(basePort), "--rollup", "alpha:901", "--rollup", "beta:902",
		"--rollup-rpc-port", strconv.Itoa(rpcPort), "--allow-unprotected-txs"}
	if c.classicP2P {
		args = append(args, "--libp2p=false")
	}
	m := nettest.Testnet(t, weftBin, dir, args...)
	n := &network{Cluster: nettest.Cluster{T: t, Tag: "rollupe2e", Bin: weftBin, Poll: 50 * time.Millisecond}, t: t, dir: dir, m: m, rollupRPC: map[string]string{}}
	for name, url := range m.Nodes[0].RollupRPC {
		n.rollupRPC["node0/"+name] = url
	}
	if c.alphaOnNode1 {
		addr := fmt.Sprintf("127.0.0.1:%d", rpcPort+2)
		addAlphaService(t, m.Nodes[0].Home, m.Nodes[1].Home, addr)
		n.rollupRPC["node1/alpha"] = "http://" + addr
	}
	if c.l1 != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		l1, ep, err := devnet.SetupSettlement(ctx, dir, m, *c.l1, 20, slog.New(slog.DiscardHandler))
		cancel()
		if err != nil {
			t.Fatalf("L1 settlement: %v", err)
		}
		t.Cleanup(func() { l1.Close() })
		n.l1, n.l1ep = l1, ep
	}
	for i, info := range m.Nodes {
		n.Nodes = append(n.Nodes, &nettest.Node{
			Proc: nettest.Proc{Name: fmt.Sprintf("node%d", i), Log: filepath.Join(info.Home, "test.log")},
			Home: info.Home, API: info.API,
		})
	}
	// Cleanups run last-in first-out: the processes are killed first, then
	// the logs (complete by then) are shown if the test failed.
	t.Cleanup(func() {
		if t.Failed() {
			nettest.DumpLogs(t, 50, n.Procs()...)
		}
	})
	t.Cleanup(n.KillAll)
	for i := range n.Nodes {
		n.Start(i)
	}
	n.WaitHeight(90*time.Second, 1, n.All()...)
	for key, url := range n.rollupRPC {
		ec := n.eth(key)
		n.WaitFor(30*time.Second, key+" JSON-RPC answers", func() error {
			ctx, cancel := nettest.RPCCtx()
			defer cancel()
			_, err := ec.BlockNumber(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", url, err)
			}
			return nil
		})
	}
	return n
}

// addAlphaService gives node1 its own alpha rollup service: a copy of
// node0's alpha submitter key and a [[rollup]] table in weft.toml.
func addAlphaService(t *testing.T, home0, home1, listen string) {
	t.Helper()
	k, err := keys.LoadFile(filepath.Join(home0, "keys", "alpha-submitter.json"))
	if err != nil {
		t.Fatalf("node0 alpha submitter key: %v", err)
	}
	if _, err := keys.Dir(filepath.Join(home1, "keys")).Add("alpha-submitter", k.Private); err != nil {
		t.Fatalf("copy alpha submitter key to node1: %v", err)
	}
	f, err := os.OpenFile(filepath.Join(home1, "config", "weft.toml"), os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("node1 weft.toml: %v", err)
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, `
[[rollup]]
  name = "alpha"
  rpc_listen_addr = %q
  submitter_key = "keys/alpha-submitter.json"
  dev_alloc = 20
  dev_balance = %q
`, listen, devnet.DevRollupBalance)
	if err != nil {
		t.Fatalf("append to node1 weft.toml: %v", err)
	}
}

// api dials node i's gRPC node API; the client is closed at cleanup.
func (n *network) api(i int) *client.Client {
	n.t.Helper()
	c, err := client.Dial(n.Nodes[i].API)
	if err != nil {
		n.t.Fatalf("dial node%d API: %v", i, err)
	}
	n.t.Cleanup(func() { c.Close() })
	return c
}

// eth dials the JSON-RPC of key ("node0/alpha") over HTTP.
func (n *network) eth(key string) *ethclient.Client {
	n.t.Helper()
	url, ok := n.rollupRPC[key]
	if !ok {
		n.t.Fatalf("no rollup RPC %s", key)
	}
	ec, err := ethclient.Dial(url)
	if err != nil {
		n.t.Fatalf("dial %s: %v", url, err)
	}
	n.t.Cleanup(ec.Close)
	return ec
}

// ethWS dials the JSON-RPC of key over WebSocket (same port as HTTP).
func (n *network) ethWS(key string) *ethclient.Client {
	n.t.Helper()
	url := strings.Replace(n.rollupRPC[key], "http://", "ws://", 1)
	ctx, cancel := nettest.RPCCtx()
	defer cancel()
	ec, err := ethclient.DialContext(ctx, url)
	if err != nil {
		n.t.Fatalf("dial %s: %v", url, err)
	}
	n.t.Cleanup(ec.Close)
	return ec
}

// waitReceipt polls for tx's receipt.
func (n *network) waitReceipt(ec *ethclient.Client, hash common.Hash, timeout time.Duration) *types.Receipt {
	n.t.Helper()
	var r *types.Receipt
	n.WaitFor(timeout, "receipt of "+hash.Hex(), func() error {
		ctx, cancel := nettest.RPCCtx()
		defer cancel()
		var err error
		r, err = ec.TransactionReceipt(ctx, hash)
		return err
	})
	return r
}

// send submits tx with eth_sendRawTransaction and fails the test if it is
// refused.
func send(t *testing.T, ec *ethclient.Client, tx *types.Transaction) {
	t.Helper()
	ctx, cancel := nettest.RPCCtx()
	defer cancel()
	if err := ec.SendTransaction(ctx, tx); err != nil {
		t.Fatalf("eth_sendRawTransaction nonce %d: %v", tx.Nonce(), err)
	}
}

// notFound reports whether err is the "no such tx/receipt" answer.
func notFound(err error) bool { return errors.Is(err, ethereum.NotFound) }
