package stakinge2e

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	"github.com/cometbft/cometbft/privval"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/devnet"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/node"
	"github.com/weftnet/weft/p2p"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/test/e2e/nettest"
)

// weftBin is the binary TestMain builds once for every test.
var weftBin string

func TestMain(m *testing.M) { nettest.Main(m, "stakinge2e", &weftBin) }

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("multi-process network test; skipped with -short")
	}
}

// tokens is n whole tokens (1 token = 10^18, one unit of voting power).
func tokens(n uint64) *uint256.Int {
	return new(uint256.Int).Mul(uint256.NewInt(n), uint256.NewInt(1_000_000_000_000_000_000))
}

// milliTokens is n thousandths of a token.
func milliTokens(n uint64) *uint256.Int {
	return new(uint256.Int).Mul(uint256.NewInt(n), uint256.NewInt(1_000_000_000_000_000))
}

// stakingParams are the windows every test network runs with (written into
// app_state.params.staking of the genesis before the first start): jailed
// after missing more than 10 of the last 20 blocks, jailed for 10 blocks,
// unbonding in 10 blocks, a self stake of at least 1 token. Genesis
// validators have 10 tokens (power 10) each.
var stakingParams = map[string]any{
	"signed_blocks_window": 20,
	"max_missed_blocks":    10,
	"downtime_jail_blocks": 10,
	"unbonding_blocks":     10,
	"unbonding_time":       "1s",
	"min_self_stake":       tokens(1).Dec(),
}

// feeLimit is what every test tx offers: the CLI's default.
var feeLimit = uint256.NewInt(1_000_000_000_000_000)

// nodeProc is one `weft start` process and a client of its node API.
type nodeProc struct {
	*nettest.Node        // Name is the node's moniker
	rpc           string // CometBFT RPC base URL
	valAddr       common.Address
}

// network is a local testnet whose nodes run as `weft start` processes.
type network struct {
	nettest.Cluster
	t        *testing.T
	dir      string
	chainID  string
	basePort int
	manifest *devnet.Manifest
	nodes    []*nodeProc
}

// slots is how many nodes (p2p..metrics port groups) each test reserves:
// the genesis validators and the extra nodes addNode writes.
const slots = 6

// startNetwork writes a network of n validators with `weft testnet`, sets
// stakingParams in every node's genesis, starts them all and returns once
// every node has committed height 1. Its ports are a block of its own
// (nettest.Ports) at base B: node (or addNode slot) i uses B+10i (p2p),
// +1 (CometBFT RPC), +2 (API), +3 (metrics), +4 (rollup feed).
func startNetwork(t *testing.T, validators int) *network {
	t.Helper()
	basePort := nettest.Ports(t, 10*slots)
	dir := filepath.Join(t.TempDir(), "net")
	m := nettest.Testnet(t, weftBin, dir, "--validators", strconv.Itoa(validators), "--base-port", strconv.Itoa(basePort), "--rollup", "alpha")
	n := &network{Cluster: nettest.Cluster{T: t, Tag: "stakinge2e", Bin: weftBin}, t: t, dir: dir, chainID: m.ChainID, basePort: basePort, manifest: m}
	var homes []string
	for _, info := range m.Nodes {
		n.addProc(&nodeProc{
			Node: &nettest.Node{
				Proc: nettest.Proc{Name: info.Moniker, Log: filepath.Join(info.Home, "test.log")},
				Home: info.Home, API: info.API,
			},
			rpc: info.RPC, valAddr: common.HexToAddress(info.Validator),
		})
		homes = append(homes, info.Home)
	}
	n.setStakingParams(homes)
	// Cleanups run last-in first-out: the processes are killed first, then
	// the logs (complete by then) are shown if the test failed.
	t.Cleanup(func() {
		if t.Failed() {
			nettest.DumpLogs(t, 80, n.Procs()...)
		}
	})
	t.Cleanup(n.KillAll)
	for i := range n.nodes {
		n.Start(i)
	}
	n.WaitHeight(90*time.Second, 1, n.All()...)
	return n
}

// genesisPath is a home's CometBFT genesis file.
func genesisPath(home string) string { return filepath.Join(home, "config", "genesis.json") }

