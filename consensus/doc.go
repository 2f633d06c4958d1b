// Package consensus is Weft's ABCI 2.0 application on CometBFT v0.40: it
// validates transactions, serves the app-side mempool (CheckTx, InsertTx,
// ReapTxs), builds and checks blocks (PrepareProposal writes the commitment
// item first; ProcessProposal re-executes and recomputes it), applies the
// state transition (fees, nonces, balances, rollup registry) in
// FinalizeBlock, and writes each block's state in one badger transaction in
// Commit.
//
// It does no I/O beyond its badger store and never reads the wall clock:
// block time comes from CometBFT.
package consensus
