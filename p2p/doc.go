// Package p2p owns Weft's libp2p side: the libp2p peer ids derived from a
// node's CometBFT node key, the settings of CometBFT's libp2p transport
// (bootstrap peers, limits) that carries consensus, and the node's own
// gossipsub host (Feed): the per-rollup slice topics rollup nodes follow,
// the validators' transaction topic (TxGossip), and every gossip peer's
// standing (Standing: per-peer budgets, penalties for invalid messages and
// per useless transaction, bans enforced by a connection gater). It decides nothing about
// validity; consensus and the mempool judge what it carries.
package p2p
