package ui

import (
	"math/big"
	"strings"
	"time"

	"github.com/weftnet/weft/format"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// View is a snapshot with every value as a person reads it: EIP-55
// addresses, 0x-hex, decimal amounts with their unit, RFC 3339 times and
// short durations. It is the JSON of `weft status --output json` and of
// the page's /api/status, and what the text screen and the page show.
type View struct {
	ChainID   string `json:"chain_id"`
	Moniker   string `json:"node_moniker"`
	NodeID    string `json:"node_id"`
	Height    int64  `json:"height"`
	BlockTime string `json:"block_time"`
	BlockAge  string `json:"block_age"`
	Interval  string `json:"block_interval"`
	// IntervalBlocks is how many intervals Interval averages.
	IntervalBlocks int32           `json:"block_interval_over"`
	CatchingUp     bool            `json:"catching_up"`
	MempoolTxs     int64           `json:"mempool_txs"`
	Collected      string          `json:"collected_at"`
	SigningWindow  int64           `json:"signed_blocks_window"`
	MaxMissed      int64           `json:"max_missed_blocks"`
	Validators     []ValidatorView `json:"validators"`
	// MoreValidators counts the validators left out (a view shows at most
	// MaxValidators).
	MoreValidators int           `json:"more_validators,omitempty"`
	Rollups        []RollupView  `json:"rollups"`
	Warnings       []WarningView `json:"warnings"`
}

// ValidatorView is one validator.
type ValidatorView struct {
	Moniker      string `json:"moniker"`
	Operator     string `json:"operator"`
	Address      string `json:"consensus_address"`
	Stake        string `json:"stake"`
	StakeRaw     string `json:"stake_raw"`
	Power        int64  `json:"power"`
	MissedBlocks uint32 `json:"missed_blocks"`
	RecentMissed uint32 `json:"recent_missed"`
	RecentBlocks uint32 `json:"recent_blocks"`
	Jailed       bool   `json:"jailed"`
	JailedUntil  int64  `json:"jailed_until_height,omitempty"`
	Tombstoned   bool   `json:"tombstoned,omitempty"`
	// State is "active", "inactive", "jailed" or "tombstoned".
	State string `json:"state"`
}

// RollupView is one rollup the node serves.
type RollupView struct {
	Name                string          `json:"name"`
	ID                  string          `json:"id"`
	EVMChainID          uint64          `json:"evm_chain_id"`
	RPCURL              string          `json:"rpc_url,omitempty"`
	WeftHeight          int64           `json:"weft_height"`
	Latest              uint64          `json:"latest_block"`
	Safe                uint64          `json:"safe_block"`
	Finalized           uint64          `json:"finalized_block"`
	SafeWeftHeight      int64           `json:"safe_weft_height"`
	FinalizedWeftHeight int64           `json:"finalized_weft_height"`
	SettlementLag       string          `json:"settlement_lag,omitempty"`
	Settlement          *SettlementView `json:"settlement,omitempty"`
}

// SettlementView is a rollup's L1 inbox and the node's batcher and relayer.
type SettlementView struct {
	Inbox string `json:"inbox"`
	// InboxURL is the inbox on the L1 explorer ([ui] l1_explorer), if any.
	InboxURL         string `json:"inbox_url,omitempty"`
	Batcher          bool   `json:"batcher"`
	Relayer          bool   `json:"relayer"`
	L1Error          string `json:"l1_error,omitempty"`
	L1Head           uint64 `json:"l1_head,omitempty"`
	BatchesPosted    uint64 `json:"batches_posted"`
	PostedWeftHeight int64  `json:"posted_weft_height"`
	PendingFrames    uint32 `json:"pending_frames"`
	PendingBatches   int64  `json:"pending_batches"`
	LastPostL1Block  uint64 `json:"last_post_l1_block,omitempty"`
	LastPost         string `json:"last_post_time"`
	LastPostAge      string `json:"last_post_age,omitempty"`
	LastPostFinal    bool   `json:"last_post_final"`
	DepositsL1       uint64 `json:"deposits_l1"`
	DepositsCredited uint64 `json:"deposits_credited"`
	DepositsWaiting  uint64 `json:"deposits_waiting"`
	ChallengeWindow  string `json:"challenge_window,omitempty"`
}

// WarningView is one warning.
type WarningView struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Message string `json:"message"`
}

// MaxValidators bounds the validators a view lists (active ones first, as
// the node sorts them).
const MaxValidators = 200

