// Package devnet owns the local networks Weft runs for development and
// tests, built on package node (which never imports it).
//
// The devnet (Run, for `make devnet` and `weft devnet`): a local network of
// validators, each a `weft start` child process, with the genesis rollups
// served by node0 and settled on an L1, by default the embedded one
// (SetupSettlement) whose chain is kept in the devnet directory. devnet.json
// (State) marks that directory and lets a later run resume it where the
// last one stopped; endpoints.json (Endpoints) lists what is running.
//
// Testnet generation (GenerateTestnet, for `weft testnet` and the e2e
// harnesses): one home per validator with its keys, one shared genesis
// with funded development accounts and rollup submitters, transport peers
// and rollup feed peers, and the manifest testnet.json (Manifest).
package devnet
