package node

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/keys"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/txcodec"
)

const mib = 1 << 20

// fakeDisks is a freeSpaceFunc over a table of directories; a directory
// not in it does not exist.
type fakeDisks struct {
	mu   sync.Mutex
	free map[string]uint64
	err  map[string]error
}

func (f *fakeDisks) set(dir string, free uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.free[dir] = free
}

func (f *fakeDisks) statfs(dir string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.err[dir]; err != nil {
		return 0, err
	}
	v, ok := f.free[dir]
	if !ok {
		return 0, &fs.PathError{Op: "statfs", Path: dir, Err: fs.ErrNotExist}
	}
	return v, nil
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestDiskGuardCheck: which directory, if any, a check names.
func TestDiskGuardCheck(t *testing.T) {
	dirs := []string{"/h/data", "/h/data/weft", "/h/data/cs.wal"}
	for _, tc := range []struct {
		name    string
		free    map[string]uint64
		err     map[string]error
		wantDir string // "" with wantErr "": no error
		wantErr string
	}{
		{name: "all above the reserve", free: map[string]uint64{"/h/data": 900 * mib, "/h/data/weft": 900 * mib, "/h/data/cs.wal": 900 * mib}},
		{name: "exactly the reserve", free: map[string]uint64{"/h/data": 512 * mib, "/h/data/weft": 512 * mib, "/h/data/cs.wal": 512 * mib}},
		{name: "data dir short", free: map[string]uint64{"/h/data": 100 * mib, "/h/data/weft": 100 * mib, "/h/data/cs.wal": 100 * mib}, wantDir: "/h/data"},
		{name: "one byte short", free: map[string]uint64{"/h/data": 512*mib - 1, "/h/data/weft": 512*mib - 1, "/h/data/cs.wal": 512*mib - 1}, wantDir: "/h/data"},
		{name: "store on its own full disk", free: map[string]uint64{"/h/data": 900 * mib, "/h/data/weft": 3 * mib, "/h/data/cs.wal": 900 * mib}, wantDir: "/h/data/weft"},
		{name: "missing dirs measured on their parent", free: map[string]uint64{"/h": 10 * mib}, wantDir: "/h/data"},
		{name: "missing store on a roomy parent", free: map[string]uint64{"/h/data": 900 * mib, "/h/data/cs.wal": 900 * mib}},
		{name: "statfs fails", free: map[string]uint64{"/h/data": 900 * mib}, err: map[string]error{"/h/data/weft": errors.New("input/output error")}, wantErr: "free space of data dir /h/data/weft: input/output error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeDisks{free: tc.free, err: tc.err}
			err := newDiskGuard(dirs, 512, f.statfs, discard()).check()
			var low *DiskSpaceError
			switch {
			case tc.wantErr != "":
				if err == nil || err.Error() != tc.wantErr || errors.As(err, &low) {
					t.Fatalf("got %v, want %q", err, tc.wantErr)
				}
			case tc.wantDir == "":
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
			case !errors.As(err, &low):
				t.Fatalf("got %v, want a DiskSpaceError for %s", err, tc.wantDir)
			case low.Dir != tc.wantDir || low.Need != 512*mib:
				t.Fatalf("got %+v, want dir %s needing 512 MiB", low, tc.wantDir)
			}
		})
	}
}

// TestDiskSpaceErrorMessage is what `weft start` prints.
func TestDiskSpaceErrorMessage(t *testing.T) {
	err := &DiskSpaceError{Dir: "/var/weft/data", Free: 200*mib + 5, Need: 512 * mib}
	want := "data dir /var/weft/data has 200 MiB free; Weft needs at least 512 MiB (storage.min_free_mb in weft.toml): free space and start again"
	if err.Error() != want {
		t.Fatalf("got %q\nwant %q", err.Error(), want)
	}
}

// TestDiskGuardRefusesBeforeStopping: a poll with room does nothing; a
// failed measurement is only logged; a poll short of space makes Err (the
// API, the relayer) and the app refuse txs before Tripped stops the node.
func TestDiskGuardRefusesBeforeStopping(t *testing.T) {
	f := &fakeDisks{free: map[string]uint64{"/d": 600 * mib}, err: map[string]error{}}
	g := newDiskGuard([]string{"/d"}, 512, f.statfs, discard())
	var refused []error
	refuse := func(err error) {
		if g.Err() == nil {
			t.Errorf("the app refuses txs before the API does")
		}
		select {
		case <-g.Tripped():
			t.Errorf("the node stops before the app refuses txs")
		default:
		}
		refused = append(refused, err)
	}
	tripped := func() bool {
		select {
		case <-g.Tripped():
			return true
		default:
			return false
		}
	}

	if g.poll(refuse) || g.Err() != nil || tripped() || len(refused) > 0 {
		t.Fatalf("tripped with 600 MiB free of a 512 MiB reserve")
	}
	f.err["/d"] = errors.New("transport endpoint is not connected")
	if g.poll(refuse) || g.Err() != nil || tripped() {
		t.Fatalf("tripped on a failed measurement")
	}
	delete(f.err, "/d")
	f.set("/d", 511*mib)
	if !g.poll(refuse) || !tripped() {
		t.Fatalf("did not trip with 511 MiB free")
	}
	var low *DiskSpaceError
	if !errors.As(g.Err(), &low) || low.Dir != "/d" || low.Free != 511*mib {
		t.Fatalf("Err() = %v", g.Err())
	}
	if len(refused) != 1 || refused[0] != g.Err() {
		t.Fatalf("the app was told %v, want once %v", refused, g.Err())
	}
}

