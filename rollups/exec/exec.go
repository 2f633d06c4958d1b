package exec

import (
	"errors"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// Executor executes one rollup's slices of committed Weft blocks.
//
// Execute is called by a single driver goroutine; read methods of an
// implementation may be called concurrently with it.
type Executor interface {
	// Execute applies the rollup's slice of one Weft block. Heights must be consecutive
	// from LastWeftHeight()+1; a slice for an already executed height is a no-op.
	Execute(s *weftv1.RollupSlice) error
	// LastWeftHeight is the last Weft height whose slice was executed and
	// persisted (0 before the first).
	LastWeftHeight() int64
	// Close releases the executor's storage. Execute fails after Close.
	Close() error
}

// Errors a driver acts on. Implementations wrap them with %w; anything else
// returned by Execute is critical: the executor has stopped and must be
// reopened (it resumes from the last persisted height).
var (
	// ErrHeightGap: the slice is not for LastWeftHeight()+1. Nothing was
	// applied; the driver re-streams from LastWeftHeight()+1.
	ErrHeightGap = errors.New("slice height is not the next Weft height")
	// ErrInvalidSlice: the slice is malformed or belongs to another rollup.
	// Nothing was applied.
	ErrInvalidSlice = errors.New("invalid rollup slice")
	// ErrClosed: the executor was closed.
	ErrClosed = errors.New("executor closed")
)
