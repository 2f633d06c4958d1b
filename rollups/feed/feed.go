package feed

import (
	"context"
	"fmt"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
)

// Source is a node's committed chain as the feed reads it.
type Source interface {
	// Committed is the last committed height.
	Committed() int64
	// CommitNotify returns a channel closed at the next commit.
	CommitNotify() <-chan struct{}
	// Slice returns rollup id's slice of committed block height, with proof.
	Slice(height int64, id rollups.ID) (*weftv1.RollupSlice, error)
}

// Follow calls fn with rollup id's slice of every committed block from
// height from on (backfill, then live), in order, until ctx ends (nil) or
// Slice or fn fails (that error).
func Follow(ctx context.Context, src Source, id rollups.ID, from int64, fn func(*weftv1.RollupSlice) error) error {
	h := max(from, 1)
	for {
		next := src.CommitNotify()
		for committed := src.Committed(); h <= committed; h++ {
			if ctx.Err() != nil {
				return nil
			}
			s, err := src.Slice(h, id)
			if err != nil {
				return fmt.Errorf("slice of rollup %s at height %d: %w", id, h, err)
			}
			if err := fn(s); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-next:
		}
	}
}
