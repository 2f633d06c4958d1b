package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	cmtp2p "github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/viper"

	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/p2p"
)

// Config holds Weft's own settings, in <home>/config/weft.toml.
type Config struct {
	// RollupBundleKey is the key file (relative to the home) of the Weft
	// account that signs users' cross-rollup bundles (weft_sendBundle);
	// empty disables bundles.
	RollupBundleKey string `toml:"rollup_bundle_key"`
	// Rollups are the rollups this node executes and serves JSON-RPC for.
	Rollups []RollupService `toml:"rollup"`
	API     struct {
		// ListenAddr is the gRPC node API's "host:port".
		ListenAddr string `toml:"listen_addr"`
	} `toml:"api"`
	Log struct {
		Level  string `toml:"level"`
		Format string `toml:"format"`
	} `toml:"log"`
	Feed    FeedConfig    `toml:"feed"`
	Storage StorageConfig `toml:"storage"`
	UI      UIConfig      `toml:"ui"`
}

// UIConfig is the node's network page (package ui): read-only, no keys.
type UIConfig struct {
	// ListenAddr is the page's HTTP "host:port"; empty serves no page.
	ListenAddr string `toml:"listen_addr"`
	// L1Explorer, when set, is an L1 explorer's address URL prefix
	// ("https://etherscan.io/address/") the rollups' inboxes link to.
	L1Explorer string `toml:"l1_explorer"`
}

// StorageConfig is how much of its disk a node keeps free (see disk.go).
type StorageConfig struct {
	// MinFreeMB is the free space, in MiB, the node needs on the
	// filesystems of its data directory: it will not start with less, and
	// stops (refusing txs first) when free space falls below it.
	MinFreeMB uint64 `toml:"min_free_mb"`
}

// DefaultConfig returns Weft's default settings.
func DefaultConfig() Config {
	var c Config
	c.API.ListenAddr = "127.0.0.1:9090"
	c.Log.Level = "info"
	c.Log.Format = "text"
	c.Storage.MinFreeMB = DefaultMinFreeMB
	return c
}

// Check validates the settings.
func (c Config) Check() error {
	if c.API.ListenAddr == "" {
		return errors.New("weft.toml: api.listen_addr must be set")
	}
	if c.Storage.MinFreeMB == 0 {
		return fmt.Errorf("weft.toml: storage.min_free_mb must be positive (default %d)", DefaultMinFreeMB)
	}
	if err := c.Feed.validate(); err != nil {
		return fmt.Errorf("weft.toml: %w", err)
	}
	if e := c.UI.L1Explorer; e != "" && !strings.HasPrefix(e, "https://") && !strings.HasPrefix(e, "http://") {
		return fmt.Errorf("weft.toml: ui.l1_explorer %q must be an http(s) URL", e)
	}
	return nil
}

// Block timing defaults: a sequencer wants short, steady blocks.
// DefaultPeerGossipSleep is how long CometBFT's consensus gossip routines
// idle before looking again for a proposal part or vote to send a peer
// (CometBFT's default is 100 ms, which adds up to ~50 ms to each of the
// propose, prevote and precommit steps).
const (
	DefaultPeerGossipSleep = 10 * time.Millisecond
	DefaultTimeoutCommit   = 200 * time.Millisecond
	DefaultTimeoutPropose  = 1500 * time.Millisecond
)

// Ports are the listen ports of one node, all on one host.
type Ports struct {
	Host    string
	P2P     int
	RPC     int
	API     int
	Metrics int
}

// CometConfig returns the CometBFT config a Weft node runs with: app-side
// mempool, libp2p transport, short block times, Prometheus on.
func CometConfig(home, moniker string, ports Ports) *cfg.Config {
	c := cfg.DefaultConfig()
	c.SetRoot(home)
	c.Moniker = moniker
	c.P2P.ListenAddress = fmt.Sprintf("tcp://%s:%d", ports.Host, ports.P2P)
	c.P2P.AllowDuplicateIP = true
	c.P2P.AddrBookStrict = false
	c.RPC.ListenAddress = fmt.Sprintf("tcp://%s:%d", ports.Host, ports.RPC)
	c.Mempool.Type = cfg.MempoolTypeApp
	c.Mempool.MaxTxBytes = 1 << 20
	// The app-side mempool hands new txs to CometBFT for broadcast every
	// reap interval; with ~200-400 ms blocks, 500 ms (the default) makes
	// most proposers see a tx a block late.
	c.Mempool.ReapInterval = 25 * time.Millisecond
	c.Consensus.TimeoutCommit = DefaultTimeoutCommit
	c.Consensus.TimeoutPropose = DefaultTimeoutPropose
	c.Consensus.PeerGossipSleepDuration = DefaultPeerGossipSleep
	c.Consensus.CreateEmptyBlocks = true
	c.TxIndex.Indexer = "null"
	c.Instrumentation.Prometheus = ports.Metrics > 0
	if ports.Metrics > 0 {
		c.Instrumentation.PrometheusListenAddr = fmt.Sprintf("%s:%d", ports.Host, ports.Metrics)
	}
	c.P2P.LibP2PConfig.Enabled = true
	return c
}

