package nettest_test

import (
	"testing"
	"time"

	"github.com/weftnet/weft/consensus/nettest"
)

// TestBlockSyncSurvivesPeerLoss: a node catching up by block sync while
// the links to its peers are reset, one per block it syncs. On CometBFT
// v0.40.0 it died of a nil pointer dereference in
// blocksync.(*BlockPool).PopRequest (pool.go:296, r.getBlock().Time) when
// the peer that served the block it was verifying disconnected meanwhile:
// the reactor peeks two blocks, verifies them without the pool lock, and
// pops; a peer removal in between resets the requester's block to nil. The
// weft binary runs CometBFT in process, so any peer serving block sync
// could crash a syncing node. Weft builds against CometBFT with the fix
// (third_party/cometbft-patches/0001-blocksync-pop-after-peer-removal.patch);
// without it this test ends the test binary.
func TestBlockSyncSurvivesPeerLoss(t *testing.T) {
	nw := nettest.New(t, nettest.Options{})
	nw.Start()
	nw.WaitHeight(2, time.Minute)
	const syncing = 3
	n := nw.Nodes[syncing]
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	nw.WaitHeight(40, 3*time.Minute, 0, 1, 2)
	target := nw.MaxHeight()
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	// Every block the node syncs, one of its links is reset.
	last, k := n.Height(), 0
	nw.Eventually(3*time.Minute, "the restarted node caught up", func() bool {
		if h := n.Height(); h != last {
			last = h
			nw.Fabric.Reset(syncing, k%syncing)
			k++
		}
		return n.Height() >= target
	})
	t.Logf("caught up from a reset link per block: %d resets", k)
}
