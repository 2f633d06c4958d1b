package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"

	cfg "github.com/cometbft/cometbft/config"
	cmtnode "github.com/cometbft/cometbft/node"
	cmtp2p "github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"google.golang.org/grpc"

	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/p2p"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups/feed"
)

// Node is a running Weft node: CometBFT, the Weft app and the node API.
type Node struct {
	home  string
	ccfg  *cfg.Config
	wcfg  Config
	log   *slog.Logger
	store *consensus.Store
	app   *consensus.App
	cmt   *cmtnode.Node
	api   *grpc.Server
	lis   net.Listener
	disk  *diskGuard // refuses txs, then stops the node, when disk space runs short

	rollups []*rollupRuntime

	feed       *p2p.Feed
	txg        *p2p.TxGossip
	txgDone    chan struct{}
	gossipFeed atomic.Pointer[p2p.Feed] // for metrics, read from any goroutine
	feedCancel context.CancelFunc
	feedDone   chan struct{}

	splitter *feed.Splitter // each committed block split by rollup once, for every follower
	recent   recentBlocks   // the last blocks the app committed, as it executed them

	ns netStatus // the status snapshot, its history and the network page (status.go, statusrun.go)

	stopOnce sync.Once
	stopErr  error
}

// New builds a node from its home directory. Nothing listens until Start.
func New(home string, logger *slog.Logger) (*Node, error) {
	ccfg, wcfg, err := LoadConfig(home)
	if err != nil {
		return nil, err
	}
	_, gapp, err := genesis.LoadCometBFT(ccfg.GenesisFile())
	if err != nil {
		return nil, err
	}
	disk := newDiskGuard(dataDirs(ccfg), wcfg.Storage.MinFreeMB, statfsFree, logger.With("module", "disk"))
	if err := disk.check(); err != nil {
		return nil, err
	}
	store, err := consensus.OpenStore(filepath.Join(ccfg.DBDir(), "weft"), logger.With("module", "store"))
	if err != nil {
		return nil, err
	}
	n := &Node{home: home, ccfg: ccfg, wcfg: wcfg, log: logger, store: store, disk: disk}
	n.splitter = feed.NewSplitter(nodeBlocks{n}, sliceCacheSize, sliceCacheBytes)
	if err := n.initStatus(gapp.Params.Staking); err != nil {
		store.Close()
		return nil, err
	}
	if err := n.build(); err != nil {
		store.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) build() error {
	acfg := consensus.DefaultConfig()
	acfg.OnCommit = n.recent.add
	app, err := consensus.NewApp(n.store, acfg, n.log.With("module", "app"))
	if err != nil {
		return err
	}
	n.app = app
	if n.wcfg.Feed.gossipsTxs() {
		// Txs travel between validators on Weft's tx topic, where each
		// peer's standing is kept; CometBFT's mempool channel stays shut.
		n.ccfg.Mempool.Broadcast = false
		app.SetPeerTxsOnTopic(true)
	}
	nodeKey, err := cmtp2p.LoadNodeKey(n.ccfg.NodeKeyFile())
	if err != nil {
		return fmt.Errorf("node key: %w", err)
	}
	pv := privval.LoadFilePV(n.ccfg.PrivValidatorKeyFile(), n.ccfg.PrivValidatorStateFile())
	n.cmt, err = cmtnode.NewNode(n.ccfg, pv, nodeKey,
		// One lock per ABCI connection, not one for all four: the app is
		// safe for concurrent use (the node API and tx gossip call it
		// directly), so CheckTx (mempool connection) must not hold up
		// PrepareProposal, ProcessProposal, FinalizeBlock and Commit
		// (consensus connection), nor they it.
		proxy.NewConnSyncLocalClientCreator(app),
		cmtnode.DefaultGenesisDocProviderFunc(n.ccfg),
		cfg.DefaultDBProvider,
		cmtnode.DefaultMetricsProvider(n.ccfg.Instrumentation),
		CometLogger(n.log.With("module", "cometbft")),
	)
	if err != nil {
		return fmt.Errorf("cometbft node: %w", err)
	}
	n.api = grpc.NewServer(grpc.MaxRecvMsgSize(4 << 20))
	weftv1.RegisterNodeAPIServer(n.api, &apiServer{app: app, node: n, log: n.log.With("module", "api")})
	registerMetrics(app, n)
	return nil
}

// App returns the application.
func (n *Node) App() *consensus.App { return n.app }

// CometBFT returns the underlying CometBFT node.
func (n *Node) CometBFT() *cmtnode.Node { return n.cmt }

// APIAddr is where the node API listens once started.
func (n *Node) APIAddr() string {
	if n.lis != nil {
		return n.lis.Addr().String()
	}
	return n.wcfg.API.ListenAddr
}

// Start starts CometBFT, the rollup feed, the rollup services and the node
// API. A node that fails to start has been stopped and cannot start again.
func (n *Node) Start() error {
	lis, err := net.Listen("tcp", n.wcfg.API.ListenAddr)
	if err != nil {
		return fmt.Errorf("node API listen %s: %w", n.wcfg.API.ListenAddr, err)
	}
	n.lis = lis
	n.disk.start(n.app.SetAdmission)
	if err := n.cmt.Start(); err != nil {
		lis.Close()
		return fmt.Errorf("start cometbft: %w", err)
	}
	// CometBFT v0.40's libp2p switch keeps a peer's consensus state when
	// the peer's connection is replaced, which can stop the chain for good
	// after a restart or a partition; p2p.SupervisePeers resets it (see
	// docs/lp2p.md). It stops with the switch.
	if err := p2p.SupervisePeers(n.cmt.Switch()); err != nil {
		lis.Close()
		n.Stop()
		return err
	}
	// A node that fails to start is stopped whole (Stop is idempotent).
	if err := n.startFeed(); err != nil {
		lis.Close()
		n.Stop()
		return err
	}
	if err := n.startRollups(); err != nil {
		lis.Close()
		n.Stop()
		return err
	}
	if err := n.startStatus(); err != nil {
		lis.Close()
		n.Stop()
		return err
	}
	go func() {
		if err := n.api.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			n.log.Error("node API stopped", "err", err)
		}
	}()
	_, peer, _ := NodeIdentity(n.ccfg)
	n.log.Info("weft node started",
		"moniker", n.ccfg.Moniker, "chain_id", n.cmt.GenesisDoc().ChainID,
		"api", lis.Addr().String(), "rpc", n.ccfg.RPC.ListenAddress,
		"p2p", n.ccfg.P2P.ListenAddress, "libp2p", n.ccfg.P2P.LibP2PConfig.Enabled, "peer_id", peer.ID.String(), "ui", n.UIAddr())
	return nil
}

// Stop stops the API, CometBFT and the store, in that order.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() {
		n.disk.stop()
		n.stopStatus()
		n.api.Stop()
		n.stopRollups()
		n.stopFeed()
		if n.cmt.IsRunning() {
			if err := n.cmt.Stop(); err != nil {
				n.stopErr = err
			}
			n.cmt.Wait()
		}
		if err := n.store.Close(); err != nil && n.stopErr == nil {
			n.stopErr = err
		}
	})
	return n.stopErr
}

// Run starts the node and blocks until ctx is done, then stops it. It also
// stops the node when disk space runs short, and then returns the
// *DiskSpaceError.
func (n *Node) Run(ctx context.Context) error {
	if err := n.Start(); err != nil {
		n.Stop()
		return err
	}
	select {
	case <-ctx.Done():
	case <-n.disk.Tripped():
		err := n.disk.Err()
		if serr := n.Stop(); serr != nil {
			n.log.Error("stopping weft node", "err", serr)
		}
		return err
	}
	n.log.Info("stopping weft node")
	return n.Stop()
}
