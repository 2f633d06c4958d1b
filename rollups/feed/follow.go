package feed

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/p2p"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

// Verified is a gossiped slice that passed every check, or why it did not.
type Verified struct {
	Slice *weftv1.RollupSlice
	Err   error
}

// CheckSlice verifies s against h, the verified header of its block: same
// height and block hash, and items that match the commitment item proven
// against h's DataHash.
func CheckSlice(s *weftv1.RollupSlice, h *types.Header) error {
	if s.Height != h.Height {
		return fmt.Errorf("slice of height %d checked against header %d", s.Height, h.Height)
	}
	if bh := h.Hash(); !bytes.Equal(bh, s.BlockHash) {
		return fmt.Errorf("slice names block %x, verified header is %x", s.BlockHash, []byte(bh))
	}
	return rollups.VerifySlice(s, h.DataHash)
}

// FollowGossip subscribes to rollup id's slices on the feed and hands each
// to fn, in arrival order, after verifying it with CheckSlice against its
// block's header as verified by headers.
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
		} else if hd, err := headers.Header(ctx, s.Height); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			v.Err = fmt.Errorf("header %d: %w", s.Height, err)
		} else {
			v.Err = CheckSlice(&s, hd)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
}
