package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	cmtp2p "github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/devnet"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/node"
	"github.com/weftnet/weft/p2p"
)

const (
	validators = 4
	// weftChainID and kvChainID name the two benchmark networks.
	weftChainID = "weft-bench"
	kvChainID   = "kvstore-bench"
	// senderBalance funds every generated Weft sender (1e24, like node0's
	// rollup submitters): far more than any run's fees.
	senderBalance = devnet.SubmitterBalance
)

// rollupNames are the eight rollups registered at genesis.
var rollupNames = func() []string {
	out := make([]string, 8)
	for i := range out {
		out[i] = fmt.Sprintf("r%d", i)
	}
	return out
}()

// setupWeft writes a 4-validator network with `weft testnet`, funds the
// benchmark's senders in genesis (the same file on every node, before the
// first start) and starts `weft start` for each node.
func setupWeft(ctx context.Context, o *options, system, dir string, base int, senders []common.Address) (*cluster, error) {
	if err := checkPortsFree(base, validators); err != nil {
		return nil, err
	}
	args := []string{"testnet", "--validators", strconv.Itoa(validators), "--output", dir,
		"--base-port", strconv.Itoa(base), "--chain-id", weftChainID, "--dev-accounts", "20"}
	for _, r := range rollupNames {
		args = append(args, "--rollup", r)
	}
	if out, err := exec.CommandContext(ctx, o.weftBin, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("weft %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	m, err := devnet.LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	if err := fundGenesis(m, senders); err != nil {
		return nil, err
	}
	c := &cluster{system: system}
	if o.reapInterval > 0 || o.txBatchInterval > 0 {
		for _, n := range m.Nodes {
			cc, wc, err := node.LoadConfig(n.Home)
			if err != nil {
				return nil, err
			}
			if o.reapInterval > 0 {
				cc.Mempool.ReapInterval = o.reapInterval
			}
			if o.txBatchInterval > 0 {
				wc.Feed.TxBatchInterval = o.txBatchInterval
			}
			if err := node.WriteConfig(n.Home, cc, wc); err != nil {
				return nil, err
			}
		}
	}
	if o.pprof || o.budget {
		for i, n := range m.Nodes {
			addr := pprofAddr(base, i)
			cc, wc, err := node.LoadConfig(n.Home)
			if err != nil {
				return nil, err
			}
			cc.RPC.PprofListenAddress = addr
			if err := node.WriteConfig(n.Home, cc, wc); err != nil {
				return nil, err
			}
			c.pprof = append(c.pprof, addr)
		}
	}
	for _, n := range m.Nodes {
		p, err := startProc("weft/"+n.Moniker, o.weftBin, filepath.Join(n.Home, "bench.log"),
			"start", "--home", n.Home, "--log-level", o.logLevel)
		if err != nil {
			c.stop()
			return nil, err
		}
		c.procs = append(c.procs, p)
		c.rpc = append(c.rpc, n.RPC)
		c.api = append(c.api, n.API)
		c.metrics = append(c.metrics, n.Metrics)
	}
	return c, nil
}

// pprofAddr is where node i of a cluster at base serves pprof: its sixth
// port (checkPortsFree keeps base+10i..base+10i+5 free).
func pprofAddr(base, i int) string { return fmt.Sprintf("127.0.0.1:%d", base+10*i+5) }

// fundGenesis adds senders to app_state.accounts of every node's genesis.
func fundGenesis(m *devnet.Manifest, senders []common.Address) error {
	path0 := filepath.Join(m.Nodes[0].Home, "config", "genesis.json")
	g, st, err := genesis.LoadCometBFT(path0)
	if err != nil {
		return err
	}
	for _, a := range senders {
		st.Accounts = append(st.Accounts, genesis.Account{Address: a.Hex(), Balance: senderBalance})
	}
	if err := st.Validate(); err != nil {
		return err
	}
	if g.AppState, err = json.Marshal(st); err != nil {
		return err
	}
	for _, n := range m.Nodes {
		if err := g.SaveAs(filepath.Join(n.Home, "config", "genesis.json")); err != nil {
			return err
		}
	}
	return nil
}

// setupKV writes four CometBFT homes for the kvstore baseline with
// CometBFT's own packages (ed25519 validator keys, flood mempool, Weft's
// block timing and block size) and starts a kvnode for each.
func setupKV(o *options, dir string, base int) (*cluster, error) {
	if err := checkPortsFree(base, validators); err != nil {
		return nil, err
	}
	gen := &cmttypes.GenesisDoc{
		ChainID:         kvChainID,
		GenesisTime:     time.Now().UTC(),
		InitialHeight:   1,
		ConsensusParams: cmttypes.DefaultConsensusParams(),
	}
	gen.ConsensusParams.Block.MaxBytes = genesis.DefaultBlockMaxBytes
	confs := make([]*cfg.Config, validators)
	peers := make([]p2p.Peer, validators)
	for i := range confs {
		home := filepath.Join(dir, fmt.Sprintf("node%d", i))
		for _, d := range []string{filepath.Join(home, "config"), filepath.Join(home, "data")} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return nil, err
			}
		}
		c := kvConfig(home, fmt.Sprintf("node%d", i), base+10*i, o)
		nk, err := cmtp2p.LoadOrGenNodeKey(c.NodeKeyFile())
		if err != nil {
			return nil, err
		}
		pid, err := p2p.PeerID(nk.PrivKey)
		if err != nil {
			return nil, err
		}
		peers[i] = p2p.Peer{Host: fmt.Sprintf("127.0.0.1:%d", base+10*i), ID: pid, NodeID: string(nk.ID())}
		pv := privval.GenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
		pv.Save()
		pk, err := pv.GetPubKey()
		if err != nil {
			return nil, err
		}
		gen.Validators = append(gen.Validators, cmttypes.GenesisValidator{
			Address: pk.Address(), PubKey: pk, Power: 10, Name: c.Moniker,
		})
		confs[i] = c
	}
	if err := gen.ValidateAndComplete(); err != nil {
		return nil, err
	}
	c := &cluster{system: "kvstore"}
	for i, conf := range confs {
		if o.pprof || o.budget {
			conf.RPC.PprofListenAddress = pprofAddr(base, i)
			c.pprof = append(c.pprof, conf.RPC.PprofListenAddress)
		}
		if err := gen.SaveAs(conf.GenesisFile()); err != nil {
			return nil, err
		}
		var others []p2p.Peer
		for j, p := range peers {
			if j != i {
				others = append(others, p)
			}
		}
		if err := p2p.ConfigureTransport(conf.P2P, o.kvLibp2p, others); err != nil {
			return nil, err
		}
		if err := conf.ValidateBasic(); err != nil {
			return nil, fmt.Errorf("kvstore config.toml: %w", err)
		}
		cfg.WriteConfigFile(filepath.Join(conf.RootDir, "config", "config.toml"), conf)
	}
	for i, conf := range confs {
		p, err := startProc(fmt.Sprintf("kvstore/node%d", i), o.kvBin, filepath.Join(conf.RootDir, "bench.log"),
			"--home", conf.RootDir, "--log-level", o.logLevel)
		if err != nil {
			c.stop()
			return nil, err
		}
		c.procs = append(c.procs, p)
		c.rpc = append(c.rpc, fmt.Sprintf("http://127.0.0.1:%d", base+10*i+1))
		c.metrics = append(c.metrics, fmt.Sprintf("http://127.0.0.1:%d/metrics", base+10*i+3))
	}
	return c, nil
}

