// Package rpc serves a rollup's standard Ethereum JSON-RPC (go-ethereum's
// rpc server, HTTP and WebSocket on one port) over the rollup's EVM
// executor, so wallets, ethers and ethclient work unchanged. Transactions
// sent with eth_sendRawTransaction are checked like geth's txpool checks
// them (same error texts), then packed many per Weft transaction by the
// Submitter and ordered by Weft.
//
// Block tags: "latest" and "pending" are the soft head (included in a
// committed Weft block). "safe" and "finalized" mean posted to and final on
// L1; until the L1 settlement layer exists they stay at the genesis block.
package rpc
