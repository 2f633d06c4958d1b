package feed

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/cometbft/cometbft/light"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"
)

// LinkBack verifies hs, headers of consecutive heights from anchor.Height-1
// downwards, by hash linkage: each header's hash must be the LastBlockID
// hash of the verified header above it (light.VerifyBackwards, which also
// checks the chain id, basic validity and that time goes back). anchor must
// be verified; then so is every header of hs when LinkBack returns nil. A
// header's DataHash is one of the fields its hash commits to, so a header
// with a changed DataHash fails here too.
func LinkBack(anchor *types.Header, hs []*types.Header) error {
	above := anchor
	for _, h := range hs {
		if h == nil {
			return fmt.Errorf("missing header below height %d", above.Height)
		}
		if h.Height != above.Height-1 {
			return fmt.Errorf("header of height %d where %d was expected", h.Height, above.Height-1)
		}
		if err := light.VerifyBackwards(h, above); err != nil {
			return fmt.Errorf("header %d does not link to verified header %d: %w", h.Height, above.Height, err)
		}
		above = h
	}
	return nil
}

// maxMetas is how many block metas CometBFT's /blockchain returns at most.
const maxMetas = 20

// headersFromMetas returns the headers of heights hi down to lo from a
// /blockchain answer, which lists them newest first. The block hashes the
// answer claims are ignored: LinkBack hashes each header itself.
func headersFromMetas(res *ctypes.ResultBlockchainInfo, lo, hi int64) ([]*types.Header, error) {
	if res == nil || int64(len(res.BlockMetas)) != hi-lo+1 {
		n := 0
		if res != nil {
			n = len(res.BlockMetas)
		}
		return nil, fmt.Errorf("asked for headers %d..%d, got %d", lo, hi, n)
	}
	hs := make([]*types.Header, len(res.BlockMetas))
	for i, m := range res.BlockMetas {
		if m == nil || m.Header.Height != hi-int64(i) {
			return nil, fmt.Errorf("headers %d..%d: entry %d is not height %d", lo, hi, i, hi-int64(i))
		}
		hs[i] = &m.Header
	}
	return hs, nil
}

// HeaderChain holds the headers a follower has verified, by height: those
// the light client verified and those linked back from them (LinkBack). It
// keeps at most limit headers, dropping the lowest heights first, and does
// no I/O. Not safe for concurrent use.
type HeaderChain struct {
	limit   int
	heights []int64 // ascending
	headers map[int64]*types.Header
}

// NewHeaderChain returns an empty chain holding at most limit headers.
func NewHeaderChain(limit int) *HeaderChain {
	return &HeaderChain{limit: max(limit, 1), headers: map[int64]*types.Header{}}
}

// Len is how many headers the chain holds.
func (c *HeaderChain) Len() int { return len(c.heights) }

// Header returns the verified header of height, if held.
func (c *HeaderChain) Header(height int64) (*types.Header, bool) {
	h, ok := c.headers[height]
	return h, ok
}

// Above returns the held header of the lowest height at or above height:
// the one to link back from to reach height.
func (c *HeaderChain) Above(height int64) (*types.Header, bool) {
	i, _ := slices.BinarySearch(c.heights, height)
	if i == len(c.heights) {
		return nil, false
	}
	return c.headers[c.heights[i]], true
}

// Add holds h, which the light client or LinkBack verified. It fails, and
// holds nothing, when h contradicts a held header: another header of the
// same height, or a held neighbour it does not link to. Two verified
// headers cannot disagree unless the light client was deceived, so that is
// an error to report, never to paper over.
func (c *HeaderChain) Add(h *types.Header) error {
	hash := h.Hash()
	if held, ok := c.headers[h.Height]; ok {
		if !bytes.Equal(held.Hash(), hash) {
			return fmt.Errorf("verified headers of height %d disagree: %X and %X", h.Height, held.Hash(), hash)
		}
		return nil
	}
	if below, ok := c.headers[h.Height-1]; ok && !bytes.Equal(h.LastBlockID.Hash, below.Hash()) {
		return fmt.Errorf("verified header %d names previous block %X, verified header %d is %X", h.Height, h.LastBlockID.Hash, below.Height, below.Hash())
	}
	if above, ok := c.headers[h.Height+1]; ok && !bytes.Equal(above.LastBlockID.Hash, hash) {
		return fmt.Errorf("verified header %d names previous block %X, verified header %d is %X", above.Height, above.LastBlockID.Hash, h.Height, hash)
	}
	i, _ := slices.BinarySearch(c.heights, h.Height)
	c.heights = slices.Insert(c.heights, i, h.Height)
	c.headers[h.Height] = h
	for len(c.heights) > c.limit {
		delete(c.headers, c.heights[0])
		c.heights = c.heights[1:]
	}
	return nil
}
