package node

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/holiman/uint256"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/settlement"
	"github.com/weftnet/weft/ui"
)

// rollupL1 is what the status snapshot reads of a settled rollup: its L1
// client and inbox, and what this node runs for it.
type rollupL1 struct {
	client      *ethclient.Client
	url         string // hidden from errors shown to people: it may hold an API key
	inbox       *settlement.Inbox
	maxBatchAge time.Duration
	relayer     bool
}

// Status snapshot tuning.
const (
	// statusCacheFor: snapshots asked for within this long of the last
	// one get that one, so many pages and CLIs cost one collection.
	statusCacheFor = time.Second
	// l1StatusTimeout bounds the L1 reads of one rollup's settlement.
	l1StatusTimeout = 3 * time.Second
	// intervalBlocks is how many block intervals the mean covers, and
	// recentSigning how many heights a validator's recent misses count.
	intervalBlocks = 20
	recentSigning  = 20
	// maxStatusValidators bounds the validators one snapshot lists.
	maxStatusValidators = 1000
)

// statusCache is the last snapshot collected, and the collection running
// now, if any.
type statusCache struct {
	mu       sync.Mutex
	at       time.Time // when last was collected (its end)
	last     *weftv1.NetworkStatus
	inflight chan struct{} // closed when the running collection ends
}

// NetworkStatus is the node's status snapshot (collected at most once a
// second) and, with history, the per-second samples of the last minutes:
// what GetNetworkStatus, `weft status` and the network page show.
func (n *Node) NetworkStatus(ctx context.Context, history bool) (*weftv1.GetNetworkStatusResponse, error) {
	st, err := n.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	resp := &weftv1.GetNetworkStatusResponse{Status: st}
	if history {
		resp.History = n.ns.history.Samples()
	}
	return resp, ctx.Err()
}

// snapshot returns a snapshot at most statusCacheFor old. One collection
// runs at a time, in its own goroutine, and every caller that needs a new
// snapshot waits for that one, each only until its own deadline (then it
// gets the previous snapshot, if there is one): however many requests
// come, and however slow the L1, the node collects once at a time.
func (n *Node) snapshot(ctx context.Context) (*weftv1.NetworkStatus, error) {
	c := &n.ns.cache
	for {
		c.mu.Lock()
		now := n.ns.now()
		if c.last != nil && now.Sub(c.at) < statusCacheFor && !now.Before(c.at) {
			st := c.last
			c.mu.Unlock()
			return st, nil
		}
		if c.inflight == nil {
			c.inflight = make(chan struct{})
			go n.collectInto(c, c.inflight)
		}
		wait, stale := c.inflight, c.last
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			if stale != nil {
				return stale, nil
			}
			return nil, ctx.Err()
		}
	}
}

// collectInto runs one collection and publishes it in c (a panic is
// logged and publishes nothing, so callers neither hang nor crash).
func (n *Node) collectInto(c *statusCache, done chan struct{}) {
	var st *weftv1.NetworkStatus
	defer func() {
		if r := recover(); r != nil {
			n.log.Error("collect network status", "panic", r)
		}
		c.mu.Lock()
		if st != nil {
			c.last, c.at = st, n.ns.now()
		}
		c.inflight = nil
		c.mu.Unlock()
		close(done)
	}()
	st = n.collectStatus(context.Background(), n.ns.now())
}

