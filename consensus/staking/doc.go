// Package staking is Weft's validator set as a pure state transition:
// validators created by staking, delegation and unbonding, reward payout
// (fees plus an optional block reward, split by stake and signed votes, then
// commission and pro-rata delegator shares, paid lazily), downtime jailing
// and double-sign slashing with tombstoning, and the active set (top stakes)
// with the validator updates CometBFT must apply.
//
// It reads and writes only through the KV and Bank it is given (the block's
// state overlay), does no I/O and reads no clock: heights, and the block
// times consensus passes to BeginBlockAt, are its time. It knows no CometBFT
// types: consensus/ converts votes, evidence and updates. Every record is
// its own key, read by exact key, so what an action or a block writes is
// bounded whatever the number of delegators and unbonding entries (see
// state.go, rewards.go, unbonding.go). All arithmetic is on integers; every
// remainder is kept in the reward pool or a validator's outstanding
// rewards, so balances + bonded + unbonding + pool + outstanding rewards
// always equals the supply.
package staking
