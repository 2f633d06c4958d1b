// Package rollupe2e holds the multi-process end-to-end tests of Weft's EVM
// rollups (testing layer 3 of the architecture), seen from the outside as a
// rollup user sees them: a local network written with `weft testnet
// --rollup-rpc-port`, each validator a `weft start` process on loopback, and
// node0 serving every rollup's standard Ethereum JSON-RPC (HTTP and
// WebSocket). The tests talk to it with go-ethereum's ethclient, abigen v2
// bindings, ethers.js, weft_sendBundle and the weft CLI, and check contract
// deployment and calls, logs and subscriptions, rollup isolation,
// cross-rollup bundles landing at one Weft height, geth-compatible rejection
// of bad raw transactions, no loss of accepted transactions, and identical
// rollup state roots on two nodes after one is killed with SIGKILL.
//
// The package holds no non-test code; the process and network harness it
// shares with the other multi-process tests is test/e2e/nettest. The tests
// build the weft binary once (TestMain), give every network its own block
// of ports (nettest.Ports: no other test on the machine holds it, so the
// packages run in parallel), wait only on conditions with deadlines, and
// kill every process they start in t.Cleanup. Each node's output goes to
// <home>/test.log; a failing test prints the tail of each. They are skipped
// with -short.
package rollupe2e