// setStakingParams rewrites node0's genesis with stakingParams and gives
// every home the same bytes.
func (n *network) setStakingParams(homes []string) {
	n.t.Helper()
	raw, err := os.ReadFile(genesisPath(homes[0]))
	if err != nil {
		n.t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		n.t.Fatalf("genesis: %v", err)
	}
	st, ok := doc["app_state"].(map[string]any)["params"].(map[string]any)["staking"].(map[string]any)
	if !ok {
		n.t.Fatal("genesis has no app_state.params.staking")
	}
	for k, v := range stakingParams {
		if _, ok := st[k]; !ok {
			n.t.Fatalf("genesis app_state.params.staking has no %q", k)
		}
		st[k] = v
	}
	// Evidence must expire before unbonding does (genesis refuses it
	// otherwise): strictly inside 10 blocks and 1 s.
	ev := doc["consensus_params"].(map[string]any)["evidence"].(map[string]any)
	ev["max_age_num_blocks"], ev["max_age_duration"] = "9", "900000000"
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		n.t.Fatal(err)
	}
	for _, h := range homes {
		if err := os.WriteFile(genesisPath(h), out, 0o644); err != nil {
			n.t.Fatal(err)
		}
	}
}

// addNode writes the home of an extra node in port slot slot whose
// consensus key is valKey, with the network's genesis and every genesis
// validator as its bootstrap peer. It does not start it.
func (n *network) addNode(name string, slot int, valKey secp256k1eth.PrivKey) int {
	n.t.Helper()
	base := n.basePort + 10*slot
	ports := node.Ports{Host: "127.0.0.1", P2P: base, RPC: base + 1, API: base + 2, Metrics: base + 3}
	home := filepath.Join(n.dir, name)
	c := node.CometConfig(home, name, ports)
	var peers []p2p.Peer
	for _, info := range n.manifest.Nodes {
		id, err := peer.Decode(info.PeerID)
		if err != nil {
			n.t.Fatalf("peer id of %s: %v", info.Moniker, err)
		}
		peers = append(peers, p2p.Peer{Host: info.P2P, ID: id, NodeID: info.NodeID})
	}
	if err := p2p.ConfigureTransport(c.P2P, true, peers); err != nil {
		n.t.Fatal(err)
	}
	wc := node.DefaultConfig()
	wc.API.ListenAddr = fmt.Sprintf("127.0.0.1:%d", ports.API)
	// InitHome needs a genesis document; the network's file replaces it.
	placeholder := &genesis.Doc{
		ChainID: n.chainID, GenesisTime: time.Now().UTC(), BlockMaxBytes: genesis.DefaultBlockMaxBytes,
		Validators: []genesis.Validator{{Name: name, PubKey: hex.EncodeToString(valKey.PubKey().Bytes()), Power: 1}},
		AppState:   genesis.AppState{Params: genesis.DefaultParams()},
	}
	if err := node.InitHome(home, c, wc, placeholder, valKey); err != nil {
		n.t.Fatalf("init %s: %v", name, err)
	}
	g, err := os.ReadFile(genesisPath(n.nodes[0].Home))
	if err != nil {
		n.t.Fatal(err)
	}
	if err := os.WriteFile(genesisPath(home), g, 0o644); err != nil {
		n.t.Fatal(err)
	}
	n.addProc(&nodeProc{
		Node: &nettest.Node{
			Proc: nettest.Proc{Name: name, Log: filepath.Join(home, "test.log")},
			Home: home, API: wc.API.ListenAddr,
		},
		rpc: fmt.Sprintf("http://127.0.0.1:%d", ports.RPC), valAddr: common.BytesToAddress(valKey.PubKey().Address()),
	})
	return len(n.nodes) - 1
}

// validatorKey reads node i's consensus key.
func (n *network) validatorKey(i int) secp256k1eth.PrivKey {
	n.t.Helper()
	pv := privval.LoadFilePVEmptyState(filepath.Join(n.nodes[i].Home, "config", "priv_validator_key.json"), "")
	k, ok := pv.Key.PrivKey.(secp256k1eth.PrivKey)
	if !ok {
		n.t.Fatalf("%s's validator key is %T", n.nodes[i].Name, pv.Key.PrivKey)
	}
	return k
}

