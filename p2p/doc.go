// Package p2p owns Weft's libp2p identity and peer configuration: the libp2p
// peer id derived from a node's CometBFT node key, and the settings of
// CometBFT's libp2p transport (bootstrap peers, limits) that carry consensus
// and app-mempool gossip between validators. It decides nothing about
// validity; that is consensus' and the mempool's job.
package p2p
