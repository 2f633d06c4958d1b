// Package mempool is Weft's app-side mempool. Pool is the pure policy core:
// per-account nonce queues with a ready run (consecutive nonces from the
// committed one) and parked txs waiting for a gap to be filled (bounded in
// distance and count per sender, and in count pool-wide, the cheapest and
// oldest evicted first: parked txs are never paid for), replacement of a
// pending nonce only by a fee at least PriceBump percent higher and only so
// many times between two of the sender's commits, a sender's pending txs'
// summed cost covered by its balance (ErrCannotPay when even the fee is
// not), Restore for txs acknowledged before a restart (past the parking
// bounds), block order by the fee actually charged per byte with
// per-rollup weighted fair shares (bundles whole, charged to every rollup
// they carry), TTL expiry, global count and byte caps that
// evict the lowest-priority tails first (never leaving a nonce hole) or
// refuse the newcomer with ErrFull, re-validation against committed state
// after every block, and a gossip queue of txs submitted to this node.
// Inserts and removals are O(log n) (heaps with indexes). It has no
// goroutines and no I/O, and time is an argument: the application passes
// the last committed block's time. Mempool is the thin thread-safe wrapper
// the ABCI application drives.
//
// The mempool knows transactions only as Tx (hash, sender, nonce, cost,
// fee, size, rollup bytes); validity rules beyond nonce and balance belong
// to consensus/, and it must not know CometBFT types beyond the requests it
// serves.
package mempool
