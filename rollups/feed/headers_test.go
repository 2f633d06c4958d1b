package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/tmhash"
	"github.com/cometbft/cometbft/light/provider"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"

	"github.com/weftnet/weft/genesis"
)

// fakeLight stands for CometBFT's light client over a test chain whose
// primary serves heights up to tip: every header it returns is the chain's
// own, as a light client's verified header would be. It counts its calls.
type fakeLight struct {
	chain    []testBlock
	tip      int64 // the highest height the RPC nodes serve
	trusted  int64 // the light client's latest verified height
	onVerify func(f *fakeLight)

	verifies []int64 // heights verified
}

func (f *fakeLight) block(h int64) *types.LightBlock {
	return &types.LightBlock{SignedHeader: &types.SignedHeader{Header: at(f.chain, h).header}}
}

func (f *fakeLight) VerifyLightBlockAtHeight(_ context.Context, h int64, _ time.Time) (*types.LightBlock, error) {
	if f.onVerify != nil {
		f.onVerify(f)
	}
	if h > f.tip {
		return nil, provider.ErrHeightTooHigh
	}
	f.verifies = append(f.verifies, h)
	f.trusted = max(f.trusted, h)
	return f.block(h), nil
}

func (f *fakeLight) TrustedLightBlock(h int64) (*types.LightBlock, error) {
	if h == 0 {
		h = f.trusted
	}
	if h > f.trusted {
		return nil, errors.New("not verified")
	}
	return f.block(h), nil
}

// fakeMetas serves /blockchain from a test chain up to tip, passing each
// answer through tamper. It records the ranges asked for.
type fakeMetas struct {
	chain    []testBlock
	tip      *int64
	tamper   func(res *ctypes.ResultBlockchainInfo)
	asked    []string // header ranges asked for
	latest   int      // how often the latest height was asked for
	onLatest func()   // runs when it is asked for
	down     bool     // every request fails
}

func (m *fakeMetas) BlockchainInfo(_ context.Context, lo, hi int64) (*ctypes.ResultBlockchainInfo, error) {
	if m.down {
		return nil, errors.New("connection refused")
	}
	if lo == 0 && hi == 0 {
		// The latest height (CometBFT also returns the last 20 metas).
		m.latest++
		if m.onLatest != nil {
			m.onLatest()
		}
		return &ctypes.ResultBlockchainInfo{LastHeight: *m.tip}, nil
	}
	m.asked = append(m.asked, fmt.Sprintf("%d..%d", lo, hi))
	hi = min(hi, *m.tip, lo+maxMetas-1)
	if lo > hi {
		return nil, fmt.Errorf("min height %d can't be greater than max height %d", lo, hi)
	}
	res := &ctypes.ResultBlockchainInfo{LastHeight: *m.tip}
	for h := hi; h >= lo; h-- {
		hd := *at(m.chain, h).header
		res.BlockMetas = append(res.BlockMetas, &types.BlockMeta{BlockID: types.BlockID{Hash: hd.Hash()}, Header: hd})
	}
	if m.tamper != nil {
		m.tamper(res)
	}
	return res, nil
}

// still is a clock that never moves: retries end only when the fake light
// client gets there, so a test does not depend on timing.
func still() time.Time { return time.Unix(1_700_000_000, 0) }

func newTestHeaders(lc *fakeLight, srcs ...*fakeMetas) *Headers {
	var bs []BlockMetas
	for _, s := range srcs {
		bs = append(bs, s)
	}
	h := newHeaders(lc, bs, still)
	h.poll = time.Millisecond
	return h
}

// follow asks hs for the headers of heights and checks each is the chain's.
func follow(t *testing.T, hs *Headers, c []testBlock, heights ...int64) {
	t.Helper()
	for _, h := range heights {
		hd, err := hs.Header(context.Background(), h)
		if err != nil {
			t.Fatalf("header %d: %v", h, err)
		}
		if err := CheckSlice(at(c, h).slice, hd); err != nil {
			t.Fatalf("slice %d: %v", h, err)
		}
	}
}

