package nettest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/weftnet/weft/devnet"
	"github.com/weftnet/weft/keys"
)

// RPCCtx bounds one request: 10 seconds.
func RPCCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

var (
	devOnce sync.Once
	devKeys []*ecdsa.PrivateKey
	devErr  error
)

// DevKey returns Hardhat/Anvil development account i (of 20), prefunded by
// `weft testnet` on Weft and on every rollup of a test network.
func DevKey(t testing.TB, i int) *ecdsa.PrivateKey {
	t.Helper()
	devOnce.Do(func() { devKeys, devErr = keys.DevAccounts(20) })
	if devErr != nil {
		t.Fatalf("dev accounts: %v", devErr)
	}
	return devKeys[i]
}

// AddrOf is k's Ethereum address.
func AddrOf(k *ecdsa.PrivateKey) common.Address { return crypto.PubkeyToAddress(k.PublicKey) }

// WriteKeyFile writes key in the format `weft tx --key-file` reads.
func WriteKeyFile(t testing.TB, name string, key *ecdsa.PrivateKey) string {
	t.Helper()
	b, _ := json.Marshal(keys.File{Name: name, Address: AddrOf(key).Hex(), PrivateKey: hex.EncodeToString(crypto.FromECDSA(key))})
	p := filepath.Join(t.TempDir(), name+".json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// RunCLI runs bin with args (killed after timeout) and returns its stdout,
// stderr and exit code; it fails t if bin could not be run at all.
func RunCLI(t testing.TB, timeout time.Duration, bin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %s: %v", filepath.Base(bin), strings.Join(args, " "), err)
	}
	return stdout.String(), stderr.String(), code
}

// Testnet runs `bin testnet --output dir args...` and loads the manifest of
// the network it wrote.
func Testnet(t testing.TB, bin, dir string, args ...string) *devnet.Manifest {
	t.Helper()
	args = append([]string{"testnet", "--output", dir}, args...)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	m, err := devnet.LoadManifest(dir)
	if err != nil {
		t.Fatalf("load manifest: %v", err)
	}
	return m
}

// SyncBuffer is an io.Writer safe for a writer goroutine (a devnet.Run's
// output) and a test reading it at once.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