// kvConfig is CometBFT's default config with what Weft's node.CometConfig
// sets for the chain's behaviour (block timing, indexer off, Prometheus on,
// loopback peers), no per-connection rate cap, and the flood mempool sized
// like Weft's app mempool, so that a full mempool is not the first limit
// either system hits.
func kvConfig(home, moniker string, p2pPort int, o *options) *cfg.Config {
	c := cfg.DefaultConfig()
	c.SetRoot(home)
	c.Moniker = moniker
	c.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", p2pPort)
	c.P2P.AllowDuplicateIP = true
	c.P2P.AddrBookStrict = false
	c.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", p2pPort+1)
	c.Instrumentation.Prometheus = true
	c.Instrumentation.PrometheusListenAddr = fmt.Sprintf("127.0.0.1:%d", p2pPort+3)
	// CometBFT's classic transport caps each peer connection at 5 MB/s by
	// default; Weft's libp2p transport has no such cap, so lift it: the
	// baseline's ceiling should be its CPU and protocol, not a setting.
	c.P2P.SendRate, c.P2P.RecvRate = 512<<20, 512<<20
	c.Mempool.Type = cfg.MempoolTypeFlood
	c.Mempool.Size = o.kvMempoolSize
	c.Mempool.MaxTxsBytes = 512 << 20
	c.Mempool.CacheSize = 100_000
	c.Mempool.MaxTxBytes = 1 << 20
	c.Consensus.TimeoutCommit = node.DefaultTimeoutCommit
	c.Consensus.TimeoutPropose = node.DefaultTimeoutPropose
	c.Consensus.PeerGossipSleepDuration = node.DefaultPeerGossipSleep
	c.Consensus.CreateEmptyBlocks = true
	c.TxIndex.Indexer = "null"
	return c
}