// operatorKey is the account key of genesis validator i's operator: weft
// testnet makes the consensus key's address the operator, and a
// secp256k1eth key is an Ethereum key.
func (n *network) operatorKey(i int) *ecdsa.PrivateKey {
	n.t.Helper()
	k, err := crypto.ToECDSA(n.validatorKey(i).Bytes())
	if err != nil {
		n.t.Fatal(err)
	}
	if nettest.AddrOf(k) != n.nodes[i].valAddr {
		n.t.Fatalf("operator address %s is not validator address %s", nettest.AddrOf(k), n.nodes[i].valAddr)
	}
	return k
}

// addProc adds a node to the network (and its cluster).
func (n *network) addProc(p *nodeProc) {
	n.Nodes = append(n.Nodes, p.Node)
	n.nodes = append(n.nodes, p)
}

// api returns node i's current API client.
func (n *network) api(i int) weftv1.NodeAPIClient { return n.nodes[i].Client().API }

// mustHeight is node i's height, failing the test on error.
func (n *network) mustHeight(i int) int64 {
	n.t.Helper()
	h, err := n.Height(i)
	if err != nil {
		n.t.Fatalf("%s GetStatus: %v", n.nodes[i].Name, err)
	}
	return h
}

// submit signs acts with key at its pending nonce on node i and waits until
// the tx is committed; it returns the result.
func (n *network) submitAndWait(i int, key *ecdsa.PrivateKey, acts ...*weftv1.Action) *weftv1.TxResult {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := n.nodes[i]
	c := p.Client()
	raw, err := c.Build(ctx, key, -1, feeLimit, acts...)
	if err != nil {
		n.t.Fatalf("build tx: %v", err)
	}
	h, err := c.Submit(ctx, raw)
	if err != nil {
		n.t.Fatalf("submit to %s: %v", p.Name, err)
	}
	r, err := c.WaitTx(ctx, h)
	if err != nil {
		n.t.Fatalf("tx %x: %v", h[:6], err)
	}
	if r.Result.Code != 0 {
		n.t.Fatalf("tx %x failed: code %d %s", h[:6], r.Result.Code, r.Result.Log)
	}
	return r.Result
}

// account returns a's committed account on node i.
func (n *network) account(i int, a common.Address) *weftv1.Account {
	n.t.Helper()
	ctx, cancel := nettest.RPCCtx()
	defer cancel()
	r, err := n.api(i).GetAccount(ctx, &weftv1.GetAccountRequest{Address: a[:]})
	if err != nil {
		n.t.Fatalf("GetAccount(%s): %v", a, err)
	}
	return r.Account
}

func balanceOf(acc *weftv1.Account) *uint256.Int { return new(uint256.Int).SetBytes(acc.Balance) }

// stakingValidator returns validator a as node i's staking state has it, and
// the height of that state.
func (n *network) stakingValidator(i int, a common.Address) (*weftv1.Validator, int64, error) {
	ctx, cancel := nettest.RPCCtx()
	defer cancel()
	r, err := n.api(i).ListValidators(ctx, &weftv1.ListValidatorsRequest{})
	if err != nil {
		return nil, 0, err
	}
	for _, v := range r.Validators {
		if common.BytesToAddress(v.Address) == a {
			return v, r.Height, nil
		}
	}
	return nil, r.Height, fmt.Errorf("no validator %s at height %d", a, r.Height)
}

func (n *network) mustValidator(i int, a common.Address) *weftv1.Validator {
	n.t.Helper()
	v, _, err := n.stakingValidator(i, a)
	if err != nil {
		n.t.Fatal(err)
	}
	return v
}

// cometGet GETs path from node i's CometBFT RPC and decodes its result.
func (n *network) cometGet(i int, path string, out any) error {
	ctx, cancel := nettest.RPCCtx()
	defer cancel()
	url := n.nodes[i].rpc + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if len(r.Error) > 0 && string(r.Error) != "null" {
		return fmt.Errorf("GET %s: %s", url, r.Error)
	}
	return json.Unmarshal(r.Result, out)
}

// cometValidators is CometBFT's validator set at height h (address → power).
func (n *network) cometValidators(i int, h int64) (map[common.Address]int64, error) {
	var r struct {
		BlockHeight string `json:"block_height"`
		Validators  []struct {
			Address     string `json:"address"`
			VotingPower string `json:"voting_power"`
		} `json:"validators"`
	}
	if err := n.cometGet(i, fmt.Sprintf("/validators?height=%d&per_page=100", h), &r); err != nil {
		return nil, err
	}
	out := map[common.Address]int64{}
	for _, v := range r.Validators {
		p, err := strconv.ParseInt(v.VotingPower, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("voting power %q: %w", v.VotingPower, err)
		}
		out[common.HexToAddress(v.Address)] = p
	}
	return out, nil
}

