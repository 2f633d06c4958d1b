// Package batcher turns a rollup's Weft heights into L1 batches.
//
// It owns the batch wire format (weftv1.BatchData, compressed into a
// payload: version byte, algorithm byte, zstd or brotli stream), its
// strict decoder for bytes read back from L1, the split of a payload into
// frames of at most MaxFrameSize bytes (one L1 tx each), the encoding of a
// frame into one EIP-4844 blob (EncodeBlob, DecodeBlob) and the calldata
// frame commitment the L1 inbox records, and the Builder: the pure core
// that cuts consecutive heights into batches (by compressed size or age),
// picks the smaller compression, and hands out frames one at a time in
// order, tracking confirmations, failures, L1 reorgs, inbox rewinds and
// finalization, with a small snapshot for restarts.
//
// It must not do I/O, start goroutines or read the clock: the driver that
// talks to the executor and to L1 (rollups/settlement) passes time in and
// sends what NextTx returns. It does not execute rollup blocks; state roots
// come from the executor with each Block.
package batcher