// TestDiskGuardRun drives the polling loop with a test's ticks: it keeps
// polling while there is room, trips and returns when space runs short,
// and returns when told to quit.
func TestDiskGuardRun(t *testing.T) {
	f := &fakeDisks{free: map[string]uint64{"/d": 600 * mib}}
	g := newDiskGuard([]string{"/d"}, 512, f.statfs, discard())
	tick, quit, done := make(chan time.Time), make(chan struct{}), make(chan struct{})
	var refusals atomic.Int32
	go func() {
		defer close(done)
		g.run(tick, quit, func(error) { refusals.Add(1) })
	}()
	// A tick is taken only once the previous poll is over: after three,
	// the first two polls saw room.
	for range 3 {
		tick <- time.Time{}
	}
	if g.Err() != nil || refusals.Load() != 0 {
		t.Fatalf("tripped with room: %v", g.Err())
	}
	f.set("/d", 10*mib)
	tick <- time.Time{}
	select {
	case <-g.Tripped():
	case <-time.After(10 * time.Second):
		t.Fatal("not tripped 10s after a poll short of space")
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("loop still running after tripping")
	}
	if refusals.Load() != 1 {
		t.Fatalf("app told to refuse %d times", refusals.Load())
	}

	g2 := newDiskGuard([]string{"/d"}, 512, f.statfs, discard())
	done2 := make(chan struct{})
	go func() {
		defer close(done2)
		g2.run(make(chan time.Time), quit, func(error) {})
	}()
	close(quit)
	select {
	case <-done2:
	case <-time.After(10 * time.Second):
		t.Fatal("loop still running 10s after quit")
	}
}

// TestStorageConfig: storage.min_free_mb defaults to DefaultMinFreeMB, can
// be set, and must be positive.
func TestStorageConfig(t *testing.T) {
	for _, tc := range []struct {
		toml string
		want uint64
		err  string
	}{
		{"", DefaultMinFreeMB, ""},
		{"[storage]\nmin_free_mb = 64\n", 64, ""},
		{"[storage]\nmin_free_mb = 0\n", 0, "storage.min_free_mb"},
	} {
		c := DefaultConfig()
		_, err := toml.Decode(tc.toml, &c)
		if err == nil {
			err = c.Check()
		}
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: got %v, want an error naming %s", tc.toml, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.toml, err)
		case c.Storage.MinFreeMB != tc.want:
			t.Errorf("%q: min_free_mb %d, want %d", tc.toml, c.Storage.MinFreeMB, tc.want)
		}
	}
}

// TestSubmitTxRefusedWhenDiskShort: once the guard has tripped, the node
// API acknowledges nothing, and says why with a status that sends clients
// to another node.
func TestSubmitTxRefusedWhenDiskShort(t *testing.T) {
	f := &fakeDisks{free: map[string]uint64{"/d": 10 * mib}}
	g := newDiskGuard([]string{"/d"}, 512, f.statfs, discard())
	if !g.poll(func(error) {}) {
		t.Fatal("guard did not trip")
	}
	// The guard refuses through the app (SetAdmission), so CometBFT's
	// CheckTx, the rollup RPC and the relayer refuse alike.
	store, err := consensus.OpenStore("", discard())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	app, err := consensus.NewApp(store, consensus.DefaultConfig(), discard())
	if err != nil {
		t.Fatal(err)
	}
	app.SetAdmission(g.Err())
	api := &apiServer{app: app, node: &Node{disk: g}, log: discard()}
	_, err = api.SubmitTx(context.Background(), &weftv1.SubmitTxRequest{Tx: []byte("any")})
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "data dir /d has 10 MiB free") {
		t.Fatalf("SubmitTx: %v", err)
	}
}

