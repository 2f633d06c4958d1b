package staking

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// Rewards are lazy, in the manner of Cosmos SDK's F1 fee distribution, so a
// block's work is O(validators that signed), never O(delegators).
//
// When a validator's part of the pool is paid, its operator gets the
// commission and the share of the rest its own delegation holds at once
// (one balance per validator). The rest, owed to the other delegators, moves
// to the validator's outstanding rewards and raises its reward ratio: the
// cumulative reward per non-operator share, scaled by ratioScale. A
// delegation records the ratio when its shares last changed; what it has
// earned since is shares × (ratio − start) / ratioScale, paid to the
// delegator's balance whenever its shares change (Delegate, Undelegate).
//
// A share is a claim on the validator's tokens, and slashing cuts tokens,
// not shares: the shares that earn rewards never change between two of a
// delegation's own changes, so one ratio per validator suffices (F1 needs
// a new period per slash because it counts stake in tokens).
//
// Rounding: the ratio's increment and every payout round down, so the
// outstanding rewards always cover what is owed (the sum of all
// delegations' earnings never exceeds what entered). A delegation loses
// less than one token unit per payout plus shares/ratioScale per block; the
// dust stays in the validator's outstanding rewards, which count in the
// supply, and returns to the pool when the validator has no delegator other
// than its operator.

// ratioScale is the fixed-point scale of reward ratios (10^36): far above
// any realistic total of shares, so ratio rounding loses nothing
// measurable, and low enough that ratio × shares stays far inside 256 bits.
var ratioScale = new(uint256.Int).Exp(uint256.NewInt(10), uint256.NewInt(36))

// rewardState is a validator's lazy reward bookkeeping.
type rewardState struct {
	// ratio is the cumulative reward per non-operator share × ratioScale.
	ratio *uint256.Int
	// outstanding are the tokens accrued to non-operator delegators and not
	// paid yet: at least the sum of what they can claim.
	outstanding *uint256.Int
}

func (m *Module) rewardState(v common.Address) rewardState {
	b, ok := m.get(key(prefixRewards, v[:]))
	if !ok {
		return rewardState{new(uint256.Int), new(uint256.Int)}
	}
	if len(b) != 64 {
		panic(fmt.Sprintf("invariant: corrupt reward state of %s", v))
	}
	return rewardState{amt(b[:32]), amt(b[32:])}
}

func (m *Module) setRewardState(v common.Address, rs rewardState) {
	r, o := rs.ratio.Bytes32(), rs.outstanding.Bytes32()
	m.kv.Set(key(prefixRewards, v[:]), append(r[:], o[:]...))
}

func isOperator(v *weftv1.Validator, d common.Address) bool {
	return common.BytesToAddress(v.Operator) == d
}

// earned is what del has earned since its last change.
func earned(del delegation, rs rewardState) *uint256.Int {
	if del.shares.IsZero() {
		return new(uint256.Int)
	}
	if rs.ratio.Lt(del.start) {
		panic("invariant: a delegation's reward ratio is above its validator's")
	}
	return mulDiv(del.shares, new(uint256.Int).Sub(rs.ratio, del.start), ratioScale)
}

// Rewards is what d's delegation to v has earned and not been paid yet (an
// operator's own delegation is paid every block: always zero).
func (m *Module) Rewards(v, d common.Address) *uint256.Int {
	val := m.Validator(v)
	if val == nil || isOperator(val, d) {
		return new(uint256.Int)
	}
	return earned(m.delegation(v, d), m.rewardState(v))
}

// settle pays d what its delegation to v has earned and restarts its
// accrual at the current ratio; call it before the delegation's shares
// change, with rs the validator's state (the caller saves rs and del).
func (m *Module) settle(v *weftv1.Validator, d common.Address, del *delegation, rs *rewardState) {
	if !isOperator(v, d) {
		e := earned(*del, *rs)
		if e.Gt(rs.outstanding) {
			panic(fmt.Sprintf("invariant: delegation of %s earned %s but validator %x has %s outstanding", d, e, v.Address, rs.outstanding))
		}
		rs.outstanding = new(uint256.Int).Sub(rs.outstanding, e)
		m.credit(d, e)
	}
	del.start = new(uint256.Int).Set(rs.ratio)
}

