package devnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/format"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/keys"
	"github.com/weftnet/weft/node"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups/settlement"
)

// Options run a local network as child processes of one command.
type Options struct {
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
	// Reset removes the devnet in Testnet.Output first (only a devnet's
	// files), and starts a new one.
	Reset bool
	// CreationFlags names the flags given that only shape a new devnet
	// (validators, rollups, ports...): a resumed devnet keeps its own, and
	// says so.
	CreationFlags []string
}

// Endpoints is endpoints.json in the devnet home.
type Endpoints struct {
	ChainID     string       `json:"chain_id"`
	Nodes       []NodeInfo   `json:"nodes"`
	Mnemonic    string       `json:"dev_mnemonic"`
	DevAccounts []Account    `json:"dev_accounts"`
	L1          *L1Endpoints `json:"l1,omitempty"`
}

// Account is a prefunded development account.
type Account struct {
	Address string `json:"address"`
	Balance string `json:"balance"`
}

// State is devnet.json, the devnet's own manifest: it marks a
// directory as a devnet and records what a later run needs to resume it.
type State struct {
	Version int       `json:"version"`
	ChainID string    `json:"chain_id"`
	Created time.Time `json:"created"`
	// L1 is the L1 the rollups settle on and the contracts deployed there;
	// nil until a run with an L1 deployed them.
	L1 *L1Record `json:"l1,omitempty"`
	// Stopped is where the last run stopped; nil while a run is going, or
	// after one that did not stop cleanly.
	Stopped *Stop `json:"stopped,omitempty"`
	// RollupGenesis is the evm.GenesisRevision the devnet's rollups were
	// created with (absent: before revision 1). A weft of another revision
	// gives the rollups another genesis, so it cannot resume them.
	RollupGenesis int `json:"rollup_genesis,omitempty"`
}

// Stop is where a devnet run stopped.
type Stop struct {
	Time time.Time `json:"time"`
	// WeftHeight is node0's height as the nodes were being stopped (they may
	// commit one more block meanwhile).
	WeftHeight int64 `json:"weft_height"`
	// L1Block is the embedded L1's head when it was closed (0: none).
	L1Block uint64 `json:"l1_block,omitempty"`
}

const (
	devnetStateVersion = 1
	// StateFile marks a devnet directory.
	StateFile      = "devnet.json"
	devnetLockFile = "devnet.lock"
	// L1Dir is the embedded L1's data directory in a devnet.
	L1Dir = "l1"
)

// startDevnetL1 sets up the devnet's settlement as o.L1 asks, resuming the
// L1 and deployment st records, and records a new deployment in st (not
// saved). With o.L1.Disabled it drops node0's settlement tables. The L1 is
// nil unless embedded; l1ep is nil without settlement.
func startDevnetL1(ctx context.Context, o Options, st *State, m *Manifest) (*settlement.L1, *L1Endpoints, error) {
	dir := o.Testnet.Output
	if o.L1.Disabled {
		if err := dropSettlement(m.Nodes[0].Home); err != nil {
			return nil, nil, err
		}
		if st.L1 != nil && st.L1.Embedded {
			fmt.Fprintf(o.Out, "  --l1=false: the rollups do not settle this run; the embedded L1 stays in %s for the next\n", filepath.Join(dir, L1Dir))
		}
		return nil, nil, nil
	}
	lo, err := l1Choice(dir, st, o.L1)
	if err != nil {
		return nil, nil, err
	}
	l1, ep, err := SetupSettlement(ctx, dir, m, lo, o.Testnet.DevAccounts, o.Logger)
	if err != nil {
		if lo.Resume != nil {
			return nil, nil, fmt.Errorf("L1 settlement: %w; to start over: weft devnet --dir %s --reset", err, dir)
		}
		return nil, nil, fmt.Errorf("L1 settlement: %w", err)
	}
	if ep != nil {
		st.L1 = &L1Record{Embedded: ep.Embedded, GenesisHash: ep.GenesisHash, Deployment: ep.Deployment}
		if !ep.Embedded {
			st.L1.RPC = ep.RPC
		}
	}
	return l1, ep, nil
}