// singleNodeHome writes a one-validator network's home listening on free
// ports (":0"), with no rollup feed and no metrics, keeping minFreeMB free.
func singleNodeHome(t *testing.T, minFreeMB uint64) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "node0")
	dev, err := keys.DevAccounts(1)
	if err != nil {
		t.Fatal(err)
	}
	valKey := secp256k1eth.GenPrivKey()
	doc := &genesis.Doc{
		ChainID: "disk-test", GenesisTime: time.Now().UTC(), BlockMaxBytes: genesis.DefaultBlockMaxBytes,
		AppState: genesis.AppState{
			Params:   genesis.DefaultParams(),
			Accounts: []genesis.Account{{Address: crypto.PubkeyToAddress(dev[0].PublicKey).Hex(), Balance: "1000000000000000000000"}},
		},
		Validators: []genesis.Validator{{Name: "node0", PubKey: hex.EncodeToString(valKey.PubKey().Bytes()), Power: 10}},
	}
	doc.AppState.Params.Staking = genesis.DevnetStakingParams()
	c := CometConfig(home, "node0", Ports{Host: "127.0.0.1"})
	c.P2P.LibP2PConfig.Enabled = false
	wc := DefaultConfig()
	c.P2P.ListenAddress = "tcp://127.0.0.1:0"
	c.RPC.ListenAddress = "tcp://127.0.0.1:0"
	c.Instrumentation.Prometheus = false
	wc.API.ListenAddr = "127.0.0.1:0"
	wc.Feed.ListenAddr = ""
	wc.Storage.MinFreeMB = minFreeMB
	if err := InitHome(home, c, wc, doc, valKey); err != nil {
		t.Fatal(err)
	}
	return home
}

// waitCommitted waits until n's app has committed height h and, if tx is
// not nil, tx.
func waitCommitted(t *testing.T, n *Node, h int64, tx *[32]byte) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		c := n.App().CommitNotify()
		got, _ := n.App().Committed()
		if got >= h && (tx == nil || n.App().Reader().TxResult(*tx) != nil) {
			return
		}
		select {
		case <-c:
		case <-deadline:
			t.Fatalf("node at height %d 60s later, want %d (and tx %v committed)", got, h, tx != nil)
		}
	}
}

// TestNodeRefusesToStartWithoutReserve: New says which directory lacks
// how much space, before it opens anything.
func TestNodeRefusesToStartWithoutReserve(t *testing.T) {
	home := singleNodeHome(t, 1<<40) // 1 EiB
	c, _, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(home, discard())
	var low *DiskSpaceError
	if !errors.As(err, &low) || low.Dir != c.DBDir() ||
		!strings.Contains(err.Error(), "Weft needs at least 1099511627776 MiB (storage.min_free_mb in weft.toml): free space and start again") {
		t.Fatalf("New: %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.DBDir(), "weft")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the state store was opened: %v", err)
	}
}

// TestNodeStopsWhenDiskRunsShort runs a one-validator node in process
// whose guard reads a fake disk: once free space falls below the reserve
// it stops by itself, Run returning the DiskSpaceError, and it restarts
// where it was, with the tx it acknowledged, once space is back.
func TestNodeStopsWhenDiskRunsShort(t *testing.T) {
	home := singleNodeHome(t, 64)
	n, err := New(home, discard())
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDisks{free: map[string]uint64{}}
	for _, d := range n.disk.dirs {
		f.set(d, 900*mib)
	}
	n.disk.free = f.statfs
	runErr := make(chan error, 1)
	go func() { runErr <- n.Run(context.Background()) }()
	waitCommitted(t, n, 2, nil)

	cl, err := client.Dial(n.APIAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	dev, err := keys.DevAccounts(1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := txcodec.Sign(dev[0], &weftv1.TxBody{
		ChainId: "disk-test", Nonce: 0, FeeLimit: uint256.NewInt(1e15).Bytes(),
		Actions: []*weftv1.Action{client.Transfer(crypto.PubkeyToAddress(dev[0].PublicKey), uint256.NewInt(1))},
	})
	if err != nil {
		t.Fatal(err)
	}
	acked, err := cl.Submit(ctx, raw)
	if err != nil {
		t.Fatalf("SubmitTx with room: %v", err)
	}

	store := filepath.Join(n.ccfg.DBDir(), "weft")
	f.set(store, 63*mib)
	var low *DiskSpaceError
	select {
	case err := <-runErr:
		if !errors.As(err, &low) || low.Dir != store || low.Free != 63*mib || low.Need != 64*mib {
			t.Fatalf("Run returned %v, want a DiskSpaceError naming %s", err, store)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("node still running 30s after its disk ran short")
	}

	// Space is back (the real disk has it): it starts where it was and
	// commits the tx it acknowledged.
	n2, err := New(home, discard())
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	h, _ := n2.App().Committed()
	ctx2, stop := context.WithCancel(context.Background())
	runErr2 := make(chan error, 1)
	go func() { runErr2 <- n2.Run(ctx2) }()
	waitCommitted(t, n2, h+2, &acked)
	stop()
	if err := <-runErr2; err != nil {
		t.Fatalf("Run after restart: %v", err)
	}
}