func eq[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// A follower that is behind pays one light client step and a /blockchain
// request per 20 blocks, then serves the heights it linked from memory.
func TestHeadersCatchUp(t *testing.T) {
	c := testChain(200)
	lc := &fakeLight{chain: c, tip: 150, trusted: 1}
	src := &fakeMetas{chain: c, tip: &lc.tip}
	hs := newTestHeaders(lc, src)

	follow(t, hs, c, 100)
	eq(t, "light client steps", lc.verifies, []int64{150})
	eq(t, "fetched", src.asked, []string{"130..149", "110..129", "100..109"})
	follow(t, hs, c, 101, 102, 103, 120, 150, 99)
	eq(t, "light client steps", lc.verifies, []int64{150})
	eq(t, "fetched", src.asked, []string{"130..149", "110..129", "100..109", "99..99"})

	// The chain moves on: the next new height costs one more step.
	lc.tip = 170
	follow(t, hs, c, 151)
	eq(t, "light client steps", lc.verifies, []int64{150, 170})
	follow(t, hs, c, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170)
	eq(t, "light client steps", lc.verifies, []int64{150, 170})
	eq(t, "fetched", src.asked[4:], []string{"151..169"})
}

// Gossip can deliver a slice before the RPC nodes commit its block: the
// header is asked for again until they serve it.
func TestHeadersAheadOfRPC(t *testing.T) {
	c := testChain(20)
	lc := &fakeLight{chain: c, tip: 10, trusted: 10}
	src := &fakeMetas{chain: c, tip: &lc.tip}
	hs := newTestHeaders(lc, src)
	calls := 0
	lc.onVerify = func(f *fakeLight) {
		if calls++; calls == 3 {
			f.tip = 12
		}
	}
	follow(t, hs, c, 12, 11)
	eq(t, "light client steps", lc.verifies, []int64{12})
	eq(t, "fetched", src.asked, []string{"11..11"})

	// Never served: an error once the wait is over, and nothing held.
	lc.onVerify = nil
	hs.wait = 0
	hs.now = func() time.Time { return time.Now() }
	if _, err := hs.Header(context.Background(), 13); !errors.Is(err, provider.ErrHeightTooHigh) {
		t.Fatalf("header 13 the nodes do not have: %v", err)
	}
	if _, ok := hs.chain.Header(13); ok {
		t.Fatal("holds header 13")
	}
}

// A slice far below everything verified is not linked back from the top:
// the light client verifies a header maxLinkBack above it first.
func TestHeadersFarBelow(t *testing.T) {
	c := testChain(400)
	lc := &fakeLight{chain: c, tip: 400, trusted: 1}
	src := &fakeMetas{chain: c, tip: &lc.tip}
	hs := newTestHeaders(lc, src)
	follow(t, hs, c, 399, 10)
	eq(t, "verified by the light client", lc.verifies, []int64{400, 10 + maxLinkBack})
	if len(src.asked) != 1+maxLinkBack/maxMetas {
		t.Fatalf("fetched %v", src.asked)
	}
}

// A source whose headers do not link is passed over; with no honest
// source, the header is an error and nothing is held.
func TestHeadersBadSource(t *testing.T) {
	c := testChain(60)
	for _, tc := range []struct {
		name   string
		tamper func(res *ctypes.ResultBlockchainInfo)
	}{
		{"a wrong DataHash", func(res *ctypes.ResultBlockchainInfo) {
			res.BlockMetas[len(res.BlockMetas)/2].Header.DataHash = tmhash.Sum([]byte("other txs"))
		}},
		{"a gap", func(res *ctypes.ResultBlockchainInfo) { res.BlockMetas = res.BlockMetas[1:] }},
		{"another fork", func() func(res *ctypes.ResultBlockchainInfo) {
			other := testChainFrom(60, c[:30])
			return func(res *ctypes.ResultBlockchainInfo) {
				for _, m := range res.BlockMetas {
					m.Header = *at(other, m.Header.Height).header
					m.BlockID.Hash = m.Header.Hash()
				}
			}
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lc := &fakeLight{chain: c, tip: 60, trusted: 1}
			bad := &fakeMetas{chain: c, tip: &lc.tip, tamper: tc.tamper}
			good := &fakeMetas{chain: c, tip: &lc.tip}
			follow(t, newTestHeaders(lc, bad, good), c, 45, 46, 59)
			if len(bad.asked) == 0 || len(good.asked) == 0 {
				t.Fatalf("asked the bad source %v, the good one %v", bad.asked, good.asked)
			}

			lc = &fakeLight{chain: c, tip: 60, trusted: 1}
			hs := newTestHeaders(lc, &fakeMetas{chain: c, tip: &lc.tip, tamper: tc.tamper})
			_, err := hs.Header(context.Background(), 45)
			if err == nil || !strings.Contains(err.Error(), "headers 45..59") {
				t.Fatalf("header 45 from a bad source alone: %v", err)
			}
			for h := int64(45); h < 60; h++ {
				if _, ok := hs.chain.Header(h); ok {
					t.Fatalf("holds header %d from a bad source", h)
				}
			}
		})
	}
}

// The light client moving to another fork than the headers held (it was
// deceived, or they were) is an error, not a slice.
func TestHeadersContradiction(t *testing.T) {
	c := testChain(40)
	other := testChainFrom(40, c[:20])
	lc := &fakeLight{chain: c, tip: 30, trusted: 1}
	src := &fakeMetas{chain: c, tip: &lc.tip}
	hs := newTestHeaders(lc, src)
	follow(t, hs, c, 25)
	lc.chain, lc.tip = other, 31
	if _, err := hs.Header(context.Background(), 31); err == nil || !strings.Contains(err.Error(), "names previous block") {
		t.Fatalf("header 31 of another fork: %v", err)
	}
}

// The light client checks the header it verifies against every witness,
// and sleeps for tens of seconds on one that is behind: the follower first
// waits for the witnesses to serve the height, then verifies exactly it.
func TestHeadersWaitForWitnesses(t *testing.T) {
	c := testChain(40)
	lc := &fakeLight{chain: c, tip: 30, trusted: 1}
	primary := &fakeMetas{chain: c, tip: &lc.tip}
	wtip := int64(29)
	witness := &fakeMetas{chain: c, tip: &wtip}
	hs := newTestHeaders(lc, primary, witness)
	witness.onLatest = func() {
		if witness.latest == 3 {
			wtip = 30
		}
	}
	lc.onVerify = func(*fakeLight) {
		if wtip < 30 {
			t.Errorf("light client ran while the witness was at %d", wtip)
		}
	}
	follow(t, hs, c, 30)
	eq(t, "verified by the light client", lc.verifies, []int64{30})
	if witness.latest != 3 {
		t.Fatalf("witness asked %d times, want 3", witness.latest)
	}

	// A witness that stays behind: the wait is bounded (here 5 polls), then
	// the light client judges it, at the height the others serve.
	lc.tip, lc.onVerify, witness.onLatest = 35, nil, nil
	hs.witnessWait = 5 * hs.poll
	asked := witness.latest
	follow(t, hs, c, 35)
	eq(t, "verified by the light client", lc.verifies, []int64{30, 35})
	if n := witness.latest - asked; n != 1+5 {
		t.Fatalf("lagging witness asked %d times, want 6 (once, then 5 polls)", n)
	}

	// A witness that does not answer is not waited for.
	down := &fakeMetas{chain: c, tip: &wtip, down: true}
	hs = newTestHeaders(lc, primary, down)
	hs.witnessWait = time.Hour
	lc.tip = 38
	follow(t, hs, c, 38)
	eq(t, "verified by the light client", lc.verifies, []int64{30, 35, 38})
}

// fakeGenesis serves a genesis document.
type fakeGenesis struct {
	doc *types.GenesisDoc
	err error
}

func (f fakeGenesis) Genesis(context.Context) (*ctypes.ResultGenesis, error) {
	return &ctypes.ResultGenesis{Genesis: f.doc}, f.err
}

// TestTrustingPeriod: the light client trusts a header for 2/3 of the
// chain's unbonding time, read from its genesis, or for a shorter period
// given; never for the unbonding time or longer.
func TestTrustingPeriod(t *testing.T) {
	if got := TrustingPeriod(504 * time.Hour); got != 336*time.Hour {
		t.Fatalf("21 days of unbonding: trusting period %s, want 14 days", got)
	}
	appState := func(unbonding string) []byte {
		p := genesis.DefaultParams()
		p.Staking.UnbondingTime = unbonding
		b, err := json.Marshal(genesis.AppState{Params: p})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	src := func(unbonding string) fakeGenesis {
		return fakeGenesis{doc: &types.GenesisDoc{ChainID: "weft-1", AppState: appState(unbonding)}}
	}
	for _, tc := range []struct {
		name      string
		src       fakeGenesis
		chainID   string
		flag      time.Duration
		want      time.Duration
		wantError string
	}{
		{"production", src("504h"), "weft-1", 0, 336 * time.Hour, ""},
		{"devnet", src("10m"), "weft-1", 0, 400 * time.Second, ""},
		{"shorter period given", src("504h"), "weft-1", 24 * time.Hour, 24 * time.Hour, ""},
		{"period as long as unbonding", src("504h"), "weft-1", 504 * time.Hour, 0, "shorter than"},
		{"period longer than unbonding", src("10m"), "weft-1", 14 * 24 * time.Hour, 0, "shorter than"},
		{"negative period", src("10m"), "weft-1", -time.Minute, 0, "positive"},
		{"another chain's genesis", src("504h"), "weft-2", 0, 0, "not chain weft-2's"},
		{"genesis without unbonding time", src(""), "weft-1", 0, 0, "unbonding_time"},
		{"no genesis", fakeGenesis{err: errors.New("genesis too large")}, "weft-1", time.Hour, 0, "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChainUnbondingTime(context.Background(), tc.src, tc.chainID)
			if err == nil {
				got, err = ResolveTrustingPeriod(tc.flag, got)
			}
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("got %s, %v; want an error with %q", got, err, tc.wantError)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}
