package feed

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/proto"

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

// Gossip is one rollup's slices as they arrive on the gossip feed, each
// with the peer that relayed it: p2p.Feed.Slices. (An interface, so the
// feed's checks do not pull in the libp2p host.)
type Gossip interface {
	Next(ctx context.Context) (data []byte, from string, err error)
}

// FollowGossip hands each slice of rollup id that g yields to fn, in
// arrival order, after verifying it with CheckSlice against its block's
// header as verified by headers.
func FollowGossip(ctx context.Context, g Gossip, id rollups.ID, headers *Headers, fn func(Verified) error) error {
	for {
		data, from, err := g.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var s weftv1.RollupSlice
		v := Verified{Slice: &s}
		if err := proto.Unmarshal(data, &s); err != nil {
			v.Err = fmt.Errorf("undecodable slice from %s: %w", from, err)
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
