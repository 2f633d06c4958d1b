// Package node is Weft's composition root. It lays out a node's home
// directory (CometBFT config, genesis, keys, Weft settings), builds the
// CometBFT v0.40 node in-process with the Weft application behind a local
// ABCI client and the libp2p transport on by default, serves the Weft node
// API (gRPC) and Prometheus metrics, and owns Start/Stop. It wires; it does
// not implement protocol rules. Local networks of nodes (the devnet, and
// testnet generation) are package devnet's.
//
// What it runs lives elsewhere: it constructs and starts each settled
// rollup's batcher (rollups/batcher) and deposit relayer (rollups/relay),
// reads key files through package keys, and its Go API client is package
// client.
package node
