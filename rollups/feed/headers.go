package feed

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"
	lightdb "github.com/cometbft/cometbft/light/store/db"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"

	"github.com/weftnet/weft/genesis"
)

// LightClient is what Headers needs of CometBFT's light client
// (*light.Client).
type LightClient interface {
	// VerifyLightBlockAtHeight verifies the header of height.
	VerifyLightBlockAtHeight(ctx context.Context, height int64, now time.Time) (*types.LightBlock, error)
	// TrustedLightBlock returns a verified header; height 0 is the latest.
	TrustedLightBlock(height int64) (*types.LightBlock, error)
}

// BlockMetas is a CometBFT RPC endpoint's /blockchain: the block metas
// (headers) of heights minHeight..maxHeight, newest first, at most 20.
// *rpchttp.HTTP is one.
type BlockMetas interface {
	BlockchainInfo(ctx context.Context, minHeight, maxHeight int64) (*ctypes.ResultBlockchainInfo, error)
}

// Headers verifies Weft headers, so a follower trusts a slice only as far
// as +2/3 of the validators signed its block. CometBFT's light client
// verifies a recent header; the headers below it are verified by hash
// linkage (LinkBack) from headers fetched 20 at a time, as the light client
// itself verifies heights below its trusted one. One light client step
// thus covers every block since the last one, so a follower that falls
// behind catches up instead of paying a light client step per block.
// Verified headers are kept in a bounded HeaderChain. Safe for concurrent
// use; calls are served one at a time.
type Headers struct {
	mu      sync.Mutex
	lc      LightClient
	sources []BlockMetas // primary first; any will do, LinkBack checks them
	chain   *HeaderChain
	now     func() time.Time
	wait    time.Duration // how long a height the RPC nodes do not serve yet is retried
	poll    time.Duration
	// witnessWait bounds how long advance waits for the witnesses (in
	// polls); probeWait bounds, in time, its height probes altogether.
	witnessWait, probeWait time.Duration
	// period is the light client's trusting period.
	period time.Duration
}

// TrustRoot pins the light client's first trusted header. A zero Height
// trusts block 1 as served by the primary (trust on first use).
type TrustRoot struct {
	Height int64
	Hash   []byte
	// Period is how long a verified header is trusted; zero means
	// TrustingPeriod of the chain's unbonding time. It must be shorter
	// than the unbonding time.
	Period time.Duration
}

// TrustingPeriod is how long the light client trusts a header it verified,
// given the chain's unbonding time: 2/3 of it, as CometBFT recommends.
// Stake that signed a header stays slashable until it has unbonded; a
// header trusted for longer could be contradicted by a fork signed by
// validators who have nothing left to lose.
func TrustingPeriod(unbonding time.Duration) time.Duration { return unbonding / 3 * 2 }

// ResolveTrustingPeriod is the period to use: period when set, else
// TrustingPeriod(unbonding). It refuses a period not shorter than unbonding.
func ResolveTrustingPeriod(period, unbonding time.Duration) (time.Duration, error) {
	if period == 0 {
		period = TrustingPeriod(unbonding)
	}
	if period <= 0 || period >= unbonding {
		return 0, fmt.Errorf("trusting period %s must be positive and shorter than the chain's unbonding time %s", period, unbonding)
	}
	return period, nil
}

// GenesisSource serves the chain's genesis document (*rpchttp.HTTP is one).
type GenesisSource interface {
	Genesis(ctx context.Context) (*ctypes.ResultGenesis, error)
}

// ChainUnbondingTime reads the chain's unbonding time from the genesis src
// serves (app_state.params.staking.unbonding_time), checking chainID.
func ChainUnbondingTime(ctx context.Context, src GenesisSource, chainID string) (time.Duration, error) {
	res, err := src.Genesis(ctx)
	if err != nil {
		return 0, fmt.Errorf("fetch genesis: %w", err)
	}
	if res.Genesis == nil || res.Genesis.ChainID != chainID {
		return 0, fmt.Errorf("the genesis served is not chain %s's", chainID)
	}
	st, err := genesis.ParseAppState(res.Genesis.AppState)
	if err != nil {
		return 0, err
	}
	return st.Params.Staking.UnbondingDuration()
}