// collectStatus reads every part of the snapshot from the node's own
// components: the app (height, staking), CometBFT's block store (block
// times), the rollup executors and batchers, and each settled rollup's L1.
func (n *Node) collectStatus(ctx context.Context, now time.Time) *weftv1.NetworkStatus {
	h, _ := n.app.Committed()
	mempool, _ := n.app.Mempool().Size()
	st := &weftv1.NetworkStatus{
		ChainId: n.app.ChainID(), Moniker: n.ccfg.Moniker, NodeId: n.ns.nodeID, Height: h,
		CollectedUnixNano: now.UnixNano(), CatchingUp: n.cmt.ConsensusReactor().WaitSync(), MempoolTxs: int64(mempool),
		SignedBlocksWindow: n.ns.staking.SignedBlocksWindow, MaxMissedBlocks: n.ns.staking.MaxMissedBlocks,
	}
	if t, ok := n.blockTime(h); ok {
		st.BlockTimeUnixNano = t.UnixNano()
		if k := min(intervalBlocks, h-1); k > 0 {
			if t0, ok := n.blockTime(h - k); ok {
				st.BlockIntervalNanos, st.IntervalBlocks = int64(t.Sub(t0))/k, int32(k)
			}
		}
	}
	st.Validators = n.validatorStatuses(h)
	// Each settled rollup reads its L1 (up to l1StatusTimeout): in
	// parallel, so the snapshot takes the slowest one, not their sum.
	st.Rollups = make([]*weftv1.RollupStatus, len(n.rollups))
	var wg sync.WaitGroup
	for i, rt := range n.rollups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.Rollups[i] = n.rollupStatus(ctx, rt, h)
		}()
	}
	wg.Wait()
	st.Warnings = ui.Warnings(st, now)
	return st
}

// blockTime is the header time of committed block h.
func (n *Node) blockTime(h int64) (time.Time, bool) {
	if h < 1 {
		return time.Time{}, false
	}
	meta := n.cmt.BlockStore().LoadBlockMeta(h)
	if meta == nil {
		return time.Time{}, false
	}
	return meta.Header.Time, true
}

// sortedValidators are the staking validators, active ones first, then by
// tokens (ListValidators' order).
func (n *Node) sortedValidators() []*weftv1.Validator {
	vals := n.app.Reader().Staking().Validators()
	sort.SliceStable(vals, func(i, j int) bool {
		if (vals[i].Power > 0) != (vals[j].Power > 0) {
			return vals[i].Power > 0
		}
		return new(uint256.Int).SetBytes(vals[i].Tokens).Gt(new(uint256.Int).SetBytes(vals[j].Tokens))
	})
	return vals
}

// validatorStatuses are the validators with their liveness from the
// staking module's signing records, at committed height h.
func (n *Node) validatorStatuses(h int64) []*weftv1.ValidatorStatus {
	var out []*weftv1.ValidatorStatus
	vals := n.sortedValidators()
	// Anyone with the minimum self stake can create a validator: the
	// snapshot lists the first maxStatusValidators (active ones first), so
	// it stays far below gRPC's 4 MiB message limit.
	for _, v := range vals[:min(len(vals), maxStatusValidators)] {
		vs := &weftv1.ValidatorStatus{
			Moniker: v.Moniker, Operator: v.Operator, Address: v.Address, Tokens: v.Tokens, Power: v.Power,
			MissedBlocks: v.MissedBlocks, Jailed: v.Jailed, JailedUntilHeight: v.JailedUntilHeight, Tombstoned: v.Tombstoned,
		}
		vs.RecentMissed, vs.RecentBlocks = recentMisses(v.SigningWindow, n.ns.staking.SignedBlocksWindow, h, recentSigning)
		out = append(out, vs)
	}
	return out
}

// recentMisses counts the heights among the last k up to h (at most the
// window w) whose bit is set in a validator's signing bitmap: the staking
// module sets bit (H-1) mod w when the validator's vote is missing from
// the commit block H carries.
func recentMisses(bitmap []byte, w, h int64, k int) (missed, of uint32) {
	k64 := min(int64(k), w, h)
	if k64 <= 0 || int64(len(bitmap)) != (w+7)/8 {
		return 0, uint32(max(k64, 0))
	}
	for H := h - k64 + 1; H <= h; H++ {
		i := (H - 1) % w
		if bitmap[i/8]&(1<<(i%8)) != 0 {
			missed++
		}
	}
	return missed, uint32(k64)
}

