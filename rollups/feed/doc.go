// Package feed delivers each rollup's slice of every committed Weft block, in
// height order, with its proof: to in-process subscribers (executors) and,
// through the node API stream, to remote followers that verify every slice.
// It reads committed blocks through Source; it never reaches into consensus
// state. A follower outside the validator set (FollowGossip) checks each
// slice against its block's header as Headers verifies it: CometBFT's light
// client for a recent header, hash linkage back from it for the ones below
// (LinkBack and HeaderChain, which do no I/O).
package feed
