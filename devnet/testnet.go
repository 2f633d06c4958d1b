package devnet

import (
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/weftnet/weft/attest/bls"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/keys"
	"github.com/weftnet/weft/node"
	"github.com/weftnet/weft/p2p"
)

// TestnetOptions describe a local network of validators on one host.
type TestnetOptions struct {
	Validators int
	Output     string
	ChainID    string
	Host       string
	// BasePort: node i listens on BasePort+10i (p2p), +1 (CometBFT RPC),
	// +2 (node API), +3 (metrics).
	BasePort int
	Rollups  []genesis.Rollup
	// DevAccounts prefunds this many Hardhat/Anvil development accounts.
	DevAccounts int
	DevBalance  string
	// LibP2P selects CometBFT's libp2p transport (default) over the classic one.
	LibP2P      bool
	GenesisTime time.Time
	// RollupRPCBasePort, when positive, makes node0 execute every genesis
	// rollup and serve its JSON-RPC on RollupRPCBasePort+i, with a funded
	// submitter key per rollup and the dev accounts prefunded on each rollup.
	RollupRPCBasePort int
	// UI serves each node's network page on BasePort+10i+6 (the devnet
	// always does).
	UI bool
	// AllowUnprotectedTxs makes node0's rollup RPCs accept txs without
	// EIP-155 replay protection (allow_unprotected_txs; the devnet always
	// does, so the deterministic deployment proxy's published deployment tx
	// and the like work there).
	AllowUnprotectedTxs bool
}

// UIPortOffset is where node i's network page listens with
// TestnetOptions.UI: BasePort+10i+UIPortOffset.
const UIPortOffset = 6

// SubmitterBalance funds each rollup submitter on Weft (1e24).
const SubmitterBalance = "1000000000000000000000000"

// DevRollupBalance funds each dev account on a devnet rollup (10000 ETH).
const DevRollupBalance = "10000000000000000000000"

// NodeInfo describes one generated node (written to testnet.json).
type NodeInfo struct {
	Moniker   string `json:"moniker"`
	Home      string `json:"home"`
	P2P       string `json:"p2p"`
	RPC       string `json:"rpc"`
	API       string `json:"api"`
	Metrics   string `json:"metrics"`
	PeerID    string `json:"peer_id"`
	NodeID    string `json:"node_id"`
	Validator string `json:"validator_address"`
	// Feed is the node's rollup-feed (gossipsub) address, with /p2p/ID.
	Feed string `json:"feed"`
	// RollupRPC maps rollup names to their JSON-RPC URLs on this node.
	RollupRPC map[string]string `json:"rollup_rpc,omitempty"`
	// UI is the URL of the node's network page ("" when it serves none).
	UI string `json:"ui,omitempty"`
}

// Manifest is testnet.json.
type Manifest struct {
	ChainID string     `json:"chain_id"`
	Nodes   []NodeInfo `json:"nodes"`
}

// ManifestPath is where GenerateTestnet writes the manifest.
func ManifestPath(dir string) string { return filepath.Join(dir, "testnet.json") }

// GenerateTestnet writes one home per validator under Output/nodeI, all
// sharing one genesis, each bootstrapping from all the others.
func GenerateTestnet(o TestnetOptions) (*Manifest, error) {
	if o.Validators < 1 {
		return nil, fmt.Errorf("--validators must be at least 1, got %d", o.Validators)
	}
	if o.BasePort < 1024 || o.BasePort+10*o.Validators > 65535 {
		return nil, fmt.Errorf("--base-port %d leaves no room for %d nodes", o.BasePort, o.Validators)
	}
	if _, err := os.Stat(ManifestPath(o.Output)); err == nil {
		return nil, fmt.Errorf("%s already holds a testnet", o.Output)
	}
	if o.GenesisTime.IsZero() {
		o.GenesisTime = time.Now().UTC()
	}
	g := &testnetGen{o: o}
	if err := g.makeGenesis(); err != nil {
		return nil, err
	}
	g.m = &Manifest{ChainID: o.ChainID}
	g.homes = make([]string, o.Validators)
	g.peers = make([]p2p.Peer, o.Validators)
	for i := range g.homes {
		if err := g.initNode(i); err != nil {
			return nil, err
		}
	}
	if err := g.connectNodes(); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(g.m, "", "  ")
	if err := os.WriteFile(ManifestPath(o.Output), b, 0o644); err != nil {
		return nil, err
	}
	return g.m, nil
}

