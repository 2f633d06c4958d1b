// Package txmgr is Weft's L1 transaction manager. Its pure core (txmgr.go)
// holds the rules for the fees of a new tx, of a replacement at the same
// nonce (fee bumps) and of a cancel, when a tx in flight is due for a bump,
// and the queue of txs in flight at consecutive nonces; it does no I/O and
// reads no clock: the caller passes the current fee suggestion and `now`,
// so every rule is driven step by step in tests.
//
// Around that core: Sender (send.go) sends one tx and sees it mined,
// replacing it while it waits (the CLI, the challenger, the devnet's
// funding); the batcher's driver (rollups/batcher) keeps many txs in
// flight, blob txs included, over the same rules.
package txmgr