func (n *network) mustCometValidators(i int, h int64) map[common.Address]int64 {
	n.t.Helper()
	set, err := n.cometValidators(i, h)
	if err != nil {
		n.t.Fatal(err)
	}
	return set
}

// cometBlock is what the tests read of CometBFT's /block.
type cometBlock struct {
	Block struct {
		Header struct {
			Height string `json:"height"`
		} `json:"header"`
		Evidence struct {
			Evidence []struct {
				Type  string `json:"type"`
				Value struct {
					VoteA struct {
						Height           string `json:"height"`
						ValidatorAddress string `json:"validator_address"`
					} `json:"vote_a"`
				} `json:"value"`
			} `json:"evidence"`
		} `json:"evidence"`
		LastCommit struct {
			Signatures []struct {
				BlockIDFlag      int    `json:"block_id_flag"`
				ValidatorAddress string `json:"validator_address"`
			} `json:"signatures"`
		} `json:"last_commit"`
	} `json:"block"`
}

func (n *network) cometBlock(i int, h int64) (*cometBlock, error) {
	var b cometBlock
	if err := n.cometGet(i, fmt.Sprintf("/block?height=%d", h), &b); err != nil {
		return nil, err
	}
	if b.Block.Header.Height != strconv.FormatInt(h, 10) {
		return nil, fmt.Errorf("/block?height=%d returned height %q", h, b.Block.Header.Height)
	}
	return &b, nil
}

// signed reports whether block b's last commit holds a's commit signature
// (BlockIDFlagCommit = 2).
func (b *cometBlock) signed(a common.Address) bool {
	for _, s := range b.Block.LastCommit.Signatures {
		if s.BlockIDFlag == 2 && common.HexToAddress(s.ValidatorAddress) == a {
			return true
		}
	}
	return false
}

// waitSigned waits for a block at or above from, as node i serves it, whose
// last commit carries a's signature, and returns its height.
func (n *network) waitSigned(i int, a common.Address, from int64, timeout time.Duration) int64 {
	n.t.Helper()
	h := from
	n.WaitFor(timeout, fmt.Sprintf("a block from %d signed by %s", from, a), func() error {
		top, err := n.Height(i)
		if err != nil {
			return err
		}
		for ; h <= top; h++ {
			b, err := n.cometBlock(i, h)
			if err != nil {
				return err
			}
			if b.signed(a) {
				return nil
			}
		}
		return fmt.Errorf("blocks %d..%d lack its signature", from, top)
	})
	return h
}

// runCLI runs the weft binary and returns its stdout, stderr and exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return nettest.RunCLI(t, 90*time.Second, weftBin, args...)
}

// cliTx runs a `weft tx` command that must succeed and returns the height it
// was committed at (the CLI waits by default).
func cliTx(t *testing.T, args ...string) int64 {
	t.Helper()
	stdout, stderr, code := runCLI(t, append([]string{"tx", "--output", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("weft tx %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	var tx struct {
		Status string `json:"status"`
		Result struct {
			Height int64 `json:"height"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(stdout), &tx); err != nil || tx.Status != "committed" {
		t.Fatalf("weft tx %s printed no committed tx (%v): %q", strings.Join(args, " "), err, stdout)
	}
	return tx.Result.Height
}

// load sends key's rollup-data txs with consecutive nonces to node i, one
// every interval, until the returned stop is called (also at cleanup). A tx
// a node does not take is resent until it does.
func (n *network) load(i int, key *ecdsa.PrivateKey, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for nonce := int64(0); ; {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			p := n.nodes[i]
			c := p.Client()
			ctx, cancel := nettest.RPCCtx()
			raw, err := c.Build(ctx, key, nonce, feeLimit, client.RollupData("alpha", []byte(fmt.Sprintf("load %d", nonce))))
			if err == nil {
				_, err = c.Submit(ctx, raw)
			}
			cancel()
			if err == nil {
				nonce++
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(done); wg.Wait() }) }
	n.t.Cleanup(stop)
	return stop
}