// sweepDust returns v's outstanding rewards to the pool once only its
// operator (paid every block) holds shares: nobody can claim them.
func (m *Module) sweepDust(v *weftv1.Validator, rs *rewardState) {
	if rs.outstanding.IsZero() {
		return
	}
	op := m.delegation(common.BytesToAddress(v.Address), common.BytesToAddress(v.Operator))
	if !amt(v.Shares).Eq(op.shares) {
		return
	}
	m.setAmount(keyPool, new(uint256.Int).Add(m.Pool(), rs.outstanding))
	rs.outstanding = new(uint256.Int)
}

// distribute splits the pool among signers by power; each validator's part
// pays commission to its operator, the operator's own shares' part with it,
// and accrues the rest to the other delegators (see above). Nothing is read
// or written per delegator.
func (m *Module) distribute(votes []Vote, ev *Events) {
	pool := m.Pool()
	var total uint64
	for _, vt := range votes {
		if vt.Signed && vt.Power > 0 {
			total += uint64(vt.Power)
		}
	}
	if pool.IsZero() || total == 0 {
		return
	}
	paid := new(uint256.Int)
	for _, vt := range votes {
		if !vt.Signed || vt.Power <= 0 {
			continue
		}
		v := m.Validator(vt.Address)
		if v == nil {
			continue
		}
		share := mulDiv(pool, uint256.NewInt(uint64(vt.Power)), uint256.NewInt(total))
		toOperator := mulDiv(share, uint256.NewInt(uint64(v.CommissionBps)), uint256.NewInt(10_000))
		rest := new(uint256.Int).Sub(share, toOperator)
		shares := amt(v.Shares)
		if !shares.IsZero() {
			opShares := m.delegation(vt.Address, common.BytesToAddress(v.Operator)).shares
			toOperator.Add(toOperator, mulDiv(rest, opShares, shares))
			others := new(uint256.Int).Sub(shares, opShares)
			if toOthers := mulDiv(rest, others, shares); !toOthers.IsZero() && m.accrue(vt.Address, toOthers, others) {
				paid.Add(paid, toOthers)
			}
		}
		m.credit(common.BytesToAddress(v.Operator), toOperator)
		paid.Add(paid, toOperator)
	}
	m.setAmount(keyPool, new(uint256.Int).Sub(pool, paid))
	ev.Distributed = paid
}

// accrue moves amount owed to v's non-operator shares into its outstanding
// rewards and raises its ratio. It refuses (the amount stays in the pool)
// when the ratio would not move or would overflow, which no realistic
// amounts reach: a panic here would halt the chain.
func (m *Module) accrue(v common.Address, amount, shares *uint256.Int) bool {
	inc, overflow := new(uint256.Int).MulDivOverflow(amount, ratioScale, shares)
	if overflow || inc.IsZero() {
		return false
	}
	rs := m.rewardState(v)
	ratio, overflow := new(uint256.Int).AddOverflow(rs.ratio, inc)
	if overflow {
		return false
	}
	rs.ratio = ratio
	rs.outstanding = new(uint256.Int).Add(rs.outstanding, amount)
	m.setRewardState(v, rs)
	return true
}

// OutstandingRewards are v's rewards accrued to its delegators other than
// the operator and not paid yet (with the rounding dust).
func (m *Module) OutstandingRewards(v common.Address) *uint256.Int {
	return m.rewardState(v).outstanding
}

// Outstanding is the sum of all validators' outstanding rewards.
func (m *Module) Outstanding() *uint256.Int {
	s := new(uint256.Int)
	for _, a := range m.validatorSet().list() {
		s.Add(s, m.rewardState(a).outstanding)
	}
	return s
}
