package devnet

// The devnet directory: its manifest (devnet.json), what a directory
// holds, locking it, creating, resuming or resetting a network in it.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/weftnet/weft/rollups/exec/evm"
)

// LoadState reads devnet.json from dir.
func LoadState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, StateFile), err)
	}
	if st.Version != devnetStateVersion {
		return nil, fmt.Errorf("%s: version %d, this weft reads version %d", filepath.Join(dir, StateFile), st.Version, devnetStateVersion)
	}
	return &st, nil
}

func (st *State) save(dir string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, StateFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, StateFile))
}

// devnetDirKind is what a --dir holds.
type devnetDirKind int

const (
	dirEmpty   devnetDirKind = iota // missing or empty
	dirDevnet                       // devnet.json
	dirLegacy                       // testnet.json + endpoints.json, no devnet.json: a devnet of an older weft
	dirForeign                      // anything else
)

// inspectDevnetDir says what dir holds, and its entries.
func inspectDevnetDir(dir string) (devnetDirKind, []os.DirEntry, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return dirEmpty, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	has := map[string]bool{}
	for _, e := range ents {
		has[e.Name()] = true
	}
	switch {
	case len(ents) == 0 || (len(ents) == 1 && has[devnetLockFile]):
		return dirEmpty, ents, nil
	case has[StateFile]:
		return dirDevnet, ents, nil
	case has["testnet.json"] && has["endpoints.json"]:
		return dirLegacy, ents, nil
	}
	return dirForeign, ents, nil
}

// devnetEntry says what a devnet writes at the top of its directory; ok is
// false for a name no devnet writes.
func devnetEntry(e os.DirEntry) (what string, ok bool) {
	name := e.Name()
	switch name {
	case StateFile, StateFile + ".tmp":
		return "the devnet's manifest", true
	case "testnet.json":
		return "the network's manifest", true
	case "endpoints.json":
		return "the endpoints of the last run", true
	case L1Dir:
		return "the embedded L1's chain: contracts, deposits, batches, balances", true
	case "l1-keys":
		return "the L1 deployer and challenger keys", true
	}
	if rest, found := strings.CutPrefix(name, "node"); found && e.IsDir() && rest != "" && strings.Trim(rest, "0123456789") == "" {
		return "a validator home: Weft and CometBFT stores, rollup chains, keys", true
	}
	return "", false
}

// lockDevnetDir takes dir's devnet lock (held until the process exits or
// unlock is called), so that two devnets never run, or reset, on one dir.
func lockDevnetDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, devnetLockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is in use by another weft devnet", dir)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// openDevnet prepares dir for a run: it refuses a directory that is not a
// devnet, resets one if asked (printing what it removes), and returns the
// devnet's state and manifest, creating the network when there is none.
// resumed is false for a new network.
func openDevnet(o Options) (st *State, m *Manifest, resumed bool, unlock func(), err error) {
	dir := o.Testnet.Output
	kind, ents, err := inspectDevnetDir(dir)
	if err != nil {
		return nil, nil, false, nil, err
	}
	if kind == dirForeign {
		return nil, nil, false, nil, foreignDirError(dir, ents)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, false, nil, err
	}
	if unlock, err = lockDevnetDir(dir); err != nil {
		return nil, nil, false, nil, err
	}
	fail := func(err error) (*State, *Manifest, bool, func(), error) {
		unlock()
		return nil, nil, false, nil, err
	}
	if kind == dirDevnet {
		if st, err = LoadState(dir); err != nil && !o.Reset {
			return fail(fmt.Errorf("%w (use --reset to start over)", err))
		}
	}
	if o.Reset {
		if err := resetDevnet(o.Out, dir, kind, ents); err != nil {
			return fail(err)
		}
		kind, st = dirEmpty, nil
	}
	if kind == dirLegacy {
		if st, err = adoptLegacyDevnet(dir); err != nil {
			return fail(err)
		}
		kind = dirDevnet
	}
	if kind == dirDevnet {
		m, err = LoadManifest(dir)
		if err == nil {
			if err := checkRollupGenesis(dir, st); err != nil {
				return fail(err)
			}
			if err := addNetworkPages(o.Out, dir, m); err != nil {
				return fail(err)
			}
			return st, m, true, unlock, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return fail(fmt.Errorf("%w (use --reset to start over)", err))
		}
		// devnet.json without testnet.json: the first run stopped while it
		// created the network; create it again.
		fmt.Fprintf(o.Out, "%s: the network was never completely created; creating it again\n", dir)
		if err := removeUnfinishedNetwork(o.Out, dir, ents); err != nil {
			return fail(err)
		}
	}
	if st, m, err = createDevnet(o); err != nil {
		return fail(err)
	}
	return st, m, false, unlock, nil
}

