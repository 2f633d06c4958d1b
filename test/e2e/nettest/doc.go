// Package nettest is the process/network harness shared by Weft's
// multi-process tests (test/e2e, test/rollupe2e, test/stakinge2e,
// test/devnete2e): it builds the weft binary once per test binary, runs
// `weft start` processes with their output captured in a log file (and, on
// Linux, the parent-death signal set so none outlives the test binary),
// stops, kills and watches them, waits on conditions with deadlines, gives
// each test a block of ports no other test on the machine holds (Ports, so
// the e2e packages run in parallel) and dumps log tails when a test fails.
//
// It knows nothing of rollups, staking or slices: those helpers stay in the
// test packages.
package nettest
