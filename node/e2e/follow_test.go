package e2e

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/weftnet/weft/node/client"
	"github.com/weftnet/weft/node/e2e/nettest"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// followLine is one slice as `weft follow --json` prints it.
type followLine struct {
	Height   int64    `json:"height"`
	Items    int      `json:"items"`
	Verified bool     `json:"verified"`
	TxHashes []string `json:"tx_hashes"`
	Error    string   `json:"error"`
}

// TestFollowGossip runs `weft follow` as a rollup node that is not a
// validator: it gets alpha's slices over gossipsub from one validator's feed,
// verifies each against headers from a CometBFT light client (primary and
// witness on other nodes), and must see every height from its first one on,
// every alpha tx, and no tx of another rollup.
func TestFollowGossip(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, 31500, 4)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, weftBin, "follow", "--json", "--rollup", "alpha", "--chain-id", n.chainID,
		"--peer", n.nodes[1].info.Feed, "--rpc", n.nodes[0].info.RPC, "--witness", n.nodes[2].info.RPC)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	var mu sync.Mutex
	var lines []followLine
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l followLine
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				mu.Lock()
				lines = append(lines, l)
				mu.Unlock()
			}
		}
	}()
	snapshot := func() []followLine {
		mu.Lock()
		defer mu.Unlock()
		return append([]followLine(nil), lines...)
	}
	n.waitFor(90*time.Second, "the follower's first verified slice", func() error {
		if len(snapshot()) == 0 {
			return fmt.Errorf("nothing yet; follower stderr: %s", stderr.String())
		}
		return nil
	})

	// Data for alpha and for beta, through different nodes.
	var alpha, beta [][32]byte
	for k := 0; k < 12; k++ {
		key := nettest.DevKey(t, k%4)
		name, dst := "alpha", &alpha
		if k%3 == 2 {
			name, dst = "beta", &beta
		}
		acc, err := n.client(k%4).API.GetAccount(context.Background(), &weftv1.GetAccountRequest{Address: nettest.AddrOf(key).Bytes()})
		if err != nil {
			t.Fatal(err)
		}
		raw := mustSign(t, n.chainID, key, acc.PendingNonce, client.RollupData(name, []byte(fmt.Sprintf("follow %d", k))))
		h, err := n.submit(k%4, raw)
		if err != nil {
			t.Fatalf("submit %d: %v", k, err)
		}
		*dst = append(*dst, h)
	}
	res := n.waitCommitted(0, time.Minute, append(append([][32]byte(nil), alpha...), beta...))
	var last int64
	for _, r := range res {
		last = max(last, r.Height)
	}

	n.waitFor(90*time.Second, fmt.Sprintf("follower reaching height %d", last), func() error {
		ls := snapshot()
		if got := ls[len(ls)-1].Height; got < last {
			return fmt.Errorf("follower at height %d", got)
		}
		return nil
	})
	ls := snapshot()
	seen := map[string]bool{}
	for i, l := range ls {
		if !l.Verified {
			t.Errorf("height %d not verified: %s", l.Height, l.Error)
		}
		if i > 0 && l.Height != ls[i-1].Height+1 {
			t.Errorf("gap or reorder: height %d after %d", l.Height, ls[i-1].Height)
		}
		for _, h := range l.TxHashes {
			seen[h] = true
		}
	}
	for _, h := range alpha {
		if !seen[hex.EncodeToString(h[:])] {
			t.Errorf("alpha tx %x never reached the follower", h[:6])
		}
	}
	for _, h := range beta {
		if seen[hex.EncodeToString(h[:])] {
			t.Errorf("beta tx %x delivered on alpha's topic", h[:6])
		}
	}
	t.Logf("follower verified heights %d..%d (%d slices), %d alpha txs", ls[0].Height, ls[len(ls)-1].Height, len(ls), len(alpha))
}

// lockedBuffer is an io.Writer safe for a process's output and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