const (
	// headerWait bounds how long a follower waits for the header of a
	// slice that gossip delivered before the RPC nodes committed its block.
	headerWait = 10 * time.Second
	// headerPoll is how often it asks again meanwhile.
	headerPoll = 50 * time.Millisecond
	// maxLinkBack is how far below a verified header a header is linked
	// back to (5 /blockchain requests); further down, the light client
	// first verifies the header maxLinkBack above it.
	maxLinkBack = 5 * maxMetas
	// chainLimit is how many verified headers Headers keeps (well under a
	// megabyte); slices rarely arrive more than a few heights out of order.
	chainLimit = 1024
	// rpcTimeout bounds each /blockchain request, in seconds, as the light
	// client's own provider bounds its requests.
	rpcTimeout = 5
)

// NewHeaders returns a light client following chainID through the CometBFT
// RPC primary, cross-checked against the witnesses. The chain's unbonding
// time, which bounds the trusting period, is read from the primary's
// genesis.
func NewHeaders(ctx context.Context, chainID, primary string, witnesses []string, root TrustRoot) (*Headers, error) {
	pc, err := rpchttp.NewWithTimeout(primary, "/websocket", rpcTimeout)
	if err != nil {
		return nil, err
	}
	unbonding, err := ChainUnbondingTime(ctx, pc, chainID)
	if err != nil {
		return nil, fmt.Errorf("unbonding time of %s from %s: %w", chainID, primary, err)
	}
	period, err := ResolveTrustingPeriod(root.Period, unbonding)
	if err != nil {
		return nil, err
	}
	if root.Height == 0 {
		h := int64(1)
		b, err := pc.Block(ctx, &h)
		if err != nil {
			return nil, fmt.Errorf("fetch trust root from %s: %w", primary, err)
		}
		root = TrustRoot{Height: 1, Hash: b.BlockID.Hash}
	}
	if len(witnesses) == 0 {
		witnesses = []string{primary}
	}
	sources := []BlockMetas{pc}
	for _, w := range witnesses {
		if w == primary {
			continue
		}
		wc, err := rpchttp.NewWithTimeout(w, "/websocket", rpcTimeout)
		if err != nil {
			return nil, err
		}
		sources = append(sources, wc)
	}
	lc, err := light.NewHTTPClient(ctx, chainID,
		light.TrustOptions{Period: period, Height: root.Height, Hash: root.Hash},
		primary, witnesses, lightdb.New(dbm.NewMemDB(), chainID), light.Logger(cmtlog.NewNopLogger()))
	if err != nil {
		return nil, fmt.Errorf("light client: %w", err)
	}
	// Catch up to the chain's head once, so the first slices link back to it.
	hs := newHeaders(lc, sources, time.Now)
	hs.period = period
	if _, err := hs.advance(ctx, 1); err != nil {
		return nil, fmt.Errorf("light client update: %w", err)
	}
	return hs, nil
}

func newHeaders(lc LightClient, sources []BlockMetas, now func() time.Time) *Headers {
	return &Headers{lc: lc, sources: sources, chain: NewHeaderChain(chainLimit), now: now, wait: headerWait, poll: headerPoll, witnessWait: witnessWait, probeWait: witnessWait}
}

