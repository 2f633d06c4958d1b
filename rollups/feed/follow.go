package feed

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"
	lightdb "github.com/cometbft/cometbft/light/store/db"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/p2p"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

// Headers verifies Weft headers with CometBFT's light client, so a follower
// trusts a slice only as far as +2/3 of the validators signed its block.
type Headers struct {
	lc *light.Client
}

// TrustRoot pins the light client's first trusted header. A zero Height
// trusts block 1 as served by the primary (trust on first use).
type TrustRoot struct {
	Height int64
	Hash   []byte
}

// NewHeaders returns a light client following chainID through the CometBFT
// RPC primary, cross-checked against the witnesses.
func NewHeaders(ctx context.Context, chainID, primary string, witnesses []string, root TrustRoot) (*Headers, error) {
	if root.Height == 0 {
		c, err := rpchttp.New(primary, "/websocket")
		if err != nil {
			return nil, err
		}
		h := int64(1)
		b, err := c.Block(ctx, &h)
		if err != nil {
			return nil, fmt.Errorf("fetch trust root from %s: %w", primary, err)
		}
		root = TrustRoot{Height: 1, Hash: b.BlockID.Hash}
	}
	if len(witnesses) == 0 {
		witnesses = []string{primary}
	}
	lc, err := light.NewHTTPClient(ctx, chainID,
		light.TrustOptions{Period: 14 * 24 * time.Hour, Height: root.Height, Hash: root.Hash},
		primary, witnesses, lightdb.New(dbm.NewMemDB(), chainID), light.Logger(cmtlog.NewNopLogger()))
	if err != nil {
		return nil, fmt.Errorf("light client: %w", err)
	}
	// Catch up to the chain's head once, so each slice then costs one step.
	if _, err := lc.Update(ctx, time.Now()); err != nil {
		return nil, fmt.Errorf("light client update: %w", err)
	}
	return &Headers{lc: lc}, nil
}

// headerWait bounds how long a follower waits for the header of a slice
// that gossip delivered before the RPC node committed its block.
const headerWait = 10 * time.Second

// DataHash returns the light-client-verified DataHash and block hash of
// the block at height. A block not yet served by the primary (gossip can be
// faster than its commit) is retried until headerWait passes.
func (h *Headers) DataHash(ctx context.Context, height int64) (dataHash, blockHash []byte, err error) {
	deadline := time.Now().Add(headerWait)
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		lb, err := h.lc.VerifyLightBlockAtHeight(ctx, height, time.Now())
		if err == nil {
			return lb.DataHash, lb.Hash(), nil
		}
		notYet := errors.Is(err, provider.ErrHeightTooHigh) || errors.Is(err, provider.ErrLightBlockNotFound)
		if !notYet || time.Now().After(deadline) {
			return nil, nil, err
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
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
	return fmt.Sprintf("height %d hash %s", lb.Height, hex.EncodeToString(lb.Hash()))
}

// Verified is a gossiped slice that passed every check, or why it did not.
type Verified struct {
	Slice *weftv1.RollupSlice
	Err   error
}

// FollowGossip subscribes to rollup id's slices on the feed and hands each
// to fn after verifying it against a light-client-verified header: the
// block hash and DataHash match and the items match the commitment item.
func FollowGossip(ctx context.Context, f *p2p.Feed, chainID string, id rollups.ID, headers *Headers, fn func(Verified) error) error {
	sub, err := f.Subscribe(chainID, id)
	if err != nil {
		return err
	}
	defer sub.Cancel()
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var s weftv1.RollupSlice
		v := Verified{Slice: &s}
		if err := proto.Unmarshal(m.Data, &s); err != nil {
			v.Err = fmt.Errorf("undecodable slice from %s: %w", m.ReceivedFrom, err)
		} else if !bytes.Equal(s.RollupId, id[:]) {
			v.Err = fmt.Errorf("slice for another rollup %x", s.RollupId)
		} else if dh, bh, err := headers.DataHash(ctx, s.Height); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			v.Err = fmt.Errorf("header %d: %w", s.Height, err)
		} else if !bytes.Equal(bh, s.BlockHash) {
			v.Err = fmt.Errorf("slice names block %x, verified header is %x", s.BlockHash, bh)
		} else {
			v.Err = rollups.VerifySlice(&s, dh)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
}