// Run runs the devnet in Testnet.Output: it creates it if the
// directory is empty (or Reset), otherwise resumes it where the last run
// stopped: the Weft chain from the validators' stores, the rollups from
// their executors' stores, and the embedded L1 from its chain in DIR/l1
// with the contracts deployed there (nothing is deployed or funded again).
// It refuses a directory that is not a devnet. It starts every validator
// as a `weft start` process, waits until all commit blocks, prints and
// writes the endpoints, and stops them all when ctx ends or any of them
// dies, recording where they stopped.
func Run(ctx context.Context, o Options) (err error) {
	dir := o.Testnet.Output
	st, m, resumed, unlock, err := openDevnet(o)
	if err != nil {
		return err
	}
	defer unlock()
	r := &devnetRun{o: o, dir: dir, st: st, m: m, resumed: resumed, last: st.Stopped}
	r.announce()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if r.l1, r.l1ep, err = startDevnetL1(ctx, o, st, m); err != nil {
		return err
	}
	// From here a run that does not get to record its stop leaves Stopped
	// nil: the next one says it did not stop cleanly.
	st.Stopped = nil
	if err := st.save(dir); err != nil {
		if r.l1 != nil {
			r.l1.Close()
		}
		return err
	}
	// Stop the nodes, then the L1, and record where they stopped; before
	// that, close this process's copies of the node logs.
	defer r.stop(&err)
	defer r.closeLogs()
	if err := r.startNodes(); err != nil {
		return err
	}
	// A resumed chain must go past where it stopped.
	want := int64(1)
	if resumed && r.last != nil && r.last.WeftHeight >= want {
		want = r.last.WeftHeight + 1
	}
	if err := waitHeight(ctx, m, want, r.died); err != nil {
		return err
	}
	ep, err := r.writeEndpoints()
	if err != nil {
		return err
	}
	r.printUp(ctx)
	if err := r.printServices(); err != nil {
		return err
	}
	r.printDevAccounts(ep)
	return r.wait(ctx)
}

// devnetRun is one run of a devnet: its state, its network, its L1 and
// the node processes it started.
type devnetRun struct {
	o       Options
	dir     string
	st      *State
	m       *Manifest
	resumed bool
	// last is where the previous run stopped (nil: unknown).
	last *Stop
	l1   *settlement.L1 // nil unless embedded
	l1ep *L1Endpoints   // nil without settlement
	// procs are the nodes started so far; logs their node.log files, as
	// opened by this process.
	procs []*devnetProc
	logs  []*os.File
	// died receives the moniker of each node whose process exits.
	died chan string
}

// devnetProc is a node's `weft start` process.
type devnetProc struct {
	cmd  *exec.Cmd
	done chan error
}

// announce says whether the devnet was created or is resumed, and where
// the last run stopped.
func (r *devnetRun) announce() {
	if !r.resumed {
		r.o.Logger.Info("created devnet", "dir", r.dir, "validators", len(r.m.Nodes))
		return
	}
	switch last := r.last; {
	case last != nil:
		fmt.Fprintf(r.o.Out, "Resuming the devnet in %s: it stopped at %s at Weft height %d%s\n",
			r.dir, last.Time.Local().Format(time.DateTime), last.WeftHeight, l1BlockText(", L1 block ", last.L1Block))
	default:
		fmt.Fprintf(r.o.Out, "Resuming the devnet in %s: its last run did not stop cleanly (killed?); the chains go on from what reached the disk\n", r.dir)
	}
	if len(r.o.CreationFlags) > 0 {
		fmt.Fprintf(r.o.Out, "  note: --%s only apply when a devnet is created; this one keeps its own settings (--reset starts over with them)\n",
			strings.Join(r.o.CreationFlags, ", --"))
	}
}