// checkRollupGenesis refuses to resume the devnet in dir (whose manifest
// is st) when its rollups were created with another genesis revision than
// this weft's: their executors would refuse the stored chains at start
// with a genesis hash mismatch.
func checkRollupGenesis(dir string, st *State) error {
	if st.RollupGenesis == evm.GenesisRevision {
		return nil
	}
	if st.RollupGenesis < evm.GenesisRevision {
		return fmt.Errorf("%s was created by an older weft, whose EVM rollups' genesis (revision %d) lacks what this weft's (revision %d) holds: the OP Stack preinstalls (Multicall3, the deterministic deployment proxy, Permit2, …). Its rollup chains cannot resume; start over with: weft devnet --dir %s --reset",
			dir, st.RollupGenesis, evm.GenesisRevision, dir)
	}
	return fmt.Errorf("%s was created by a newer weft (EVM rollup genesis revision %d, this weft makes %d): its rollup chains cannot resume here; use that weft, or start over with: weft devnet --dir %s --reset",
		dir, st.RollupGenesis, evm.GenesisRevision, dir)
}

// foreignDirError is the error refusing dir, which holds ents but no
// devnet, naming the first few of them.
func foreignDirError(dir string, ents []os.DirEntry) error {
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) > 5 {
		names = append(names[:5], "...")
	}
	return fmt.Errorf("%s is not a Weft devnet (it has no %s; it holds %s): refusing to use or remove it; pick another --dir",
		dir, StateFile, strings.Join(names, ", "))
}

// resetDevnet does --reset on dir (of kind, holding ents): it removes the
// devnet's files, printing each, and keeps (and names) any other file.
func resetDevnet(out io.Writer, dir string, kind devnetDirKind, ents []os.DirEntry) error {
	if kind == dirEmpty {
		fmt.Fprintf(out, "--reset: %s holds no devnet; nothing to remove\n", dir)
		return nil
	}
	fmt.Fprintf(out, "--reset: removing the devnet in %s:\n", dir)
	for _, e := range ents {
		what, ok := devnetEntry(e)
		if e.Name() == devnetLockFile {
			continue
		}
		if !ok {
			fmt.Fprintf(out, "  keeping %s (not a devnet file)\n", filepath.Join(dir, e.Name()))
			continue
		}
		fmt.Fprintf(out, "  removing %-40s %s\n", filepath.Join(dir, e.Name()), what)
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// removeUnfinishedNetwork removes, printing each, the devnet files among
// ents that a creation cut short left, all but devnet.json and the lock.
func removeUnfinishedNetwork(out io.Writer, dir string, ents []os.DirEntry) error {
	for _, e := range ents {
		if what, ok := devnetEntry(e); ok && e.Name() != StateFile && e.Name() != devnetLockFile {
			fmt.Fprintf(out, "  removing %-40s %s\n", filepath.Join(dir, e.Name()), what)
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// createDevnet creates a new devnet in o.Testnet.Output: devnet.json
// first, so that an interrupted creation is still recognised (and redone)
// as a devnet, then the network.
func createDevnet(o Options) (*State, *Manifest, error) {
	st := &State{Version: devnetStateVersion, ChainID: o.Testnet.ChainID, Created: time.Now().UTC().Truncate(time.Second), RollupGenesis: evm.GenesisRevision}
	if err := st.save(o.Testnet.Output); err != nil {
		return nil, nil, err
	}
	tn := o.Testnet
	tn.UI = true                  // a devnet serves every node's network page
	tn.AllowUnprotectedTxs = true // and takes keyless deployment txs
	m, err := GenerateTestnet(tn)
	if err != nil {
		return nil, nil, err
	}
	return st, m, nil
}

// adoptLegacyDevnet writes devnet.json for a devnet an older weft created
// (testnet.json and endpoints.json only). Its embedded L1 was never kept,
// so a devnet that settled on one cannot resume.
func adoptLegacyDevnet(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, "endpoints.json"))
	if err != nil {
		return nil, err
	}
	var ep Endpoints
	if err := json.Unmarshal(b, &ep); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "endpoints.json"), err)
	}
	st := &State{Version: devnetStateVersion, ChainID: ep.ChainID}
	if ep.L1 != nil && ep.L1.Deployment != nil {
		if ep.L1.Embedded {
			return nil, fmt.Errorf("%s was created by an older weft devnet, whose embedded L1 was not kept: its rollups settled on an L1 that no longer exists, so it cannot resume; start over with --reset", dir)
		}
		st.L1 = &L1Record{RPC: ep.L1.RPC, Deployment: ep.L1.Deployment}
	}
	if err := st.save(dir); err != nil {
		return nil, err
	}
	return st, nil
}

// l1Choice checks the L1 asked for against the one the devnet settles on,
// and returns the options SetupSettlement gets.
func l1Choice(dir string, st *State, o L1Options) (L1Options, error) {
	if o.RPC == "" {
		o.DataDir = filepath.Join(dir, L1Dir)
	}
	rec := st.L1
	if rec == nil {
		return o, nil
	}
	switch {
	case rec.Embedded && o.RPC != "":
		return o, fmt.Errorf("%s settles on its embedded L1 (%s); --l1-rpc would move it to another chain. Drop --l1-rpc, or start over with --reset",
			dir, filepath.Join(dir, L1Dir))
	case !rec.Embedded && o.RPC == "":
		return o, fmt.Errorf("%s settles on the L1 at %s (registry %s); pass --l1-rpc and --l1-key again (or --l1=false), or start over with --reset",
			dir, rec.RPC, rec.Deployment.Registry)
	}
	o.Resume = rec
	return o, nil
}
