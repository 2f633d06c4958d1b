package ui

import (
	"fmt"
	"time"

	"github.com/weftnet/weft/format"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// Warning kinds.
const (
	WarnChainStalled    = "chain_stalled"
	WarnCatchingUp      = "catching_up"
	WarnMissingBlocks   = "validator_missing_blocks"
	WarnJailed          = "validator_jailed"
	WarnL1Unreachable   = "l1_unreachable"
	WarnBatcherBehind   = "batcher_behind"
	WarnExecutorBehind  = "executor_behind"
	minStall            = 10 * time.Second
	executorBehindLimit = 20 // Weft blocks
)

// Warnings are what an operator should look at in st, as of now (the
// node's wall clock, for the age of the last block):
//   - chain_stalled: no block for 10 s, or 20 block intervals if longer;
//   - catching_up: the node is block-syncing;
//   - validator_jailed: a validator is jailed or tombstoned;
//   - validator_missing_blocks: an active validator missed a quarter or
//     more of the recent blocks, or half the misses that jail it;
//   - l1_unreachable: the node could not read a rollup's L1 inbox;
//   - batcher_behind: a rollup's oldest block not yet safe on L1 has
//     waited longer than twice the batcher's max batch age plus 20 s;
//   - executor_behind: a rollup's executor is 20 or more Weft blocks behind.
func Warnings(st *weftv1.NetworkStatus, now time.Time) []*weftv1.StatusWarning {
	var out []*weftv1.StatusWarning
	warn := func(kind, subject, msg string, args ...any) {
		out = append(out, &weftv1.StatusWarning{Kind: kind, Subject: subject, Message: fmt.Sprintf(msg, args...)})
	}
	if st.BlockTimeUnixNano > 0 {
		age := now.Sub(time.Unix(0, st.BlockTimeUnixNano))
		if limit := max(minStall, 20*time.Duration(st.BlockIntervalNanos)); age > limit {
			warn(WarnChainStalled, st.ChainId, "no new block for %s (last: height %d)", format.Duration(age), st.Height)
		}
	}
	if st.CatchingUp {
		warn(WarnCatchingUp, st.Moniker, "this node is still block-syncing: what it shows may be behind the network")
	}
	for _, v := range st.Validators {
		name := validatorName(v)
		switch {
		case v.Tombstoned:
			warn(WarnJailed, name, "tombstoned (double-signed): it can never validate again")
		case v.Jailed:
			warn(WarnJailed, name, "jailed until height %d (then `weft tx stake unjail`)", v.JailedUntilHeight)
		case v.Power <= 0:
		case v.RecentBlocks > 0 && v.RecentMissed > 0 && 4*v.RecentMissed >= v.RecentBlocks:
			warn(WarnMissingBlocks, name, "missed %d of the last %d blocks (%d of %d in the signing window; more than %d jails)",
				v.RecentMissed, v.RecentBlocks, v.MissedBlocks, st.SignedBlocksWindow, st.MaxMissedBlocks)
		case st.MaxMissedBlocks > 0 && 2*int64(v.MissedBlocks) > st.MaxMissedBlocks:
			warn(WarnMissingBlocks, name, "missed %d of the last %d blocks; more than %d jails",
				v.MissedBlocks, st.SignedBlocksWindow, st.MaxMissedBlocks)
		}
	}
	for _, r := range st.Rollups {
		out = append(out, rollupWarnings(st, r)...)
	}
	return out
}

func rollupWarnings(st *weftv1.NetworkStatus, r *weftv1.RollupStatus) []*weftv1.StatusWarning {
	var out []*weftv1.StatusWarning
	warn := func(kind, msg string, args ...any) {
		out = append(out, &weftv1.StatusWarning{Kind: kind, Subject: r.Name, Message: fmt.Sprintf(msg, args...)})
	}
	if behind := st.Height - r.WeftHeight; behind >= executorBehindLimit {
		warn(WarnExecutorBehind, "the executor is %d Weft blocks behind (at height %d of %d)", behind, r.WeftHeight, st.Height)
	}
	s := r.Settlement
	if s == nil {
		return out
	}
	if s.L1Error != "" {
		warn(WarnL1Unreachable, "L1 unreachable: %s", s.L1Error)
	}
	if s.Batcher {
		limit := 2*time.Duration(s.MaxBatchAgeNanos) + 20*time.Second
		if lag := time.Duration(r.SettlementLagNanos); lag > limit {
			warn(WarnBatcherBehind, "the batcher is behind: the oldest block not safe on L1 (after Weft height %d) has waited %s (expected under %s)",
				r.SafeWeftHeight, format.Duration(lag), format.Duration(limit))
		}
	}
	return out
}

// validatorName is a validator's moniker, or its address without one.
func validatorName(v *weftv1.ValidatorStatus) string {
	if v.Moniker != "" {
		return v.Moniker
	}
	return format.Address(v.Address)
}