// NewView makes the view of st. explorer, when not empty, is an L1
// explorer's address URL prefix ("https://etherscan.io/address/") the
// inboxes link to.
func NewView(st *weftv1.NetworkStatus, explorer string) *View {
	now := time.Unix(0, st.CollectedUnixNano)
	v := &View{
		ChainID: st.ChainId, Moniker: st.Moniker, NodeID: st.NodeId, Height: st.Height,
		BlockTime: format.Time(unixNano(st.BlockTimeUnixNano)), Interval: format.Duration(time.Duration(st.BlockIntervalNanos)),
		IntervalBlocks: st.IntervalBlocks, CatchingUp: st.CatchingUp, MempoolTxs: st.MempoolTxs,
		Collected: format.Time(unixNano(st.CollectedUnixNano)), SigningWindow: st.SignedBlocksWindow, MaxMissed: st.MaxMissedBlocks,
		Validators: []ValidatorView{}, Rollups: []RollupView{}, Warnings: []WarningView{},
	}
	if st.BlockTimeUnixNano > 0 && st.CollectedUnixNano > 0 {
		v.BlockAge = format.Duration(now.Sub(time.Unix(0, st.BlockTimeUnixNano)))
	}
	for i, val := range st.Validators {
		if i == MaxValidators {
			v.MoreValidators = len(st.Validators) - i
			break
		}
		v.Validators = append(v.Validators, validatorView(val))
	}
	for _, r := range st.Rollups {
		v.Rollups = append(v.Rollups, rollupView(r, now, explorer))
	}
	for _, w := range st.Warnings {
		v.Warnings = append(v.Warnings, WarningView{Kind: w.Kind, Subject: w.Subject, Message: w.Message})
	}
	return v
}

func unixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func validatorView(v *weftv1.ValidatorStatus) ValidatorView {
	tokens := new(big.Int).SetBytes(v.Tokens)
	out := ValidatorView{
		Moniker: v.Moniker, Operator: format.Address(v.Operator), Address: format.Address(v.Address),
		Stake: format.Amount(tokens), StakeRaw: format.Raw(tokens), Power: v.Power,
		MissedBlocks: v.MissedBlocks, RecentMissed: v.RecentMissed, RecentBlocks: v.RecentBlocks,
		Jailed: v.Jailed, Tombstoned: v.Tombstoned, State: "active",
	}
	switch {
	case v.Tombstoned:
		out.State = "tombstoned"
	case v.Jailed:
		out.State, out.JailedUntil = "jailed", v.JailedUntilHeight
	case v.Power <= 0:
		out.State = "inactive"
	}
	return out
}

func rollupView(r *weftv1.RollupStatus, now time.Time, explorer string) RollupView {
	out := RollupView{
		Name: r.Name, ID: format.Hex(r.Id), EVMChainID: r.EvmChainId, RPCURL: r.RpcUrl, WeftHeight: r.WeftHeight,
		Latest: r.LatestBlock, Safe: r.SafeBlock, Finalized: r.FinalizedBlock,
		SafeWeftHeight: r.SafeWeftHeight, FinalizedWeftHeight: r.FinalizedWeftHeight,
	}
	s := r.Settlement
	if s == nil {
		return out
	}
	if s.Batcher {
		out.SettlementLag = format.Duration(time.Duration(r.SettlementLagNanos))
	}
	sv := &SettlementView{
		Inbox: format.Address(s.Inbox), Batcher: s.Batcher, Relayer: s.Relayer, L1Error: s.L1Error, L1Head: s.L1Head,
		BatchesPosted: s.BatchesPosted, PostedWeftHeight: s.PostedWeftHeight, PendingFrames: s.PendingFrames,
		PendingBatches: s.PendingBatches, LastPostL1Block: s.LastPostL1Block, LastPost: format.Time(unixNano(s.LastPostTimeUnixNano)),
		LastPostFinal: s.LastPostFinal, DepositsL1: s.DepositsL1, DepositsCredited: s.DepositsCredited,
	}
	if s.DepositsL1 > s.DepositsCredited {
		sv.DepositsWaiting = s.DepositsL1 - s.DepositsCredited
	}
	if s.LastPostTimeUnixNano > 0 {
		// On the L1's clock when known: an L1's block times may run ahead
		// of this node's clock (the embedded L1's do).
		ref := now
		if s.L1HeadTimeUnixNano >= s.LastPostTimeUnixNano {
			ref = time.Unix(0, s.L1HeadTimeUnixNano)
		}
		sv.LastPostAge = format.Duration(ref.Sub(time.Unix(0, s.LastPostTimeUnixNano)))
	}
	if s.ChallengeWindowSeconds > 0 {
		sv.ChallengeWindow = format.Duration(time.Duration(s.ChallengeWindowSeconds) * time.Second)
	}
	if explorer != "" && len(s.Inbox) > 0 && (strings.HasPrefix(explorer, "https://") || strings.HasPrefix(explorer, "http://")) {
		sv.InboxURL = explorer + sv.Inbox
	}
	out.Settlement = sv
	return out
}
