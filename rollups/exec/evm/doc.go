// Package evm is the EVM executor of a Weft rollup: it turns the rollup's
// slice of each committed Weft block into an Ethereum block, using
// go-ethereum's own state transition (core/state, core/vm,
// core.ApplyTransaction) and storage (core/rawdb, triedb, trie).
//
// Rules, fixed here so that every node derives the same chain:
//
//   - One rollup block per Weft height whose slice has at least one item;
//     a height with no items produces no block but is remembered as done.
//   - Each item's data is an RLP list of transactions in their canonical
//     binary encoding (EncodeTxs). Items are applied in slice order, and the
//     transactions of an item in list order.
//   - A transaction that does not decode or cannot be included (wrong chain
//     id, bad nonce, insufficient funds, fee below the base fee, block gas
//     exhausted, blob or set-code type, …) is left out of the block and
//     recorded (Skipped). It never fails the block.
//   - The header carries the Weft block: MixDigest (prevrandao) and
//     ParentBeaconRoot are the Weft block hash, Extra is the Weft height
//     (8 bytes, big-endian), Time is the Weft block time in seconds, never
//     below the parent's.
//   - All forks through Cancun are active from genesis; the chain is
//     post-merge (difficulty 0) with EIP-1559 fees and no blob transactions.
//   - The genesis state is Config.Alloc plus, at every address the alloc
//     does not set, Preinstalls: the OP Stack's preinstalls with the OP
//     Stack's bytecode (preinstalls_gen.go), the EIP-4788 beacon roots
//     contract and Weft's L2 bridge. GenesisRevision numbers that set.
//   - Legacy transactions without EIP-155 replay protection are executed
//     like any other (sender recovered with the Homestead rules); whether
//     to admit them is the RPC's choice, not the executor's.
//
// The package owns its database directory. It must not reach into Weft
// consensus state, choose which slices to run (the driver does), or
// implement any EVM rule itself.
package evm
