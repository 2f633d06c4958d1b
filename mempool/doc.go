// Package mempool is Weft's app-side mempool. Pool is the pure policy core:
// per-account queues of consecutive nonces, kept in arrival (FIFO) order for
// block building, with global count and byte caps, re-validation against
// committed state after every block, and a gossip queue of newly accepted
// transactions. It has no goroutines, no clock and no I/O. Mempool is the
// thin thread-safe wrapper the ABCI application drives.
//
// The mempool knows transactions only as Tx (hash, sender, nonce, cost,
// size); validity rules beyond nonce and balance belong to consensus/, and it
// must not know CometBFT types beyond the requests it serves.
package mempool
