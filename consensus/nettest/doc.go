// Package nettest runs a Weft network in one process for tests (testing
// layer 2 of ARCHITECTURE.md): N CometBFT v0.40 validators, each with its
// own consensus.App on its own badger store, wired as node.Node wires a real
// node (app-side mempool, one local ABCI client lock per connection), on
// CometBFT's classic transport over loopback TCP.
//
// Every connection between two nodes goes through a Fabric proxy that the
// test controls per directed link or per group of nodes: cut (close and
// refuse), blackhole (hold the bytes until healed), delay, reset, duplicate
// a chunk. Nodes stop and start again on the same stores. Node.Wrap puts an
// abci.Application around a node's app; HostileProposer makes a validator
// propose hostile blocks (oversized tx, duplicate tx, wrong commitment
// item, write-heavy, garbage). Load submits signed txs from funded genesis
// accounts, keeps every acknowledged one and checks that each commits
// exactly once; Network.CheckAgreement checks that every node has the same
// block and app hash at every height. Every node's ProcessProposal verdicts
// (with the app's reason), FinalizeBlock app hashes and consensus failures
// (an app panic CometBFT recovered) are recorded.
//
// What differs from a real node, and why:
//   - Node i dials only nodes j > i, and advertises a trap address: every
//     byte between nodes must cross the fabric, and an inbound peer is only
//     known by its advertised address (see Fabric).
//   - CometBFT's block and state stores are in memory (kept across
//     restarts), since CometBFT reads its block store after Node.Stop (see
//     Node.dbProvider). The app's badger store, the WAL and the validator
//     sign state are files, on /dev/shm when there is one.
//   - Txs travel between validators on CometBFT's mempool channel (a node
//     without a [feed]); Weft's own libp2p tx topic (p2p.TxGossip), which
//     testnet nodes use, is not run here.
//   - timeout_propose is 1 s, prevote/precommit 200 ms, commit 100 ms.
//
// Set WEFT_NETTEST_LOGS=dir to keep each node's CometBFT and app log, and
// WEFT_TEST_SEED to replay a run's keys and load (not its timing).
//
// Nothing here changes the app's behaviour except what a test wraps it in,
// and nothing here is for production use.
package nettest
