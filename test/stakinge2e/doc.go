// Package stakinge2e holds the multi-process end-to-end tests of staking
// (testing layer 3 of the architecture): a local network written with
// `weft testnet` and small staking windows, each validator a `weft start`
// process on loopback, extra nodes built next to it (a fifth validator, a
// second process signing with an existing validator's key). The tests drive
// it through the staking CLI, the node API and CometBFT's RPC, and check
// that a new validator joins the set and signs blocks and leaves it when its
// stake drops below the minimum, that a double-signer's evidence is
// committed and it is slashed, tombstoned and removed, that an offline
// validator is jailed after the signing window and rejoins with Unjail, and
// that bad staking input is refused with its own result code.
//
// The package holds no non-test code; the process and network harness it
// shares with the other multi-process tests is test/e2e/nettest. The tests
// build the weft binary once (TestMain), give every network its own block
// of ports (nettest.Ports: no other test on the machine holds it, so the
// packages run in parallel), wait only on conditions with deadlines, and
// kill every process they start in t.Cleanup. Each node's output goes to
// <home>/test.log; a failing test prints the tail of each. They are skipped
// with -short.
package stakinge2e
