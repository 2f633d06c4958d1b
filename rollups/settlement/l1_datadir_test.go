package settlement

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// startDiskL1 starts a paused embedded L1 on dataDir; the caller closes it.
func startDiskL1(t *testing.T, dataDir string, alloc types.GenesisAlloc) *L1 {
	t.Helper()
	l1, err := StartL1(L1Config{Alloc: alloc, Paused: true, BlockTime: 5 * time.Millisecond, DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	return l1
}

// transfer sends value wei from key to `to`, commits a block and waits for
// the receipt.
func transfer(t *testing.T, l1 *L1, key *ecdsa.PrivateKey, to common.Address, value *big.Int) *types.Receipt {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := l1.Client()
	nonce, err := c.PendingNonceAt(ctx, addr(key))
	if err != nil {
		t.Fatal(err)
	}
	head, err := c.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(l1.ChainID()), &types.DynamicFeeTx{
		ChainID: l1.ChainID(), Nonce: nonce, GasTipCap: big.NewInt(1e9),
		GasFeeCap: new(big.Int).Add(big.NewInt(1e9), new(big.Int).Mul(head.BaseFee, big.NewInt(2))),
		Gas:       21000, To: &to, Value: value,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	l1.Commit()
	r, err := WaitReceipt(ctx, c, tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// l1Snapshot is what a resumed L1 must still show.
type l1Snapshot struct {
	head     *types.Header
	balance  *big.Int
	registry []byte
	inbox    []byte
	attached *Deployment
}

func snapshotL1(t *testing.T, l1 *L1, d *Deployment, who common.Address) l1Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := l1.Client()
	var s l1Snapshot
	var err error
	if s.head, err = c.HeaderByNumber(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if s.balance, err = c.BalanceAt(ctx, who, nil); err != nil {
		t.Fatal(err)
	}
	if s.registry, err = c.CodeAt(ctx, d.Registry, nil); err != nil {
		t.Fatal(err)
	}
	if s.inbox, err = c.CodeAt(ctx, d.Rollups[0].Inbox, nil); err != nil {
		t.Fatal(err)
	}
	// Attach reads the registry's logs: receipts and log filtering survive.
	if s.attached, err = Attach(ctx, c, d.Registry); err != nil {
		t.Fatal(err)
	}
	return s
}

func dirSize(t *testing.T, dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// TestL1DataDirResumes: an L1 on a data dir, closed and started again on it,
// resumes at the same head with its state (contract code, balances), its
// receipts and logs, and keeps building on that head; the second start
// ignores a different alloc (the stored genesis wins).
func TestL1DataDirResumes(t *testing.T) {
	dir := t.TempDir()
	l1 := startDiskL1(t, dir, testAlloc())
	if l1.Resumed() {
		t.Fatal("a new data dir reported a resumed chain")
	}
	d := deploy(t, l1, testSpec("alpha", 60))
	who := crypto.PubkeyToAddress(testKey("recipient").PublicKey)
	transfer(t, l1, userKey, who, big.NewInt(12345))
	// More blocks than geth keeps in memory (128 state layers): some state
	// reaches the disk while running, the rest only when Close journals it.
	for i := 0; i < 140; i++ {
		l1.Commit()
	}
	before := snapshotL1(t, l1, d, who)
	if before.balance.Cmp(big.NewInt(12345)) != 0 || len(before.registry) == 0 || len(before.inbox) == 0 {
		t.Fatalf("before: balance %v, registry code %d bytes, inbox code %d bytes", before.balance, len(before.registry), len(before.inbox))
	}
	if err := l1.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	t.Logf("data dir after %d blocks: %d bytes", before.head.Number.Uint64(), dirSize(t, dir))

	// Another alloc: a resumed chain keeps its own genesis.
	l1 = startDiskL1(t, dir, types.GenesisAlloc{who: {Balance: big.NewInt(1)}})
	defer l1.Close()
	if !l1.Resumed() {
		t.Fatal("the second start did not report a resumed chain")
	}
	after := snapshotL1(t, l1, d, who)
	if after.head.Hash() != before.head.Hash() {
		t.Fatalf("head after restart: block %d %s, want block %d %s", after.head.Number, after.head.Hash(), before.head.Number, before.head.Hash())
	}
	if after.balance.Cmp(before.balance) != 0 {
		t.Fatalf("balance after restart %v, want %v", after.balance, before.balance)
	}
	if string(after.registry) != string(before.registry) || string(after.inbox) != string(before.inbox) {
		t.Fatal("contract code changed across the restart")
	}
	if !reflect.DeepEqual(after.attached, before.attached) {
		t.Fatalf("deployment read back after restart %+v, want %+v", after.attached, before.attached)
	}
	// The chain goes on from the old head, and accounts keep their nonces.
	r := transfer(t, l1, userKey, who, big.NewInt(1))
	if r.BlockNumber.Uint64() != before.head.Number.Uint64()+1 {
		t.Fatalf("first block after restart is %d, want %d", r.BlockNumber, before.head.Number.Uint64()+1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := l1.Client().HeaderByNumber(ctx, r.BlockNumber)
	if err != nil {
		t.Fatal(err)
	}
	if h.ParentHash != before.head.Hash() {
		t.Fatalf("block %d's parent is %s, want the old head %s", h.Number, h.ParentHash, before.head.Hash())
	}
	if bal, err := l1.Client().BalanceAt(ctx, who, nil); err != nil || bal.Cmp(big.NewInt(12346)) != 0 {
		t.Fatalf("balance after a transfer on the resumed chain: %v, %v; want 12346", bal, err)
	}
}

// TestL1DataDirInUse: a second L1 on a data dir that one is running on is
// refused with a clear error instead of corrupting it.
func TestL1DataDirInUse(t *testing.T) {
	dir := t.TempDir()
	l1 := startDiskL1(t, dir, testAlloc())
	defer l1.Close()
	_, err := StartL1(L1Config{Alloc: testAlloc(), Paused: true, DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second L1 on the same data dir: %v, want an in-use error", err)
	}
}

// TestL1DataDirSurvivesKill: an L1 whose process exits without Close (as
// on kill -9) resumes close to its head, its contracts included: every
// block's state is written to disk as it is sealed. (With geth's default
// path scheme the chain would go back to genesis here.)
func TestL1DataDirSurvivesKill(t *testing.T) {
	if dir := os.Getenv("WEFT_L1_KILL_CHILD_DIR"); dir != "" {
		// The child: deploy, seal blocks, report, exit without Close.
		l1 := startDiskL1(t, dir, testAlloc())
		d := deploy(t, l1, testSpec("alpha", 60))
		for i := 0; i < 40; i++ {
			l1.Commit()
		}
		h, err := l1.Client().HeaderByNumber(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("KILLED-L1 %d %s\n", h.Number.Uint64(), d.Registry.Hex())
		os.Exit(0)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestL1DataDirSurvivesKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), "WEFT_L1_KILL_CHILD_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var (
		head     uint64
		registry string
	)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "KILLED-L1 %d %s", &head, &registry); err == nil {
			break
		}
	}
	if registry == "" {
		t.Fatalf("child did not report its head:\n%s", out)
	}
	l1 := startDiskL1(t, dir, testAlloc())
	defer l1.Close()
	if !l1.Resumed() {
		t.Fatal("the L1 did not resume its chain")
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	n, err := l1.Client().BlockNumber(cctx)
	if err != nil {
		t.Fatal(err)
	}
	code, err := l1.Client().CodeAt(cctx, common.HexToAddress(registry), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed at block %d, resumed at block %d", head, n)
	// The last few blocks may not have reached the disk; forty blocks back
	// (the deployment) must have.
	if len(code) == 0 || n+40 < head || n > head {
		t.Fatalf("killed at block %d, resumed at block %d with registry code %d bytes", head, n, len(code))
	}
}