// Header returns the verified header of height. A height the RPC nodes do
// not serve yet (gossip can be faster than their commit) is retried until
// headerWait passes.
func (h *Headers) Header(ctx context.Context, height int64) (*types.Header, error) {
	if height <= 0 {
		return nil, fmt.Errorf("no header of height %d", height)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if hd, ok := h.chain.Header(height); ok {
		return hd, nil
	}
	anchor, ok := h.chain.Above(height)
	if !ok {
		lb, err := h.retry(ctx, func() (*types.LightBlock, error) { return h.advance(ctx, height) })
		if err != nil {
			return nil, err
		}
		anchor = lb.Header
	}
	if anchor.Height-height > maxLinkBack {
		lb, err := h.retry(ctx, func() (*types.LightBlock, error) {
			return h.lc.VerifyLightBlockAtHeight(ctx, height+maxLinkBack, h.now())
		})
		if err != nil {
			return nil, err
		}
		if err := h.chain.Add(lb.Header); err != nil {
			return nil, err
		}
		anchor = lb.Header
	}
	for anchor.Height > height {
		hi := anchor.Height - 1
		lo := max(height, hi-maxMetas+1)
		hs, err := h.linkBack(ctx, anchor, lo, hi)
		if err != nil {
			return nil, err
		}
		for _, hd := range hs {
			if err := h.chain.Add(hd); err != nil {
				return nil, err
			}
		}
		anchor = hs[len(hs)-1]
	}
	return anchor, nil
}

// advance has the light client verify the primary's latest header (or
// height, if the primary is not there yet) and holds the header it verified.
//
// The light client checks that header against every witness, and a
// witness even one block behind makes it sleep 2×max clock drift + max
// block lag (30 s by default) before asking again. So advance asks every
// node for its latest height (at once), waits up to witnessWait for the
// witnesses to serve height, and verifies the highest height they all
// serve: exactly that height, not whatever is latest by then.
func (h *Headers) advance(ctx context.Context, height int64) (*types.LightBlock, error) {
	lb, err := h.lc.VerifyLightBlockAtHeight(ctx, h.target(ctx, height), h.now())
	if err != nil {
		return nil, err
	}
	if err := h.chain.Add(lb.Header); err != nil {
		return nil, err
	}
	return lb, nil
}

// witnessWait bounds how long advance waits for the witnesses to reach the
// height it needs (a block or two on a live chain).
const witnessWait = 2 * time.Second

// target is the height advance verifies: at least height, and up to the
// lowest latest height among the primary and the witnesses. It polls while
// a witness that answers is below height, at most h.witnessWait in all
// (counted in polls, so an injected clock cannot stall it), and gives its
// probes h.probeWait in all. A witness that stays behind, fails to answer,
// or answers too slowly is left to the light client to judge (it drops
// witnesses that do not respond), and does not hold the others back.
func (h *Headers) target(ctx context.Context, height int64) int64 {
	pctx, cancel := context.WithTimeout(ctx, h.probeWait)
	defer cancel()
	latest := make([]int64, len(h.sources))
	errs := make([]error, len(h.sources))
	var wg sync.WaitGroup
	for i, src := range h.sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			latest[i], errs[i] = lastHeight(pctx, src)
		}()
	}
	wg.Wait()
	polls := int(h.witnessWait / max(h.poll, time.Microsecond))
	for i := 1; i < len(h.sources); i++ {
		for errs[i] == nil && latest[i] < height && polls > 0 {
			polls--
			select {
			case <-pctx.Done():
				return height
			case <-time.After(h.poll):
			}
			latest[i], errs[i] = lastHeight(pctx, h.sources[i])
		}
	}
	low := latest[0]
	if errs[0] != nil {
		low = height
	}
	for i, l := range latest[1:] {
		if errs[i+1] == nil && l >= height {
			low = min(low, l)
		}
	}
	return max(height, low)
}

// lastHeight is the latest height src has committed.
func lastHeight(ctx context.Context, src BlockMetas) (int64, error) {
	res, err := src.BlockchainInfo(ctx, 0, 0)
	if err != nil {
		return 0, err
	}
	return res.LastHeight, nil
}

// linkBack fetches headers hi down to lo and verifies them from anchor (of
// height hi+1), trying each source in turn: any source will do, since a
// header that does not link is refused.
func (h *Headers) linkBack(ctx context.Context, anchor *types.Header, lo, hi int64) ([]*types.Header, error) {
	var errs []error
	for _, src := range h.sources {
		res, err := src.BlockchainInfo(ctx, lo, hi)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs = append(errs, err)
			continue
		}
		hs, err := headersFromMetas(res, lo, hi)
		if err == nil {
			err = LinkBack(anchor, hs)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return hs, nil
	}
	return nil, fmt.Errorf("headers %d..%d: %w", lo, hi, errors.Join(errs...))
}

// retry calls verify until it succeeds, fails with an error other than "not
// served yet", or h.wait passes.
func (h *Headers) retry(ctx context.Context, verify func() (*types.LightBlock, error)) (*types.LightBlock, error) {
	deadline := h.now().Add(h.wait)
	t := time.NewTicker(h.poll)
	defer t.Stop()
	for {
		lb, err := verify()
		if err == nil {
			return lb, nil
		}
		notYet := errors.Is(err, provider.ErrHeightTooHigh) || errors.Is(err, provider.ErrLightBlockNotFound)
		if !notYet || h.now().After(deadline) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// TrustedRoot describes what the light client trusts, for display.
func (h *Headers) TrustedRoot() string {
	lb, err := h.lc.TrustedLightBlock(0)
	if err != nil {
		return "none"
	}
	return fmt.Sprintf("height %d hash %s for %s", lb.Height, hex.EncodeToString(lb.Hash()), h.period)
}