// Paths of a home directory.
func weftConfigPath(home string) string  { return filepath.Join(home, "config", "weft.toml") }
func cometConfigPath(home string) string { return filepath.Join(home, "config", "config.toml") }

// InitHome writes a node home: CometBFT config, Weft config, genesis, node
// key and validator key (secp256k1eth). Key files are written 0600. It
// refuses to overwrite an existing home.
func InitHome(home string, c *cfg.Config, wc Config, g *genesis.Doc, valKey secp256k1eth.PrivKey) error {
	if _, err := os.Stat(cometConfigPath(home)); err == nil {
		return fmt.Errorf("%s already holds a node home", home)
	}
	for _, d := range []string{filepath.Join(home, "config"), filepath.Join(home, "data")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	c.SetRoot(home)
	gd, err := g.ToCometBFT()
	if err != nil {
		return err
	}
	if err := gd.SaveAs(c.GenesisFile()); err != nil {
		return err
	}
	if _, err := cmtp2p.LoadOrGenNodeKey(c.NodeKeyFile()); err != nil {
		return err
	}
	privval.NewFilePV(valKey, c.PrivValidatorKeyFile(), c.PrivValidatorStateFile()).Save()
	if err := WriteConfig(home, c, wc); err != nil {
		return err
	}
	return nil
}

// WriteConfig writes both config files of a home.
func WriteConfig(home string, c *cfg.Config, wc Config) error {
	if err := c.ValidateBasic(); err != nil {
		return fmt.Errorf("config.toml: %w", err)
	}
	cfg.WriteConfigFile(cometConfigPath(home), c)
	f, err := os.OpenFile(weftConfigPath(home), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	return toml.NewEncoder(f).Encode(wc)
}

// LoadConfig reads both config files of a home.
func LoadConfig(home string) (*cfg.Config, Config, error) {
	wc := DefaultConfig()
	if _, err := toml.DecodeFile(weftConfigPath(home), &wc); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, wc, fmt.Errorf("read %s: %w", weftConfigPath(home), err)
	}
	if err := wc.Check(); err != nil {
		return nil, wc, err
	}
	v := viper.New()
	v.SetConfigFile(cometConfigPath(home))
	if err := v.ReadInConfig(); err != nil {
		return nil, wc, fmt.Errorf("read %s: %w", cometConfigPath(home), err)
	}
	c := cfg.DefaultConfig()
	if err := v.Unmarshal(c); err != nil {
		return nil, wc, fmt.Errorf("parse %s: %w", cometConfigPath(home), err)
	}
	c.SetRoot(home)
	if err := c.ValidateBasic(); err != nil {
		return nil, wc, fmt.Errorf("%s: %w", cometConfigPath(home), err)
	}
	return c, wc, nil
}

// FeedPeerID is the peer id of the node's rollup-feed host.
func FeedPeerID(c *cfg.Config) (peer.ID, error) {
	nk, err := cmtp2p.LoadNodeKey(c.NodeKeyFile())
	if err != nil {
		return "", err
	}
	k, err := p2p.FeedKey(nk.PrivKey)
	if err != nil {
		return "", err
	}
	return peer.IDFromPrivateKey(k)
}

// NodeIdentity returns the node's CometBFT node id and libp2p peer id.
func NodeIdentity(c *cfg.Config) (string, p2p.Peer, error) {
	nk, err := cmtp2p.LoadNodeKey(c.NodeKeyFile())
	if err != nil {
		return "", p2p.Peer{}, err
	}
	pid, err := p2p.PeerID(nk.PrivKey)
	if err != nil {
		return "", p2p.Peer{}, err
	}
	return string(nk.ID()), p2p.Peer{ID: pid, NodeID: string(nk.ID())}, nil
}
