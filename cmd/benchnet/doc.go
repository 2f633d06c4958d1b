// Command benchnet measures Weft against CometBFT's own mempool under the
// same load, on one machine, over loopback. `make bench` runs it.
//
// It builds the weft binary and a baseline binary (./kvnode: CometBFT v0.40
// running its example kvstore application in-process, with the default flood
// mempool and the classic transport unless -kv-libp2p is set), starts four
// validators of each in turn, and drives both with one open-loop load
// generator: 250-byte transactions at a rising rate, round-robin over the
// nodes' CometBFT RPC (broadcast_tx_async), each step pre-built before its
// clock starts. Weft transactions are individually signed, each with one
// RollupData action spread over eight rollups, from fresh accounts funded in
// genesis; kvstore transactions are unique key=value pairs. Submit→commit
// latency is measured at the client: the wall-clock send time of every tx
// hash against the arrival of the NewBlock event (websocket, node0) that
// holds it.
//
// A step saturates when its p99 is above 1 s (-p99-limit), when less than
// 90% of the offered rate commits, or when over 1% of its txs never commit;
// the highest step that did not saturate is the knee. Stepping stops at the
// first step whose throughput fails; a step saturated by latency alone lets
// stepping go on while its p99 stays under -stop-p99 (2 s; set it to 1 s for
// the strict rule), so that each system's throughput capacity is found too.
// Every step uses fresh senders (nonce 0), so a saturated step cannot leave
// nonce gaps behind for the next. At the knee and at capacity it reports
// committed tx/s (whole blocks arriving in the measured window), MB/s,
// p50/p99 latency, CPU-seconds per 1,000 txs (utime+stime of the four node
// processes over the window), peak RSS per node (VmHWM), and how much CPU
// other processes used meanwhile (the figures assume an otherwise idle
// machine); then p50 at half of Weft's knee load. For Weft's uncommitted
// txs it asks the entry node's API what became of a sample. Each step also
// prints node0's mean time per ABCI call (PrepareProposal, ProcessProposal,
// FinalizeBlock, Commit, CheckTx) and per consensus step, from CometBFT's
// Prometheus histograms over the window, to show where a block interval
// goes (phases_ms_node0 in the JSON), and for Weft what node0's gossip took
// in: messages validated and duplicates dropped (gossip_node0). -pprof prints the
// top of node0's CPU profile in Weft's last tx-mode step. The batched mode submits 64 KiB RollupData payloads
// to Weft and reports MB/s of rollup data ordered; it submits through Weft's
// node API (SubmitTx, as a rollup batcher does) and learns commits from
// NewBlockHeader events plus GetBlock's tx hashes, so neither side encodes
// multi-MB JSON (-batch-submit jsonrpc uses the tx mode's JSON-RPC path).
// The kvstore baseline is then ramped with txs of the same size (over
// CometBFT's JSON-RPC, its only path; -batch-baseline=false skips it), to
// show how much data a plain CometBFT chain orders on the same machine.
// Every step takes a CPU profile of every validator over its measured
// window (-budget) and attributes each sample to a component (attribute.go)
// to print a CPU budget in CPU-µs per tx and CPU-ns per byte, next to
// floors measured at the start on one core: secp256k1 recoveries, sha256
// and memcpy bytes per second.
// Everything is written as JSON to -out.
//
// It is a benchmark, not a test: it prints figures and ratios and asserts
// nothing. It owns its child processes: all of them are killed when it ends,
// on Ctrl-C, or when -timeout expires. Linux only (it reads /proc).
package main
