// Package e2e holds Weft's multi-process end-to-end tests (testing layer 3
// of the architecture): each test writes a local network with
// `weft testnet`, runs every validator as its own `weft start` process on
// loopback, drives it through the node API, the CLI and CometBFT's RPC, and
// checks ordering, bundle atomicity, crash recovery, sync from genesis and
// the rejection of bad input.
//
// The package holds no non-test code; the process and network harness it
// shares with the other multi-process tests is test/e2e/nettest. The tests
// build the weft binary once (TestMain), give every network its own block
// of ports (nettest.Ports: no other test on the machine holds it, so the
// packages run in parallel), wait only on conditions with deadlines, and
// kill every process they start in t.Cleanup. Each node's output goes to
// <home>/test.log; a failing test prints the tail of each. They are skipped
// with -short.
package e2e
