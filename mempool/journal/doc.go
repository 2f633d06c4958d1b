// Package journal owns what the node remembers about the txs it
// acknowledged, across restarts and outside the app hash:
//
//   - the journal: every tx this node acknowledged to a client, kept until a
//     block commits it or it can no longer be included, so that a crash or a
//     restart never loses an acknowledged tx (the node restores them all into
//     the mempool on start);
//   - the dropped-reason index: why a once-accepted tx left the mempool
//     unincluded, a queue bounded by a count, oldest evicted first, so a
//     client asking for a tx's status gets an answer after a restart too.
//
// Both live in the node's badger store under their own prefixes. The block
// commit deletes a committed tx's journal entry in the block's own write
// (Key gives the key; Committed says which), so an acknowledged tx leaves
// the journal exactly when its block is durable.
package journal
