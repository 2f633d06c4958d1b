// Package txmgr is the pure core of Weft's L1 transaction manager: the
// rules for the fees of a new tx, of a replacement at the same nonce (fee
// bumps) and of a cancel, when a tx in flight is due for a bump, and the
// queue of txs in flight at consecutive nonces. It does no I/O and reads
// no clock: the caller passes the current fee suggestion and `now`, so
// every rule is driven step by step in tests. The batcher's driver
// (rollups/batcher) signs, sends and watches receipts around it.
package txmgr