// rollupStatus is a served rollup's progress, block tags and settlement,
// with Weft at height h.
func (n *Node) rollupStatus(ctx context.Context, rt *rollupRuntime, h int64) *weftv1.RollupStatus {
	r := &weftv1.RollupStatus{
		Name: rt.svc.Name, Id: rt.id[:], RpcUrl: "http://" + rt.server.Addr(),
		WeftHeight: rt.exec.LastWeftHeight(), LatestBlock: rt.exec.Head().Number.Uint64(),
		SafeBlock: rt.status.SafeBlock(), FinalizedBlock: rt.status.FinalizedBlock(),
	}
	if reg := n.app.Reader().Rollup(rt.id); reg != nil {
		r.EvmChainId = reg.EvmChainId
	}
	d := rt.status.driver.Load()
	if d != nil {
		ds := d.Status()
		r.SafeWeftHeight, r.FinalizedWeftHeight = ds.Safe, ds.Finalized
		if t, ok := n.blockTime(h); ok {
			r.SettlementLagNanos = int64(n.settlementLag(ds.Safe, h, t))
		}
	}
	if rt.l1 == nil {
		return r
	}
	s := &weftv1.RollupSettlement{
		Inbox: rt.l1.inbox.Address().Bytes(), Batcher: d != nil, Relayer: rt.l1.relayer,
		MaxBatchAgeNanos: int64(rt.l1.maxBatchAge),
	}
	if d != nil {
		s.PendingBatches = int64(d.Retained())
	}
	if state, err := rt.exec.StateAt(rt.exec.Head().Root); err == nil {
		s.DepositsCredited = evm.DepositsProcessed(state)
	}
	lctx, cancel := context.WithTimeout(ctx, l1StatusTimeout)
	defer cancel()
	if err := readSettlement(lctx, rt.l1, s); err != nil {
		msg := redactURLs(err.Error())
		if errors.Is(err, context.DeadlineExceeded) {
			msg = "no answer within " + l1StatusTimeout.String()
		}
		*s = weftv1.RollupSettlement{Inbox: s.Inbox, Batcher: s.Batcher, Relayer: s.Relayer, MaxBatchAgeNanos: s.MaxBatchAgeNanos,
			PendingBatches: s.PendingBatches, DepositsCredited: s.DepositsCredited, L1Error: msg}
	}
	r.Settlement = s
	return r
}

// settlementLag is how much block time the oldest block after safe height
// safe has waited at block height h, of time t: zero when all is safe.
func (n *Node) settlementLag(safe, h int64, t time.Time) time.Duration {
	if safe >= h {
		return 0
	}
	t0, ok := n.blockTime(safe + 1)
	if !ok || t.Before(t0) {
		return 0
	}
	return t.Sub(t0)
}

// readSettlement reads a rollup's inbox at the L1 head: batches, pending
// frames, the last batch's L1 block and time and finality, deposits and
// the challenge window.
func readSettlement(ctx context.Context, l1 *rollupL1, s *weftv1.RollupSettlement) error {
	head, err := l1.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return err
	}
	s.L1Head, s.L1HeadTimeUnixNano = head.Number.Uint64(), int64(head.Time)*int64(time.Second)
	is, err := settlement.ReadInboxState(ctx, l1.client, l1.inbox.Address(), head.Number)
	if err != nil {
		return err
	}
	s.BatchesPosted, s.PostedWeftHeight, s.PendingFrames = is.NextIndex, int64(is.NextHeight)-1, is.PendingFrames
	if is.NextIndex > 0 {
		b, err := l1.inbox.Batch(ctx, is.NextIndex-1)
		if err != nil {
			return err
		}
		s.LastPostL1Block = b.L1Block
		hdr, err := l1.client.HeaderByNumber(ctx, new(uint256.Int).SetUint64(b.L1Block).ToBig())
		if err != nil {
			return err
		}
		s.LastPostTimeUnixNano = int64(hdr.Time) * int64(time.Second)
		if s.LastPostFinal, err = l1.inbox.IsFinal(ctx, is.NextIndex-1); err != nil {
			return err
		}
	}
	if s.DepositsL1, err = l1.inbox.DepositCount(ctx); err != nil {
		return err
	}
	s.ChallengeWindowSeconds, err = l1.inbox.ChallengeWindow(ctx)
	return err
}

// anyURL matches a URL in an error message: whatever form the HTTP client
// rewrote the configured L1 URL into (user:*** instead of a password, a
// lower-cased scheme), its path or query may hold an API key.
var anyURL = regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://[^\s"']*`)

// redactURLs replaces every URL in msg, so a status shown on a public page
// never carries an L1 provider's key.
func redactURLs(msg string) string {
	return anyURL.ReplaceAllString(msg, "the L1 RPC (settlement.l1_rpc)")
}