// startNodes starts every validator as `weft start`, logging to its
// node.log; r.died gets the moniker of each one that exits.
func (r *devnetRun) startNodes() error {
	r.died = make(chan string, len(r.m.Nodes))
	for _, n := range r.m.Nodes {
		logf, err := os.OpenFile(filepath.Join(n.Home, "node.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		r.logs = append(r.logs, logf)
		cmd := exec.Command(r.o.Exe, "start", "--home", n.Home, "--log-format", "json")
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start %s: %w", n.Moniker, err)
		}
		p := &devnetProc{cmd: cmd, done: make(chan error, 1)}
		r.procs = append(r.procs, p)
		go func(name string) {
			p.done <- cmd.Wait()
			r.died <- name
		}(n.Moniker)
	}
	return nil
}

// closeLogs closes the node logs startNodes opened, the last first.
func (r *devnetRun) closeLogs() {
	for i := len(r.logs) - 1; i >= 0; i-- {
		r.logs[i].Close()
	}
}

// stopNodes sends every node SIGTERM and waits for each to exit, killing
// one that takes over 15 s.
func (r *devnetRun) stopNodes() {
	for _, p := range r.procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range r.procs {
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// stop stops the nodes, then the embedded L1, and records in devnet.json
// where they stopped. It joins what fails to *errp.
func (r *devnetRun) stop(errp *error) {
	stop := &Stop{WeftHeight: -1}
	if len(r.procs) > 0 {
		stop.WeftHeight = nodeHeight(r.m.Nodes[0])
	}
	r.stopNodes()
	if r.l1 != nil {
		bctx, bcancel := context.WithTimeout(context.Background(), 5*time.Second)
		if n, err := r.l1.Client().BlockNumber(bctx); err == nil {
			stop.L1Block = n
		}
		bcancel()
		if cerr := r.l1.Close(); cerr != nil {
			*errp = errors.Join(*errp, fmt.Errorf("close the embedded L1: %w", cerr))
		}
	}
	switch {
	case len(r.procs) == 0:
		r.st.Stopped = r.last // no node ran: the chain is where it was
	case stop.WeftHeight >= 0:
		stop.Time = time.Now().UTC().Truncate(time.Second)
		r.st.Stopped = stop
	}
	if r.st.Stopped != nil {
		if serr := r.st.save(r.dir); serr != nil {
			*errp = errors.Join(*errp, serr)
		}
	}
}

// writeEndpoints writes endpoints.json and returns what it wrote.
func (r *devnetRun) writeEndpoints() (Endpoints, error) {
	o, m := r.o, r.m
	ep := Endpoints{ChainID: m.ChainID, Nodes: m.Nodes, Mnemonic: keys.DevMnemonic, L1: r.l1ep}
	dev, _ := keys.DevAccounts(o.Testnet.DevAccounts)
	for _, k := range dev {
		ep.DevAccounts = append(ep.DevAccounts, Account{Address: crypto.PubkeyToAddress(k.PublicKey).Hex(), Balance: o.Testnet.DevBalance})
	}
	b, _ := json.MarshalIndent(ep, "", "  ")
	if err := os.WriteFile(filepath.Join(r.dir, "endpoints.json"), b, 0o644); err != nil {
		return ep, err
	}
	return ep, nil
}

// printUp prints that the devnet started fresh or resumed, at which Weft
// height and L1 block, and each node's endpoints and log.
func (r *devnetRun) printUp(ctx context.Context) {
	o, m, dir, last, l1ep := r.o, r.m, r.dir, r.last, r.l1ep
	height := nodeHeight(m.Nodes[0])
	var l1Now uint64
	if r.l1 != nil {
		bctx, bcancel := context.WithTimeout(ctx, 5*time.Second)
		l1Now, _ = r.l1.Client().BlockNumber(bctx)
		bcancel()
	} else if l1ep != nil {
		l1Now = l1ep.Head
	}
	switch {
	case !r.resumed:
		fmt.Fprintf(o.Out, "Weft devnet %q started fresh in %s: %d validators, Weft height %d%s\n", m.ChainID, dir, len(m.Nodes), height, l1BlockText(", L1 block ", l1Now))
	case last != nil:
		fmt.Fprintf(o.Out, "Weft devnet %q resumed in %s: %d validators, Weft height %d (stopped at %d)%s\n", m.ChainID, dir, len(m.Nodes), height, last.WeftHeight, l1Resumed(l1ep, l1Now, last.L1Block))
	default:
		fmt.Fprintf(o.Out, "Weft devnet %q resumed in %s: %d validators, Weft height %d%s\n", m.ChainID, dir, len(m.Nodes), height, l1Resumed(l1ep, l1Now, 0))
	}
	fmt.Fprintf(o.Out, "Weft devnet %q is up: %d validators (home %s)\n", m.ChainID, len(m.Nodes), dir)
	for _, n := range m.Nodes {
		fmt.Fprintf(o.Out, "  %-6s node API %-16s CometBFT RPC %-24s metrics %s  log %s\n", n.Moniker, n.API, n.RPC, n.Metrics, filepath.Join(n.Home, "node.log"))
	}
	for _, n := range m.Nodes {
		if n.UI != "" {
			fmt.Fprintf(o.Out, "  %-6s network page %s  (weft status --node %s)\n", n.Moniker, n.UI, n.API)
		}
	}
}

// printServices prints the genesis rollups and their JSON-RPC, the L1 and
// its inboxes, and node0's rollup feed.
func (r *devnetRun) printServices() error {
	o, m, l1ep := r.o, r.m, r.l1ep
	_, gs, err := genesis.LoadCometBFT(filepath.Join(m.Nodes[0].Home, "config", "genesis.json"))
	if err != nil {
		return err
	}
	for _, gr := range gs.Rollups {
		rpcURL := "(not served)"
		for _, n := range m.Nodes {
			if u, ok := n.RollupRPC[gr.Name]; ok {
				rpcURL = u
				break
			}
		}
		fmt.Fprintf(o.Out, "  rollup %-8s vm %s, EVM chain id %-6d Ethereum JSON-RPC %s\n", gr.Name, gr.VM, gr.EVMChainID, rpcURL)
	}
	if l1ep != nil {
		kind := "external"
		if l1ep.Embedded {
			kind = fmt.Sprintf("embedded (go-ethereum simulated backend, chain id 1337, dev accounts funded; chain kept in %s)", filepath.Join(r.dir, L1Dir))
		}
		fmt.Fprintf(o.Out, "  L1 %s JSON-RPC %s, registry %s\n", kind, l1ep.RPC, l1ep.Deployment.Registry)
		for _, dr := range l1ep.Deployment.Rollups {
			fmt.Fprintf(o.Out, "    rollup %-8s inbox %s  challenge window %ds  verify: weft rollup verify --home %s --rollup %s\n",
				dr.Name, dr.Inbox, dr.ChallengeWindow, m.Nodes[0].Home, dr.Name)
		}
	}
	if len(m.Nodes) > 0 && m.Nodes[0].Feed != "" {
		fmt.Fprintf(o.Out, "  rollup feed (gossipsub, for `weft follow --peer`): %s\n", m.Nodes[0].Feed)
	}
	return nil
}

// printDevAccounts prints the development mnemonic and the first
// accounts of ep.
func (r *devnetRun) printDevAccounts(ep Endpoints) {
	o := r.o
	fmt.Fprintf(o.Out, "Development accounts (mnemonic %q), each funded with %s:\n", keys.DevMnemonic, devBalance(o.Testnet.DevBalance))
	for i, a := range ep.DevAccounts {
		if i == 3 {
			fmt.Fprintf(o.Out, "  ... %d more in %s\n", len(ep.DevAccounts)-3, filepath.Join(r.dir, "endpoints.json"))
			break
		}
		fmt.Fprintf(o.Out, "  (%d) %s\n", i, a.Address)
	}
}

// wait runs the devnet until every node reaches o.UntilHeight, when set,
// or else until ctx ends; either way it fails when a node dies.
func (r *devnetRun) wait(ctx context.Context) error {
	o := r.o
	if o.UntilHeight > 0 {
		if err := waitHeight(ctx, r.m, o.UntilHeight, r.died); err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "all nodes reached height %d; stopping\n", o.UntilHeight)
		return nil
	}
	fmt.Fprintf(o.Out, "Press Ctrl-C to stop; `weft devnet --dir %s` resumes it, --reset starts over.\n", r.dir)
	select {
	case <-ctx.Done():
		return nil
	case name := <-r.died:
		return fmt.Errorf("%s exited; see its node.log", name)
	}
}

func l1BlockText(prefix string, n uint64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%s%d", prefix, n)
}

// l1Resumed describes the L1 of a resumed devnet.
func l1Resumed(ep *L1Endpoints, now, was uint64) string {
	switch {
	case ep == nil:
		return ""
	case !ep.Resumed:
		return fmt.Sprintf(", L1 block %d (contracts deployed now)", now)
	case was > 0:
		return fmt.Sprintf(", L1 block %d (stopped at %d; contracts and balances kept)", now, was)
	}
	return fmt.Sprintf(", L1 block %d (contracts and balances kept)", now)
}

// nodeHeight is n's height, or -1 when its API does not answer.
func nodeHeight(n NodeInfo) int64 {
	c, err := client.Dial(n.API)
	if err != nil {
		return -1
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.API.GetStatus(ctx, &weftv1.GetStatusRequest{})
	if err != nil {
		return -1
	}
	return st.Height
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
	c, wc, err := node.LoadConfig(home)
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
	return node.WriteConfig(home, c, wc)
}

// devBalance is a dev account's balance (a decimal in the smallest unit)
// as people read it ("10000 WEFT"), or as given if it is not a number.
func devBalance(raw string) string {
	v, ok := new(big.Int).SetString(raw, 10)
	if !ok {
		return raw
	}
	return format.Amount(v)
}
