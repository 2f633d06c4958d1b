// Package relay owns the deposit relayer: it credits a rollup's L1
// deposits by ordering them through Weft. Once the L1 block of a
// WeftInbox.DepositInitiated event is finalized, the relayer signs a deposit
// item (with the rollup's deposit_relayer key) and submits it to Weft; it
// re-orders deposits not credited a while after submission. The executor
// credits each nonce once, in order, so re-sending after a timeout or a
// restart is harmless.
//
// It decides which deposits to send and when (batch and inFlight are pure,
// and the clock is injected through Config.Now); it reads L1 through
// rollups/settlement, learns what is credited from the rollup's executor
// (rollups/exec/evm) and builds the Weft tx with rollups/rpc. It does not
// credit deposits (the executor does) and does not construct or start
// itself: the node wires one per rollup with a relayer_key.
package relay
