// Package settlement owns a rollup's relationship with its L1 settlement
// contracts (contracts/src: WeftRegistry, WeftInbox, WeftL2Bridge):
//
//   - the embedded L1 (StartL1): go-ethereum's simulated backend serving
//     standard JSON-RPC, with a pausable block producer, for devnets and tests;
//   - deployment (Deploy, Attach): the registry, one inbox per rollup, and the
//     JSON-serialisable Deployment the devnet writes to endpoints.json;
//   - typed read access to an inbox over any Ethereum JSON-RPC endpoint
//     (Inbox): views, the current list of posted batches with their frames
//     rebuilt from logs and transactions (blob frames through a BlobSource,
//     such as BeaconBlobSource over a consensus client's beacon API),
//     deposits in nonce order;
//   - calldata for the batcher's and challenger's transactions
//     (PackAppendFrame, PackPostBatch, PackDeleteBatches, …) and decoding of
//     the contracts' custom-error reverts (DecodeRevert, ContractError);
//   - withdrawals: proofs of the bridge's sentWithdrawals slot, from a rollup's
//     eth_getProof (ProveWithdrawal) or straight from a go-ethereum state
//     (ProofFromState, which a rollup RPC's eth_getProof can return as is),
//     and their finalization on L1 (FinalizeWithdrawal).
//
// It does not decide what to post or when (rollups/batcher), nor relay
// deposits to the rollup (rollups/relay), nor whether a posted root is right
// (rollups/derive); it holds no keys beyond those passed to it and does not
// manage nonces or fee bumping for a long-running sender.
// Frames must be posted by direct calls to the inbox (not through another
// contract), since frame bytes are recovered from the transaction's input.
package settlement
