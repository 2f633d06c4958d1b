package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	cfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/spf13/viper"
)

func main() {
	home := flag.String("home", "", "CometBFT home directory (config/config.toml, config/genesis.json, keys)")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn, error, none")
	flag.Parse()
	if err := run(*home, *logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "kvnode:", err)
		os.Exit(1)
	}
}

func run(home, logLevel string) error {
	if home == "" {
		return fmt.Errorf("--home is required")
	}
	c, err := loadConfig(home)
	if err != nil {
		return err
	}
	logger, err := newLogger(logLevel)
	if err != nil {
		return err
	}
	nodeKey, err := p2p.LoadNodeKey(c.NodeKeyFile())
	if err != nil {
		return fmt.Errorf("node key: %w", err)
	}
	app := kvstore.NewPersistentApplication(filepath.Join(c.DBDir(), "kvstore"))
	defer app.Close()
	n, err := cmtnode.NewNode(c,
		privval.LoadFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile()),
		nodeKey,
		proxy.NewLocalClientCreator(app),
		cmtnode.DefaultGenesisDocProviderFunc(c),
		cfg.DefaultDBProvider,
		cmtnode.DefaultMetricsProvider(c.Instrumentation),
		logger,
	)
	if err != nil {
		return fmt.Errorf("cometbft node: %w", err)
	}
	if err := n.Start(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	logger.Info("kvnode started", "moniker", c.Moniker, "mempool", c.Mempool.Type,
		"libp2p", c.P2P.LibP2PConfig.Enabled, "rpc", c.RPC.ListenAddress, "p2p", c.P2P.ListenAddress)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	logger.Info("stopping kvnode")
	if err := n.Stop(); err != nil {
		return err
	}
	n.Wait()
	return nil
}

// loadConfig reads config/config.toml over CometBFT's defaults, the way
// CometBFT's own command does.
func loadConfig(home string) (*cfg.Config, error) {
	path := filepath.Join(home, "config", "config.toml")
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	c := cfg.DefaultConfig()
	if err := v.Unmarshal(c); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	c.SetRoot(home)
	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func newLogger(level string) (cmtlog.Logger, error) {
	l := cmtlog.NewTMLogger(cmtlog.NewSyncWriter(os.Stdout))
	opt, err := cmtlog.AllowLevel(level)
	if err != nil {
		return nil, err
	}
	return cmtlog.NewFilter(l, opt), nil
}
