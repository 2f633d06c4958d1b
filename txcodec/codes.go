package txcodec

// Result codes of rejected transactions. They are returned in CheckTx,
// InsertTx, ExecTxResult and by the node API; 0 is success.
const (
	CodeOK                uint32 = 0
	CodeMalformed         uint32 = 1  // bytes do not decode as a SignedTx/TxBody
	CodeBadSignature      uint32 = 2  // signature missing, malformed or not recoverable
	CodeWrongChainID      uint32 = 3  // body.chain_id is not this chain's
	CodeNonceTooLow       uint32 = 4  // nonce already used (replay)
	CodeNonceGap          uint32 = 5  // nonce ahead of the next expected one
	CodeInsufficientFunds uint32 = 6  // balance does not cover fee limit + transfers
	CodeTxTooLarge        uint32 = 7  // encoded tx exceeds params.max_tx_bytes
	CodeUnknownRollup     uint32 = 8  // rollup data for a rollup that is not registered
	CodeInvalidAction     uint32 = 9  // an action is malformed (empty, bad address, bad name...)
	CodeFeeTooLow         uint32 = 10 // fee limit below the fee the tx costs
	CodeRollupExists      uint32 = 11 // RegisterRollup for a name already taken
	CodeMempoolFull       uint32 = 12 // the mempool is at its cap; retry later
	CodeAlreadyKnown      uint32 = 13 // the same tx is already pending
	CodeNoncePending      uint32 = 14 // retired: a tx with a pending nonce is now a replacement (CodeReplacementUnderpriced)
	CodeReservedTx        uint32 = 15 // a commitment item outside position 0
	CodeNotFound          uint32 = 16 // no such validator or delegation
	CodeValidatorExists   uint32 = 17 // CreateValidator for a consensus key already in use
	CodeStakeTooLow       uint32 = 18 // self stake below params.staking.min_self_stake
	CodeUnauthorized      uint32 = 19 // only the validator's operator may do this
	CodeInvalidState      uint32 = 20 // not jailed, still jailed, tombstoned...
	CodeExceedsDelegation uint32 = 21 // undelegating more than the delegation is worth
	// CodeReplacementUnderpriced: a tx with the sender and nonce of a
	// pending one whose fee is not at least mempool.Config.PriceBump
	// percent higher.
	CodeReplacementUnderpriced uint32 = 22
	// CodeNonceTooFarAhead: the nonce is further past the sender's next
	// nonce than the mempool parks (mempool.Config.MaxNonceAhead); retry
	// once the earlier nonces are in.
	CodeNonceTooFarAhead uint32 = 23
	// CodeTooManyParked: the sender already has the most txs the mempool
	// keeps waiting for an earlier nonce; retry once the gap is filled.
	CodeTooManyParked uint32 = 24
	// CodeGossipTopicOnly: InsertTx refuses txs from CometBFT's mempool
	// channel because this node takes peers' txs only on Weft's gossip
	// topic, where each peer's standing is kept (consensus.App.SetPeerTxsOnTopic).
	CodeGossipTopicOnly uint32 = 25
	// CodeNotAccepting: the node takes no new txs for now (it is out of
	// disk space and stopping, see consensus.App.SetAdmission); submit elsewhere.
	CodeNotAccepting uint32 = 26
)

// CodeName returns a short stable name for a code.
func CodeName(code uint32) string {
	switch code {
	case CodeOK:
		return "ok"
	case CodeMalformed:
		return "malformed"
	case CodeBadSignature:
		return "bad_signature"
	case CodeWrongChainID:
		return "wrong_chain_id"
	case CodeNonceTooLow:
		return "nonce_too_low"
	case CodeNonceGap:
		return "nonce_gap"
	case CodeInsufficientFunds:
		return "insufficient_funds"
	case CodeTxTooLarge:
		return "tx_too_large"
	case CodeUnknownRollup:
		return "unknown_rollup"
	case CodeInvalidAction:
		return "invalid_action"
	case CodeFeeTooLow:
		return "fee_too_low"
	case CodeRollupExists:
		return "rollup_exists"
	case CodeMempoolFull:
		return "mempool_full"
	case CodeAlreadyKnown:
		return "already_known"
	case CodeNoncePending:
		return "nonce_pending"
	case CodeReservedTx:
		return "reserved_tx"
	case CodeNotFound:
		return "not_found"
	case CodeValidatorExists:
		return "validator_exists"
	case CodeStakeTooLow:
		return "stake_too_low"
	case CodeUnauthorized:
		return "unauthorized"
	case CodeInvalidState:
		return "invalid_state"
	case CodeExceedsDelegation:
		return "exceeds_delegation"
	case CodeReplacementUnderpriced:
		return "replacement_underpriced"
	case CodeNonceTooFarAhead:
		return "nonce_too_far_ahead"
	case CodeTooManyParked:
		return "too_many_parked"
	case CodeNotAccepting:
		return "not_accepting"
	case CodeGossipTopicOnly:
		return "gossip_topic_only"
	}
	return "unknown"
}

// Retryable reports whether resubmitting the same tx later may succeed.
func Retryable(code uint32) bool {
	switch code {
	case CodeMempoolFull, CodeNonceGap, CodeNonceTooFarAhead, CodeTooManyParked:
		return true
	}
	return false
}

// PeerFault reports whether a tx rejected with code can never become valid
// whatever the state: its bytes are malformed, its signature is wrong, it is
// for another chain or breaks a fixed limit. A peer that relays such a tx
// misbehaves (honest nodes only relay txs they accepted).
func PeerFault(code uint32) bool {
	switch code {
	case CodeMalformed, CodeBadSignature, CodeWrongChainID, CodeTxTooLarge, CodeInvalidAction, CodeReservedTx:
		return true
	}
	return false
}

// Rejection is why a transaction is invalid: a result code and a readable log.
type Rejection struct {
	Code uint32
	Log  string
}

func (r *Rejection) Error() string { return CodeName(r.Code) + ": " + r.Log }

// Reject returns a Rejection with code and log.
func Reject(code uint32, log string) *Rejection { return &Rejection{Code: code, Log: log} }
