// Package devnete2e tests `weft devnet` across restarts, and the README's
// commands against a devnet as written (testing layer 3):
// devnet.Run runs in the test process, as the command does, with its
// validators as `weft start` processes of a weft binary TestMain builds
// once, its embedded L1 in the test process, every port on loopback and
// chosen free. Skipped with -short.
package devnete2e
