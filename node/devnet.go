package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/node/client"
	"github.com/weftnet/weft/node/keys"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// DevnetOptions run a local network as child processes of one command.
type DevnetOptions struct {
	Testnet TestnetOptions
	// Exe is the weft binary started as `Exe start --home DIR`.
	Exe string
	// UntilHeight, when positive, stops the devnet once every node has
	// committed that height (for scripted checks); otherwise it runs until
	// ctx is done.
	UntilHeight int64
	Logger      *slog.Logger
	Out         io.Writer
	// L1 is where the rollups settle (the embedded L1 by default).
	L1 L1Options
}

// Endpoints is endpoints.json in the devnet home.
type Endpoints struct {
	ChainID     string       `json:"chain_id"`
	Nodes       []NodeInfo   `json:"nodes"`
	Mnemonic    string       `json:"dev_mnemonic"`
	DevAccounts []DevAccount `json:"dev_accounts"`
	L1          *L1Endpoints `json:"l1,omitempty"`
}

// DevAccount is a prefunded development account.
type DevAccount struct {
	Address string `json:"address"`
	Balance string `json:"balance"`
}

// RunDevnet creates the network in Testnet.Output if it is not there yet
// (always anew with the embedded L1, which keeps no state between runs),
// starts every validator as a `weft start` process, waits until all commit
// blocks, prints and writes the endpoints, and stops them all when ctx ends
// or any of them dies.
func RunDevnet(ctx context.Context, o DevnetOptions) error {
	dir := o.Testnet.Output
	m, err := LoadManifest(dir)
	if err == nil && !o.L1.Disabled && o.L1.RPC == "" {
		// The embedded L1 keeps no state between runs (go-ethereum's
		// simulated backend always starts from genesis), and a Weft chain
		// whose rollups were settled on an earlier L1 would not verify
		// against a new one: with the embedded L1 every run starts afresh.
		o.Logger.Info("the embedded L1 starts from genesis: recreating the devnet (use --l1-rpc for a lasting L1, or --l1=false to keep the chain)", "dir", dir)
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		m, err = nil, os.ErrNotExist
	}
	if errors.Is(err, os.ErrNotExist) {
		if m, err = GenerateTestnet(o.Testnet); err != nil {
			return err
		}
		o.Logger.Info("created devnet", "dir", dir, "validators", len(m.Nodes))
	} else if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var l1ep *L1Endpoints
	if o.L1.Disabled {
		if err := dropSettlement(m.Nodes[0].Home); err != nil {
			return err
		}
	} else {
		l1, ep, err := SetupSettlement(ctx, dir, m, o.L1, o.Testnet.DevAccounts, o.Logger)
		if err != nil {
			return fmt.Errorf("L1 settlement: %w", err)
		}
		if l1 != nil {
			defer l1.Close()
		}
		l1ep = ep
	}
	type proc struct {
		cmd  *exec.Cmd
		done chan error
	}
	var procs []*proc
	stopAll := func() {
		for _, p := range procs {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			select {
			case <-p.done:
			case <-time.After(15 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
	}
	defer stopAll()
	died := make(chan string, len(m.Nodes))
	for _, n := range m.Nodes {
		logf, err := os.OpenFile(filepath.Join(n.Home, "node.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer logf.Close()
		cmd := exec.Command(o.Exe, "start", "--home", n.Home, "--log-format", "json")
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start %s: %w", n.Moniker, err)
		}
		p := &proc{cmd: cmd, done: make(chan error, 1)}
		procs = append(procs, p)
		go func(name string) {
			p.done <- cmd.Wait()
			died <- name
		}(n.Moniker)
	}
	if err := waitHeight(ctx, m, 1, died); err != nil {
		return err
	}
	ep := Endpoints{ChainID: m.ChainID, Nodes: m.Nodes, Mnemonic: keys.DevMnemonic, L1: l1ep}
	dev, _ := keys.DevAccounts(o.Testnet.DevAccounts)
	for _, k := range dev {
		ep.DevAccounts = append(ep.DevAccounts, DevAccount{Address: crypto.PubkeyToAddress(k.PublicKey).Hex(), Balance: o.Testnet.DevBalance})
	}
	b, _ := json.MarshalIndent(ep, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "endpoints.json"), b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "Weft devnet %q is up: %d validators (home %s)\n", m.ChainID, len(m.Nodes), dir)
	for _, n := range m.Nodes {
		fmt.Fprintf(o.Out, "  %-6s node API %-16s CometBFT RPC %-24s metrics %s  log %s\n", n.Moniker, n.API, n.RPC, n.Metrics, filepath.Join(n.Home, "node.log"))
	}
	_, gs, err := genesis.LoadCometBFT(filepath.Join(m.Nodes[0].Home, "config", "genesis.json"))
	if err != nil {
		return err
	}
	for _, r := range gs.Rollups {
		rpcURL := "(not served)"
		for _, n := range m.Nodes {
			if u, ok := n.RollupRPC[r.Name]; ok {
				rpcURL = u
				break
			}
		}
		fmt.Fprintf(o.Out, "  rollup %-8s vm %s, EVM chain id %-6d Ethereum JSON-RPC %s\n", r.Name, r.VM, r.EVMChainID, rpcURL)
	}
	if l1ep != nil {
		kind := "external"
		if l1ep.Embedded {
			kind = "embedded (go-ethereum simulated backend, chain id 1337, dev accounts funded)"
		}
		fmt.Fprintf(o.Out, "  L1 %s JSON-RPC %s, registry %s\n", kind, l1ep.RPC, l1ep.Deployment.Registry)
		for _, r := range l1ep.Deployment.Rollups {
			fmt.Fprintf(o.Out, "    rollup %-8s inbox %s  challenge window %ds  verify: weft rollup verify --home %s --rollup %s\n",
				r.Name, r.Inbox, r.ChallengeWindow, m.Nodes[0].Home, r.Name)
		}
	}
	if len(m.Nodes) > 0 && m.Nodes[0].Feed != "" {
		fmt.Fprintf(o.Out, "  rollup feed (gossipsub, for `weft follow --peer`): %s\n", m.Nodes[0].Feed)
	}
	fmt.Fprintf(o.Out, "Development accounts (mnemonic %q), each funded with %s:\n", keys.DevMnemonic, o.Testnet.DevBalance)
	for i, a := range ep.DevAccounts {
		if i == 3 {
			fmt.Fprintf(o.Out, "  ... %d more in %s\n", len(ep.DevAccounts)-3, filepath.Join(dir, "endpoints.json"))
			break
		}
		fmt.Fprintf(o.Out, "  (%d) %s\n", i, a.Address)
	}
	if o.UntilHeight > 0 {
		if err := waitHeight(ctx, m, o.UntilHeight, died); err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "all nodes reached height %d; stopping\n", o.UntilHeight)
		return nil
	}
	fmt.Fprintln(o.Out, "Press Ctrl-C to stop.")
	select {
	case <-ctx.Done():
		return nil
	case name := <-died:
		return fmt.Errorf("%s exited; see its node.log", name)
	}
}

// waitHeight waits until every node's API reports height >= h.
func waitHeight(ctx context.Context, m *Manifest, h int64, died <-chan string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	clients := make([]*client.Client, len(m.Nodes))
	for i, n := range m.Nodes {
		c, err := client.Dial(n.API)
		if err != nil {
			return err
		}
		defer c.Close()
		clients[i] = c
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		ready := 0
		for _, c := range clients {
			st, err := c.API.GetStatus(ctx, &weftv1.GetStatusRequest{})
			if err == nil && st.Height >= h {
				ready++
			}
		}
		if ready == len(clients) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nodes did not reach height %d: %w", h, ctx.Err())
		case name := <-died:
			return fmt.Errorf("%s exited; see its node.log", name)
		case <-t.C:
		}
	}
}

// dropSettlement removes the [rollup.settlement] tables an earlier run with
// an L1 wrote into a node's weft.toml.
func dropSettlement(home string) error {
	c, wc, err := LoadConfig(home)
	if err != nil {
		return err
	}
	changed := false
	for i := range wc.Rollups {
		if wc.Rollups[i].Settlement != nil {
			wc.Rollups[i].Settlement, changed = nil, true
		}
	}
	if !changed {
		return nil
	}
	return WriteConfig(home, c, wc)
}
