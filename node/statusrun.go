package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/weftnet/weft/genesis"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/rpc"
	"github.com/weftnet/weft/ui"
)

// netStatus is the node's status snapshot service: the cached snapshot,
// the history of per-second samples it records as blocks commit and
// rollup blocks execute, and the network page ([ui] listen_addr).
type netStatus struct {
	now     func() time.Time // the wall clock (tests inject theirs)
	nodeID  string
	staking genesis.StakingParams
	cache   statusCache
	history *ui.History

	names sync.Map // rollups.ID -> name, for the rollups in blocks

	uiLis  net.Listener // nil: no page
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// initStatus prepares the status service of a node built from a genesis
// with staking params sp.
func (n *Node) initStatus(sp genesis.StakingParams) error {
	id, _, err := NodeIdentity(n.ccfg)
	if err != nil {
		return err
	}
	n.ns.now, n.ns.nodeID, n.ns.staking = time.Now, id, sp
	n.ns.history = ui.NewHistory(ui.DefaultHistoryWindow)
	return nil
}

// UIAddr is where the network page listens once started ("" for none).
func (n *Node) UIAddr() string {
	if n.ns.uiLis != nil {
		return n.ns.uiLis.Addr().String()
	}
	return n.wcfg.UI.ListenAddr
}

// startStatus starts recording the history (blocks, and the txs of every
// served rollup) and, when configured, the network page.
func (n *Node) startStatus() error {
	if a := n.wcfg.UI.ListenAddr; a != "" {
		lis, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("network page (ui.listen_addr) listen %s: %w", a, err)
		}
		n.ns.uiLis = lis
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.ns.cancel = cancel
	n.ns.wg.Go(func() { n.recordBlocks(ctx) })
	for _, rt := range n.rollups {
		n.ns.wg.Go(func() { n.recordRollupTxs(ctx, rt) })
	}
	if lis := n.ns.uiLis; lis != nil {
		h := ui.Handler(ui.Config{Status: n.NetworkStatus, Explorer: n.wcfg.UI.L1Explorer, Log: n.log.With("module", "ui")})
		n.ns.wg.Go(func() {
			if err := ui.Serve(ctx, lis, h); err != nil && !errors.Is(err, net.ErrClosed) {
				n.log.Error("network page stopped", "err", err)
			}
		})
	}
	return nil
}

// stopStatus stops the page and the recording.
func (n *Node) stopStatus() {
	if n.ns.cancel != nil {
		n.ns.cancel()
	} else if n.ns.uiLis != nil {
		n.ns.uiLis.Close()
	}
	n.ns.wg.Wait()
}

// historyCatchUp bounds the blocks recorded at once after a jump in
// height (a block-syncing node): older ones fall out of the window anyway.
const historyCatchUp = 2000

// recordBlocks adds every committed block to the history.
func (n *Node) recordBlocks(ctx context.Context) {
	last := n.Committed()
	prev, _ := n.blockTime(last)
	for {
		next := n.CommitNotify()
		h := n.Committed()
		if h-last > historyCatchUp {
			last = h - historyCatchUp
			prev, _ = n.blockTime(last)
		}
		for ; last < h; last++ {
			prev = n.recordBlock(last+1, prev)
		}
		select {
		case <-ctx.Done():
			return
		case <-next:
		}
	}
}

// recordBlock adds block h, whose previous block has time prev (zero:
// unknown), to the history and returns h's time.
func (n *Node) recordBlock(h int64, prev time.Time) time.Time {
	b, err := n.splitter.Block(h)
	if err != nil {
		return time.Time{}
	}
	t := time.Unix(0, b.TimeUnixNano)
	blk := ui.Block{Height: h, Time: t}
	if !prev.IsZero() && t.After(prev) {
		blk.Interval = t.Sub(prev)
	}
	served := map[rollups.ID]bool{}
	for _, rt := range n.rollups {
		served[rt.id] = true
		rb := ui.RollupBlock{Name: rt.svc.Name, Bytes: itemBytes(b.Items[rt.id]), Lag: -1}
		if d := rt.status.driver.Load(); d != nil {
			rb.Lag = n.settlementLag(d.Status().Safe, h, t)
		}
		blk.Rollups = append(blk.Rollups, rb)
	}
	// Rollups this node does not serve are charted by data rate only, and
	// at most maxUnservedSampled of them per block (the largest): anyone can
	// register rollups and put data in a block.
	var others []ui.RollupBlock
	for id, items := range b.Items {
		if !served[id] {
			others = append(others, ui.RollupBlock{Name: n.rollupName(id), Bytes: itemBytes(items), Lag: -1})
		}
	}
	sort.Slice(others, func(i, j int) bool {
		if others[i].Bytes != others[j].Bytes {
			return others[i].Bytes > others[j].Bytes
		}
		return others[i].Name < others[j].Name
	})
	blk.Rollups = append(blk.Rollups, others[:min(len(others), maxUnservedSampled)]...)
	n.ns.history.AddBlock(blk)
	return t
}

// maxUnservedSampled bounds the rollups a node does not serve that one
// block adds to the history.
const maxUnservedSampled = 8

func itemBytes(items []*rollups.Item) uint64 {
	var sum uint64
	for _, it := range items {
		sum += uint64(len(it.Data))
	}
	return sum
}

// rollupName is the registered name of rollup id (its id if unknown).
func (n *Node) rollupName(id rollups.ID) string {
	if v, ok := n.ns.names.Load(id); ok {
		return v.(string)
	}
	name := id.String()
	if r := n.app.Reader().Rollup(id); r != nil {
		name = r.Name
	}
	n.ns.names.Store(id, name)
	return name
}

// recordRollupTxs adds the txs of every block the rollup executes to the
// history. The rollup's block feed waits for its subscribers, so this one
// only counts.
func (n *Node) recordRollupTxs(ctx context.Context, rt *rollupRuntime) {
	ch := make(chan *rpc.BlockEvent, 64)
	sub := rt.feed.Subscribe(ch)
	defer sub.Unsubscribe()
	for {
		select {
		case ev := <-ch:
			n.ns.history.AddTxs(rt.svc.Name, time.Unix(int64(ev.Block.Time()), 0), uint64(len(ev.Block.Transactions())))
		case <-sub.Err():
			return
		case <-ctx.Done():
			return
		}
	}
}
