// Package exec declares what the node needs from a per-rollup executor: a
// state machine that turns the rollup's slice of each committed Weft block
// into rollup blocks, in Weft height order, and remembers how far it got.
//
// Implementations live in subpackages (exec/evm, …). This package holds only
// the interface and the errors a driver must tell apart; it must not know
// about any one rollup VM, about CometBFT, or about where slices come from.
package exec
