// Package uie2e tests the network page in a real browser (testing layer
// 3): a devnet of four validators and two rollups settling on the embedded
// L1 runs in the test process (devnet.Run, validators as `weft start`
// processes of a binary TestMain builds), and headless Chromium driven by
// chromedp loads node0's page, checks what it shows, watches it refresh
// itself, saves a screenshot and fails on any console error. It needs
// Debian's chromium package (`make test` installs it); without it the test
// skips and says so. Skipped with -short.
package uie2e
