// Package txcodec is what a client of Weft needs to write a transaction and
// read the chain's answer, and nothing else: the signature domain and
// Sign, the tx hash (TxHash), the result codes with their names and
// classes (Retryable, PeerFault) and Rejection. It imports no consensus
// state, no storage and no CometBFT, so SDKs and the rollup RPC
// (client, rollups/rpc) depend on it rather than on consensus, which
// decodes and applies txs (consensus.DecodeTx) under these same codes.
package txcodec