// testnetGen is a testnet being generated: its genesis and keys, and the
// nodes written so far.
type testnetGen struct {
	o   TestnetOptions
	doc *genesis.Doc
	// submitters are the submitter keys of node0's rollup services, by
	// rollup; bundleKey node0's bundle key (with RollupRPCBasePort).
	submitters map[string]*ecdsa.PrivateKey
	bundleKey  *ecdsa.PrivateKey
	valKeys    []secp256k1eth.PrivKey
	// attestKeys are the validators' BLS attestation keys, by node.
	attestKeys []*bls.SecretKey
	m          *Manifest
	homes      []string
	peers      []p2p.Peer
	feedAddrs  []string
}

// makeGenesis builds the genesis: dev accounts, node0's funded rollup
// keys, and a validator key per node.
func (g *testnetGen) makeGenesis() error {
	o := g.o
	g.doc = &genesis.Doc{
		ChainID: o.ChainID, GenesisTime: o.GenesisTime, BlockMaxBytes: genesis.DefaultBlockMaxBytes,
		AppState: genesis.AppState{Params: genesis.DefaultParams(), Rollups: o.Rollups},
	}
	// Local networks unbond in minutes. CometBFT's evidence ages, which
	// genesis derives from unbonding (strictly shorter), follow.
	g.doc.AppState.Params.Staking = genesis.DevnetStakingParams()
	dev, err := keys.DevAccounts(o.DevAccounts)
	if err != nil {
		return err
	}
	for _, k := range dev {
		g.doc.AppState.Accounts = append(g.doc.AppState.Accounts, genesis.Account{Address: crypto.PubkeyToAddress(k.PublicKey).Hex(), Balance: o.DevBalance})
	}
	if err := g.makeRollupKeys(); err != nil {
		return err
	}
	g.valKeys = make([]secp256k1eth.PrivKey, o.Validators)
	g.attestKeys = make([]*bls.SecretKey, o.Validators)
	for i := range g.valKeys {
		g.valKeys[i] = secp256k1eth.GenPrivKey()
		if g.attestKeys[i], err = bls.GenerateKey(nil); err != nil {
			return err
		}
		g.doc.Validators = append(g.doc.Validators, genesis.Validator{
			Name: fmt.Sprintf("node%d", i), PubKey: hex.EncodeToString(g.valKeys[i].PubKey().Bytes()), Power: 10,
			AttestationPubKey: "0x" + hex.EncodeToString(g.attestKeys[i].PublicKey().Bytes()),
			AttestationPop:    "0x" + hex.EncodeToString(g.attestKeys[i].PopProve().Bytes()),
		})
	}
	return g.doc.Validate()
}

// makeRollupKeys makes, with RollupRPCBasePort, node0's bundle key and a
// submitter key per rollup, all funded on Weft.
func (g *testnetGen) makeRollupKeys() error {
	o := g.o
	g.submitters = map[string]*ecdsa.PrivateKey{}
	if o.RollupRPCBasePort <= 0 {
		return nil
	}
	var err error
	if g.bundleKey, err = crypto.GenerateKey(); err != nil {
		return err
	}
	g.doc.AppState.Accounts = append(g.doc.AppState.Accounts, genesis.Account{Address: crypto.PubkeyToAddress(g.bundleKey.PublicKey).Hex(), Balance: SubmitterBalance})
	for _, r := range o.Rollups {
		k, err := crypto.GenerateKey()
		if err != nil {
			return err
		}
		g.submitters[r.Name] = k
		g.doc.AppState.Accounts = append(g.doc.AppState.Accounts, genesis.Account{Address: crypto.PubkeyToAddress(k.PublicKey).Hex(), Balance: SubmitterBalance})
	}
	return nil
}

