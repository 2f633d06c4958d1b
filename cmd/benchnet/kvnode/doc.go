// Command kvnode is the baseline node of the benchnet harness: CometBFT
// v0.40 running its own example application (abci/example/kvstore, the
// persistent variant) in-process through node.NewNode with a local ABCI
// client, and CometBFT's own mempool as the home's config.toml selects it
// (benchnet writes "flood"). It reads a standard CometBFT home (config.toml,
// genesis.json, node and validator keys) and runs until SIGINT or SIGTERM.
//
// It holds no logic of its own: it is the stock CometBFT stack, so that the
// harness can compare Weft against CometBFT under the same load.
package main
