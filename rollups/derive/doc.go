// Package derive is the rollup verifier: it rebuilds an EVM rollup's state
// from L1 data alone — the batches in the rollup's WeftInbox and the
// deposits it recorded — with no Weft node, checks every posted state root
// and every deposit credit against L1, reports the first mismatch, and can
// challenge the faulty batch (WeftInbox.deleteBatches).
//
// Deriver is the core: fed posted batches in index order, it decodes each
// batch's frames (rollups/batcher's codec), replays its Weft heights through
// a fresh go-ethereum executor (rollups/exec/evm) and compares roots. Verify
// drives it from an L1 JSON-RPC endpoint.
package derive