// initNode writes node i's home and adds it to the manifest.
func (g *testnetGen) initNode(i int) error {
	o := g.o
	ports := node.Ports{Host: o.Host, P2P: o.BasePort + 10*i, RPC: o.BasePort + 10*i + 1, API: o.BasePort + 10*i + 2, Metrics: o.BasePort + 10*i + 3}
	g.homes[i] = filepath.Join(o.Output, fmt.Sprintf("node%d", i))
	moniker := fmt.Sprintf("node%d", i)
	c := node.CometConfig(g.homes[i], moniker, ports)
	wc := node.DefaultConfig()
	wc.API.ListenAddr = fmt.Sprintf("%s:%d", o.Host, ports.API)
	wc.Feed.ListenAddr = fmt.Sprintf("/ip4/%s/udp/%d/quic-v1", o.Host, o.BasePort+10*i+4)
	if o.UI {
		wc.UI.ListenAddr = fmt.Sprintf("%s:%d", o.Host, o.BasePort+10*i+UIPortOffset)
	}
	if i == 0 && o.RollupRPCBasePort > 0 {
		if err := g.addRollupServices(g.homes[i], &wc); err != nil {
			return err
		}
	}
	if err := node.InitHome(g.homes[i], c, wc, g.doc, g.valKeys[i]); err != nil {
		return err
	}
	if _, err := keys.WriteAttestationKey(keys.AttestationKeyPath(g.homes[i]), g.attestKeys[i]); err != nil {
		return err
	}
	_, peer, err := node.NodeIdentity(c)
	if err != nil {
		return err
	}
	peer.Host = fmt.Sprintf("%s:%d", o.Host, ports.P2P)
	g.peers[i] = peer
	feedID, err := node.FeedPeerID(c)
	if err != nil {
		return err
	}
	g.feedAddrs = append(g.feedAddrs, wc.Feed.ListenAddr+"/p2p/"+feedID.String())
	g.m.Nodes = append(g.m.Nodes, NodeInfo{
		Moniker: moniker, Home: g.homes[i], P2P: peer.Host,
		RPC: fmt.Sprintf("http://%s:%d", o.Host, ports.RPC), API: wc.API.ListenAddr,
		Metrics: fmt.Sprintf("http://%s:%d/metrics", o.Host, ports.Metrics),
		PeerID:  peer.ID.String(), NodeID: peer.NodeID, Validator: g.valKeys[i].PubKey().Address().String(),
		Feed: g.feedAddrs[i],
	})
	if wc.UI.ListenAddr != "" {
		g.m.Nodes[i].UI = "http://" + wc.UI.ListenAddr
	}
	for _, r := range wc.Rollups {
		if g.m.Nodes[i].RollupRPC == nil {
			g.m.Nodes[i].RollupRPC = map[string]string{}
		}
		g.m.Nodes[i].RollupRPC[r.Name] = "http://" + r.RPCListenAddr
	}
	return nil
}

// addRollupServices writes node0's bundle and submitter keys into home
// and adds to wc a rollup service per genesis rollup.
func (g *testnetGen) addRollupServices(home string, wc *node.Config) error {
	o := g.o
	if _, err := keys.Dir(filepath.Join(home, "keys")).Add("bundler", g.bundleKey); err != nil {
		return err
	}
	wc.RollupBundleKey = filepath.Join("keys", "bundler.json")
	for j, r := range o.Rollups {
		kf := filepath.Join("keys", r.Name+"-submitter")
		if _, err := keys.Dir(filepath.Join(home, "keys")).Add(r.Name+"-submitter", g.submitters[r.Name]); err != nil {
			return err
		}
		// The submitter also relays L1 deposits (deposit_relayer).
		wc.Rollups = append(wc.Rollups, node.RollupService{
			Name: r.Name, RPCListenAddr: fmt.Sprintf("%s:%d", o.Host, o.RollupRPCBasePort+j),
			SubmitterKey: kf + ".json", DevAlloc: o.DevAccounts, DevBalance: DevRollupBalance,
			DepositRelayer:      crypto.PubkeyToAddress(g.submitters[r.Name].PublicKey).Hex(),
			AllowUnprotectedTxs: o.AllowUnprotectedTxs,
		})
	}
	return nil
}

// connectNodes points each node's CometBFT transport and rollup feed at
// all the other nodes.
func (g *testnetGen) connectNodes() error {
	for i, home := range g.homes {
		c, wc, err := node.LoadConfig(home)
		if err != nil {
			return err
		}
		var others []p2p.Peer
		for j, p := range g.peers {
			if j != i {
				others = append(others, p)
			}
		}
		if err := p2p.ConfigureTransport(c.P2P, g.o.LibP2P, others); err != nil {
			return err
		}
		wc.Feed.Peers = nil
		for j, a := range g.feedAddrs {
			if j != i {
				wc.Feed.Peers = append(wc.Feed.Peers, a)
			}
		}
		if err := node.WriteConfig(home, c, wc); err != nil {
			return err
		}
	}
	return nil
}

// LoadManifest reads testnet.json from dir.
func LoadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(ManifestPath(dir))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestPath(dir), err)
	}
	return &m, nil
}
