// Package rollups owns what Weft knows per rollup that every party shares:
// how a rollup id is derived from its name, how a block commits to each
// rollup's data items (the commitment item, first transaction of every
// block), and the function a rollup node uses to verify its slice of a block
// against that commitment and the block header.
//
// It is pure (no I/O, no clocks) so consensus, rollup nodes and remote
// followers all run the same code. It must not reach into consensus state.
package rollups
