// Package staking is Weft's validator set as a pure state transition:
// validators created by staking, delegation and unbonding, reward payout
// (fees plus an optional block reward, split by stake and signed votes, then
// commission and pro-rata delegator shares), downtime jailing and
// double-sign slashing with tombstoning, and the active set (top stakes)
// with the validator updates CometBFT must apply.
//
// It reads and writes only through the KV and Bank it is given (the block's
// state overlay), does no I/O, reads no clock (heights are its time) and
// knows no CometBFT types: consensus/ converts votes, evidence and updates.
// All arithmetic is on integers; every remainder is kept in the reward pool,
// so balances + bonded + unbonding + pool always equals the supply.
package staking
