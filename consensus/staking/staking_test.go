package staking_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/weftnet/weft/consensus/staking"
	"github.com/weftnet/weft/genesis"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// rejected runs a call that must be rejected with kind and change nothing.
func (e *env) rejected(what string, kind staking.ErrorKind, call func() *staking.Error) {
	e.t.Helper()
	s := e.snap()
	err := call()
	if err == nil {
		e.t.Fatalf("%s: accepted", what)
	}
	if err.Kind != kind || err.Msg == "" || err.Error() != err.Msg {
		e.t.Fatalf("%s: kind %d %q, want kind %d", what, err.Kind, err.Msg, kind)
	}
	e.unchanged(s, what)
	e.check()
}

func TestCreateValidator(t *testing.T) {
	e := newEnv(t, testParams())
	op := acct("op")
	e.fund(op, 1000)
	k := newConsKey("a")
	e.begin(nil)
	e.create(k, op, 150, 1200)
	v := e.val(k)
	if !bytes.Equal(v.Address, k.addr.Bytes()) || !bytes.Equal(v.ConsensusPubKey, k.pub) || !bytes.Equal(v.Operator, op.Bytes()) ||
		amount(v.Tokens) != 150 || amount(v.Shares) != 150 || v.CommissionBps != 1200 || v.Moniker != "v" ||
		v.CreatedHeight != 1 || v.Jailed || v.Tombstoned || v.Power != 0 {
		t.Fatalf("created validator: %v", v)
	}
	if e.balance(op) != 850 || e.delegated(op, k) != 150 || !slices.Equal(e.m.Delegators(k.addr), []common.Address{op}) {
		t.Fatalf("self stake not bonded: balance %d, delegation %d", e.balance(op), e.delegated(op, k))
	}
	// It joins the set at the end of the block, with power tokens / 10;
	// the next block changes nothing, so there are no updates.
	if got := updates(e.end()); !slices.Equal(got, []string{upd(k, 15)}) {
		t.Fatalf("updates %v", got)
	}
	if e.val(k).Power != 15 || e.m.LastSet()[k.addr] != 15 {
		t.Fatal("power not recorded")
	}
	if ups := e.end(); len(ups) != 0 {
		t.Fatalf("updates without a change: %v", updates(ups))
	}

	other := newConsKey("b")
	ethKey, _ := crypto.GenerateKey()
	notAPoint := append([]byte{0x05}, bytes.Repeat([]byte{0xab}, 32)...)
	for _, tc := range []struct {
		name       string
		key        []byte
		stake      uint64
		commission uint32
		moniker    string
		kind       staking.ErrorKind
	}{
		{"ed25519 key", ed25519.GenPrivKey().PubKey().Bytes(), 150, 0, "", staking.ErrInvalid},
		{"uncompressed secp256k1 key", crypto.FromECDSAPub(&ethKey.PublicKey), 150, 0, "", staking.ErrInvalid},
		{"33 bytes that are no key", notAPoint, 150, 0, "", staking.ErrInvalid},
		{"no key", nil, 150, 0, "", staking.ErrInvalid},
		{"commission above 100%", other.pub, 150, 10_001, "", staking.ErrInvalid},
		{"moniker too long", other.pub, 150, 0, strings.Repeat("m", 65), staking.ErrInvalid},
		{"stake below the minimum", other.pub, 99, 0, "", staking.ErrStakeTooLow},
		{"stake above the balance", other.pub, 851, 0, "", staking.ErrFunds},
		{"key already in use", k.pub, 150, 0, "", staking.ErrExists},
	} {
		e.rejected(tc.name, tc.kind, func() *staking.Error {
			return e.m.CreateValidator(op, &weftv1.CreateValidator{ConsensusPubKey: tc.key, SelfStake: u(tc.stake).Bytes(), CommissionBps: tc.commission, Moniker: tc.moniker}, e.height)
		})
	}
	e.rejected("self stake over 32 bytes", staking.ErrInvalid, func() *staking.Error {
		return e.m.CreateValidator(op, &weftv1.CreateValidator{ConsensusPubKey: other.pub, SelfStake: make([]byte, 33)}, e.height)
	})
	// Exactly the minimum, and a 100% commission, are fine.
	e.create(other, op, 100, 10_000)
	if got := updates(e.end()); !slices.Equal(got, []string{upd(other, 10)}) {
		t.Fatalf("updates %v", got)
	}
	if len(e.m.Validators()) != 2 || e.balance(op) != 750 {
		t.Fatal("second validator")
	}
}

func TestDelegateAndUndelegate(t *testing.T) {
	e := newEnv(t, testParams())
	op, d, stranger := acct("op"), acct("d"), acct("stranger")
	e.fund(op, 1000)
	e.fund(d, 1000)
	k := newConsKey("a")
	e.begin(nil)
	e.create(k, op, 200, 0)
	e.delegate(d, k, 300)
	if e.tokens(k) != 500 || amount(e.val(k).Shares) != 500 || e.balance(d) != 700 || e.delegated(d, k) != 300 {
		t.Fatal("delegation")
	}
	want := []common.Address{op, d}
	slices.SortFunc(want, func(a, b common.Address) int { return bytes.Compare(a[:], b[:]) })
	if !slices.Equal(e.m.Delegators(k.addr), want) {
		t.Fatal("delegator index")
	}
	if got := updates(e.end()); !slices.Equal(got, []string{upd(k, 50)}) {
		t.Fatalf("updates %v", got)
	}

	e.begin(nil)
	e.undelegate(d, k, 100)
	if e.tokens(k) != 400 || e.delegated(d, k) != 200 || e.balance(d) != 700 {
		t.Fatal("undelegation")
	}
	q := e.m.Unbonding()
	if len(q) != 1 || !bytes.Equal(q[0].Delegator, d.Bytes()) || !bytes.Equal(q[0].Validator, k.addr.Bytes()) ||
		amount(q[0].Amount) != 100 || q[0].CreationHeight != 2 || q[0].CompletionHeight != 2+7 {
		t.Fatalf("unbonding queue %v", q)
	}
	if got := updates(e.end()); !slices.Equal(got, []string{upd(k, 40)}) {
		t.Fatalf("updates %v", got)
	}

	unknown := newConsKey("nobody")
	for _, tc := range []struct {
		name string
		kind staking.ErrorKind
		call func() *staking.Error
	}{
		{"delegate to an unknown validator", staking.ErrNotFound, func() *staking.Error {
			return e.m.Delegate(d, &weftv1.Delegate{Validator: unknown.addr.Bytes(), Amount: u(1).Bytes()})
		}},
		{"delegate to a short address", staking.ErrInvalid, func() *staking.Error {
			return e.m.Delegate(d, &weftv1.Delegate{Validator: []byte{1, 2}, Amount: u(1).Bytes()})
		}},
		{"delegate nothing", staking.ErrInvalid, func() *staking.Error {
			return e.m.Delegate(d, &weftv1.Delegate{Validator: k.addr.Bytes()})
		}},
		{"delegate over 32 bytes", staking.ErrInvalid, func() *staking.Error {
			return e.m.Delegate(d, &weftv1.Delegate{Validator: k.addr.Bytes(), Amount: make([]byte, 33)})
		}},
		{"delegate more than the balance", staking.ErrFunds, func() *staking.Error {
			return e.m.Delegate(d, &weftv1.Delegate{Validator: k.addr.Bytes(), Amount: u(701).Bytes()})
		}},
		{"undelegate more than delegated", staking.ErrExceedsDelegation, func() *staking.Error {
			return e.m.Undelegate(d, &weftv1.Undelegate{Validator: k.addr.Bytes(), Amount: u(201).Bytes()}, e.height)
		}},
		{"undelegate without a delegation", staking.ErrNotFound, func() *staking.Error {
			return e.m.Undelegate(stranger, &weftv1.Undelegate{Validator: k.addr.Bytes(), Amount: u(1).Bytes()}, e.height)
		}},
		{"undelegate from an unknown validator", staking.ErrNotFound, func() *staking.Error {
			return e.m.Undelegate(d, &weftv1.Undelegate{Validator: unknown.addr.Bytes(), Amount: u(1).Bytes()}, e.height)
		}},
		{"undelegate nothing", staking.ErrInvalid, func() *staking.Error {
			return e.m.Undelegate(d, &weftv1.Undelegate{Validator: k.addr.Bytes()}, e.height)
		}},
	} {
		e.rejected(tc.name, tc.kind, tc.call)
	}

	// Undelegating everything removes the delegation and the index entry;
	// a later delegation starts a fresh one that works like any other.
	e.undelegate(d, k, 200)
	if e.m.Delegation(k.addr, d) != nil || !slices.Equal(e.m.Delegators(k.addr), []common.Address{op}) {
		t.Fatalf("emptied delegation still listed: %v", e.m.Delegation(k.addr, d))
	}
	e.rejected("undelegate after undelegating everything", staking.ErrNotFound, func() *staking.Error {
		return e.m.Undelegate(d, &weftv1.Undelegate{Validator: k.addr.Bytes(), Amount: u(1).Bytes()}, e.height)
	})
	e.delegate(d, k, 50)
	del := e.m.Delegation(k.addr, d)
	if del == nil || !bytes.Equal(del.Delegator, d.Bytes()) || !bytes.Equal(del.Validator, k.addr.Bytes()) || e.delegated(d, k) != 50 {
		t.Fatalf("delegation after a full undelegation: %v", del)
	}
	if !slices.Equal(e.m.Delegators(k.addr), want) {
		t.Fatal("delegator not indexed again")
	}
	e.undelegate(d, k, 50)
	if e.tokens(k) != 200 || len(e.m.Unbonding()) != 3 {
		t.Fatal("second undelegation")
	}
}

// TestUnbondingMaturity: undelegated stake returns to the balance exactly at
// creation height + unbonding_blocks, in order, never earlier.
func TestUnbondingMaturity(t *testing.T) {
	e := newEnv(t, testParams())
	op, d := acct("op"), acct("d")
	e.fund(op, 1000)
	e.fund(d, 1000)
	k := newConsKey("a")
	e.begin(nil)
	e.create(k, op, 200, 0)
	e.delegate(d, k, 500)
	e.end()
	for e.height < 4 {
		e.begin(nil)
	}
	e.undelegate(d, k, 100) // matures at 11
	e.begin(nil)
	e.begin(nil)
	e.undelegate(d, k, 30) // at 6: matures at 13
	e.undelegate(op, k, 20)
	want := map[int64]uint64{11: 600, 13: 630}
	bal := e.balance(d)
	for e.height < 15 {
		ev := e.begin(nil)
		if w, ok := want[e.height]; ok {
			bal = w
			if ev.Matured == 0 {
				t.Fatalf("height %d: nothing matured", e.height)
			}
		} else if ev.Matured != 0 {
			t.Fatalf("height %d: %d entries matured", e.height, ev.Matured)
		}
		if e.balance(d) != bal {
			t.Fatalf("height %d: balance %d, want %d", e.height, e.balance(d), bal)
		}
	}
	if e.balance(op) != 800+20 || len(e.m.Unbonding()) != 0 || e.m.UnbondingTotal().Uint64() != 0 {
		t.Fatal("unbonding not paid out")
	}
}

func TestEditValidator(t *testing.T) {
	e := newEnv(t, testParams())
	op, stranger := acct("op"), acct("stranger")
	e.fund(op, 1000)
	k := newConsKey("a")
	e.create(k, op, 200, 500)
	edit := func(from common.Address, msg *weftv1.EditValidator) func() *staking.Error {
		return func() *staking.Error { return e.m.EditValidator(from, msg) }
	}
	e.rejected("not the operator", staking.ErrUnauthorized, edit(stranger, &weftv1.EditValidator{Validator: k.addr.Bytes(), Moniker: "x"}))
	e.rejected("commission above 100%", staking.ErrInvalid, edit(op, &weftv1.EditValidator{Validator: k.addr.Bytes(), HasCommission: true, CommissionBps: 10_001}))
	e.rejected("moniker too long", staking.ErrInvalid, edit(op, &weftv1.EditValidator{Validator: k.addr.Bytes(), Moniker: strings.Repeat("m", 65)}))
	e.rejected("unknown validator", staking.ErrNotFound, edit(op, &weftv1.EditValidator{Validator: newConsKey("x").addr.Bytes(), Moniker: "x"}))
	// Without has_commission the commission stays; with it, even 0 is set.
	e.ok(e.m.EditValidator(op, &weftv1.EditValidator{Validator: k.addr.Bytes(), CommissionBps: 9000, Moniker: "renamed"}))
	if v := e.val(k); v.CommissionBps != 500 || v.Moniker != "renamed" {
		t.Fatalf("edit: %v", v)
	}
	e.ok(e.m.EditValidator(op, &weftv1.EditValidator{Validator: k.addr.Bytes(), HasCommission: true}))
	if v := e.val(k); v.CommissionBps != 0 || v.Moniker != "renamed" {
		t.Fatalf("edit: %v", v)
	}
}

// TestRewardSplit pins the payout rule with hand-computed figures: the pool
// is split among the validators that signed, by power; each part pays the
// commission and the operator's own shares' part to the operator at once,
// and accrues the other delegators' part (rounded down) to them, paid when
// their delegation next changes; what rounding leaves stays in the pool.
func TestRewardSplit(t *testing.T) {
	p := testParams()
	e := newEnv(t, p)
	opA, opB, d1, payer := acct("opA"), acct("opB"), acct("d1"), acct("payer")
	for _, a := range []common.Address{opA, opB, d1} {
		e.fund(a, 1000)
	}
	e.fund(payer, 10_000)
	a, b := newConsKey("a"), newConsKey("b")
	e.create(a, opA, 200, 1000) // 10%
	e.delegate(d1, a, 100)
	e.create(b, opB, 100, 0)
	e.end()
	bal := map[common.Address]uint64{opA: 800, opB: 900, d1: 900}
	var owed uint64 // to d1
	step := func(fee uint64, votes []staking.Vote, paid uint64, pool uint64, gains map[common.Address]uint64, accrued uint64) {
		t.Helper()
		if fee > 0 {
			e.fee(payer, fee)
		}
		ev := e.begin(votes)
		for addr, g := range gains {
			bal[addr] += g
		}
		for addr, want := range bal {
			if got := e.balance(addr); got != want {
				t.Fatalf("height %d: balance of %s is %d, want %d", e.height, addr, got, want)
			}
		}
		owed += accrued
		if ev.Distributed.Uint64() != paid || e.m.Pool().Uint64() != pool || e.rewards(d1, a) != owed || e.rewards(opA, a) != 0 {
			t.Fatalf("height %d: paid %s, pool %s, d1 owed %d; want %d, %d, %d", e.height, ev.Distributed, e.m.Pool(), e.rewards(d1, a), paid, pool, owed)
		}
	}
	// Pool 1000, powers 3:1. A gets 750: 75 commission, 675 split 200:100
	// between opA (450) and d1 (225, owed). B gets 250, all to opB.
	step(1000, signedBy([]consKey{a, b}, 3, 1), 1000, 0, map[common.Address]uint64{opA: 75 + 450, opB: 250}, 225)
	// Pool 100, powers 3:4. A: 100·3/7 = 42, commission 4, rest 38 → opA
	// 38·200/300 = 25, d1 38·100/300 = 12. B: 100·4/7 = 57. Paid 98, 2 stay.
	step(100, signedBy([]consKey{a, b}, 3, 4), 98, 2, map[common.Address]uint64{opA: 4 + 25, opB: 57}, 12)
	// A validator that did not sign gets nothing: pool 2+10 all to A.
	// 12: commission 1, rest 11 → opA 7, d1 3; 1 stays.
	votes := signedBy([]consKey{a, b}, 3, 4)
	votes[1].Signed = false
	step(10, votes, 11, 1, map[common.Address]uint64{opA: 1 + 7}, 3)
	// Nobody signed (or no last commit): the pool waits.
	step(50, nil, 0, 51, nil, 0)
	votes[0].Signed = false
	step(0, votes, 0, 51, nil, 0)
	// Votes of unknown validators and powerless votes pay nobody.
	step(0, signedBy([]consKey{newConsKey("ghost"), a}, 5, 0), 0, 51, nil, 0)
	// A pool of 51 with B alone (power 1 of 1) all goes to opB.
	step(0, signedBy([]consKey{b}, 1), 51, 0, map[common.Address]uint64{opB: 51}, 0)

	// d1's next change of its delegation pays what it is owed first.
	if out := e.m.OutstandingRewards(a.addr).Uint64(); out != 240 {
		t.Fatalf("outstanding %d, want 240", out)
	}
	e.delegate(d1, a, 10)
	if bal[d1] += 240 - 10; e.balance(d1) != bal[d1] || e.rewards(d1, a) != 0 || e.m.OutstandingRewards(a.addr).Uint64() != 0 {
		t.Fatalf("after delegating: d1 has %d (want %d), owed %d", e.balance(d1), bal[d1], e.rewards(d1, a))
	}
	owed = 0

	// A block reward is minted into the pool each block: the supply grows
	// by it and the invariant still holds.
	p.BlockReward = u(7)
	supply := e.m.Supply().Uint64()
	step(0, nil, 0, 7, nil, 0)
	step(0, signedBy([]consKey{b}, 1), 14, 0, map[common.Address]uint64{opB: 14}, 0)
	if e.m.Supply().Uint64() != supply+14 {
		t.Fatalf("supply %s, want %d", e.m.Supply(), supply+14)
	}
	// Pool 7, A alone: commission 0, rest 7 → opA 7·200/310 = 4, and
	// 7·110/310 = 2 accrue to the 110 other shares, d1's: 1 stays. The
	// ratio 2/110 rounds down, so d1 can claim 1 and 1 stays outstanding,
	// as dust.
	step(0, signedBy([]consKey{a}, 1), 6, 1, map[common.Address]uint64{opA: 4}, 1)
	if out := e.m.OutstandingRewards(a.addr).Uint64(); out != 2 {
		t.Fatalf("outstanding %d, want 2", out)
	}
	// Undelegating pays as well; once only the operator holds shares the
	// dust returns to the pool.
	e.undelegate(d1, a, 110)
	if bal[d1]++; e.balance(d1) != bal[d1] || e.m.Delegation(a.addr, d1) != nil || e.m.OutstandingRewards(a.addr).Uint64() != 0 || e.m.Pool().Uint64() != 1+1 {
		t.Fatalf("after undelegating: d1 has %d (want %d), pool %s", e.balance(d1), bal[d1], e.m.Pool())
	}
}

// TestDowntimeJail: a validator missing more than max_missed_blocks of the
// last signed_blocks_window blocks is jailed with a small slash and leaves
// the set; after downtime_jail_blocks its operator may unjail it.
func TestDowntimeJail(t *testing.T) {
	p := testParams() // window 10, jailed on the 5th miss within it, 1% slash, 5 blocks
	e := newEnv(t, p)
	opA, opB, stranger := acct("opA"), acct("opB"), acct("stranger")
	e.fund(opA, 2000)
	e.fund(opB, 2000)
	a, b := newConsKey("a"), newConsKey("b")
	e.create(a, opA, 1000, 0)
	e.create(b, opB, 1000, 0)
	e.end()
	block := func(aSigns bool) *staking.Events {
		t.Helper()
		var missing []common.Address
		if !aSigns {
			missing = append(missing, a.addr)
		}
		was := e.val(a).Jailed
		ev := e.begin(e.activeVotes(missing...))
		if !was && e.val(a).Jailed && len(ev.Jailed) == 0 {
			t.Fatalf("height %d: jailed without an event", e.height)
		}
		return ev
	}
	// Heights 1-4 missed: 4 of 10 is allowed.
	for e.height < 4 {
		block(false)
	}
	if v := e.val(a); v.Jailed || v.MissedBlocks != 4 {
		t.Fatalf("after 4 misses: jailed %v, missed %d", v.Jailed, v.MissedBlocks)
	}
	// 5-10 signed; 11-14 missed again replace the misses of 1-4 as the
	// window slides: still 4.
	for e.height < 10 {
		block(true)
	}
	for e.height < 14 {
		block(false)
	}
	if v := e.val(a); v.Jailed || v.MissedBlocks != 4 {
		t.Fatalf("after the window slid: jailed %v, missed %d", v.Jailed, v.MissedBlocks)
	}
	if got := updates(e.end()); len(got) != 0 {
		t.Fatalf("updates %v", got)
	}
	// 15 replaces the signed 5: the 5th miss in the window.
	supply := e.m.Supply().Uint64()
	ev := block(false)
	v := e.val(a)
	if !slices.Equal(ev.Jailed, []common.Address{a.addr}) || ev.Slashed[a.addr].Uint64() != 10 || !v.Jailed || v.Tombstoned ||
		v.JailedUntilHeight != 20 || amount(v.Tokens) != 990 || v.MissedBlocks != 0 || len(v.SigningWindow) != 0 {
		t.Fatalf("at height 15: events %+v, validator %v", ev, v)
	}
	if e.m.Supply().Uint64() != supply-10 {
		t.Fatal("the slash was not burnt from the supply")
	}
	if got := updates(e.end()); !slices.Equal(got, []string{upd(a, 0)}) {
		t.Fatalf("updates %v", got)
	}
	// A jailed validator is neither tracked nor jailed again while it is out.
	for e.height < 19 {
		block(false)
		e.rejected("unjail before the jail ends", staking.ErrState, func() *staking.Error {
			return e.m.Unjail(opA, &weftv1.Unjail{Validator: a.addr.Bytes()}, e.height)
		})
	}
	block(false)
	e.rejected("unjail by another account", staking.ErrUnauthorized, func() *staking.Error {
		return e.m.Unjail(stranger, &weftv1.Unjail{Validator: a.addr.Bytes()}, e.height)
	})
	e.rejected("unjail unknown validator", staking.ErrNotFound, func() *staking.Error {
		return e.m.Unjail(opA, &weftv1.Unjail{Validator: newConsKey("x").addr.Bytes()}, e.height)
	})
	// With its self stake below the minimum it cannot come back.
	e.undelegate(opA, a, 900)
	e.rejected("unjail with too little self stake", staking.ErrStakeTooLow, func() *staking.Error {
		return e.m.Unjail(opA, &weftv1.Unjail{Validator: a.addr.Bytes()}, e.height)
	})
	e.delegate(opA, a, 910)
	e.ok(e.m.Unjail(opA, &weftv1.Unjail{Validator: a.addr.Bytes()}, e.height))
	if got := updates(e.end()); !slices.Equal(got, []string{upd(a, 100)}) {
		t.Fatalf("updates after unjail %v", got)
	}
	e.rejected("unjail when not jailed", staking.ErrState, func() *staking.Error {
		return e.m.Unjail(opA, &weftv1.Unjail{Validator: a.addr.Bytes()}, e.height)
	})
	// Back in the set it starts from a clean window.
	for i := 0; i < 4; i++ {
		block(false)
	}
	if v := e.val(a); v.Jailed || v.MissedBlocks != 4 {
		t.Fatalf("after unjail: jailed %v, missed %d", v.Jailed, v.MissedBlocks)
	}
}

// TestDoubleSign: evidence slashes slash_double_sign_bps of the bonded
// tokens and of unbonding entries created at or after the infraction
// height (they were bonded when it happened), never of earlier ones, and
// tombstones the validator for good. The bonded cut is burnt at once, an
// entry's when it is paid.
func TestDoubleSign(t *testing.T) {
	e := newEnv(t, testParams()) // 5%
	op, d, opB := acct("op"), acct("d"), acct("opB")
	e.fund(op, 1000)
	e.fund(d, 2000)
	e.fund(opB, 1000)
	a, b := newConsKey("a"), newConsKey("b")
	e.begin(nil)
	e.create(a, op, 1000, 0)
	e.delegate(d, a, 1000)
	e.create(b, opB, 500, 0)
	e.end()
	e.begin(nil)
	e.undelegate(d, a, 100) // at 2, before the infraction: not slashed
	e.begin(nil)
	e.begin(nil)
	e.undelegate(d, a, 200) // at 4, the infraction height: slashed
	e.begin(nil)
	e.undelegate(d, a, 300) // at 5, after it: slashed
	supply := e.m.Supply().Uint64()
	ev := e.begin(nil, staking.Evidence{Address: a.addr, Height: 4})
	// Bonded 1400 → cut 70 now; entries 200 → 190, 300 → 285 as paid.
	v := e.val(a)
	if ev.Slashed[a.addr].Uint64() != 70 || !slices.Equal(ev.Tombstoned, []common.Address{a.addr}) ||
		!v.Tombstoned || !v.Jailed || amount(v.Tokens) != 1330 || e.m.Supply().Uint64() != supply-70 {
		t.Fatalf("events %+v, validator %v", ev, v)
	}
	var amounts []uint64
	for _, q := range e.m.Unbonding() {
		amounts = append(amounts, amount(q.Amount))
	}
	if !slices.Equal(amounts, []uint64{100, 190, 285}) {
		t.Fatalf("unbonding after the slash: %v", amounts)
	}
	if got := updates(e.end()); !slices.Equal(got, []string{upd(a, 0)}) {
		t.Fatalf("updates %v", got)
	}
	// Tombstoned for good: no unjail, no new delegations, no second slash.
	e.begin(nil)
	e.rejected("unjail a tombstoned validator", staking.ErrState, func() *staking.Error {
		return e.m.Unjail(op, &weftv1.Unjail{Validator: a.addr.Bytes()}, e.height+100)
	})
	e.rejected("delegate to a tombstoned validator", staking.ErrState, func() *staking.Error {
		return e.m.Delegate(d, &weftv1.Delegate{Validator: a.addr.Bytes(), Amount: u(1).Bytes()})
	})
	if ev := e.begin(nil, staking.Evidence{Address: a.addr, Height: 5}); len(ev.Slashed) != 0 || e.tokens(a) != 1330 {
		t.Fatal("slashed twice")
	}
	if len(e.end()) != 0 {
		t.Fatal("a tombstoned validator came back")
	}
	// Delegators leave with what the slash left them: d holds 400 of 1400
	// shares of 1330 tokens = 380.
	if e.delegated(d, a) != 380 {
		t.Fatalf("d's delegation is worth %d", e.delegated(d, a))
	}
	e.undelegate(d, a, 380)
	burnt := uint64(0)
	for e.height < 20 {
		burnt += e.begin(nil).BurntUnbonding.Uint64()
	}
	if e.balance(d) != 1000+100+190+285+380 {
		t.Fatalf("d got back %d", e.balance(d))
	}
	if burnt != 10+15 || e.m.Supply().Uint64() != supply-70-25 {
		t.Fatalf("burnt %d as the entries were paid, supply %d (was %d)", burnt, e.m.Supply(), supply)
	}
	// Evidence against the other validator at a height before its
	// unbonding leaves that entry alone.
	e.undelegate(opB, b, 100)
	e.begin(nil, staking.Evidence{Address: b.addr, Height: e.height + 1})
	if q := e.m.Unbonding(); len(q) != 1 || amount(q[0].Amount) != 100 || e.tokens(b) != 380 {
		t.Fatalf("b: tokens %d, queue %v", e.tokens(b), q)
	}
}

// TestActiveSet: the set is the top max_validators by tokens (ties by
// address) among validators that are neither jailed nor below the minimum
// self stake; updates are returned only for changes.
func TestActiveSet(t *testing.T) {
	e := newEnv(t, testParams()) // 3 validators
	names := []string{"A", "B", "C", "D", "E"}
	stakes := []uint64{500, 400, 300, 200, 150}
	k := map[string]consKey{}
	op := map[string]common.Address{}
	d := acct("delegator")
	e.fund(d, 10_000)
	for i, n := range names {
		k[n], op[n] = newConsKey(n), acct("op"+n)
		e.fund(op[n], 1000)
		e.create(k[n], op[n], stakes[i], 0)
	}
	expect := func(what string, want ...string) {
		t.Helper()
		slices.Sort(want)
		if got := updates(e.end()); !slices.Equal(got, want) {
			t.Fatalf("%s: updates %v, want %v", what, got, want)
		}
	}
	expect("genesis", upd(k["A"], 50), upd(k["B"], 40), upd(k["C"], 30))
	expect("no change")
	e.delegate(d, k["D"], 250) // D 450 passes C
	expect("D overtakes C", upd(k["C"], 0), upd(k["D"], 45))
	e.delegate(d, k["A"], 10)
	expect("A's power grows", upd(k["A"], 51))
	e.delegate(d, k["A"], 5)
	expect("tokens change, power does not")
	// D's operator drops below the minimum self stake: D leaves although
	// its delegators keep it at 300.
	e.undelegate(op["D"], k["D"], 150)
	expect("D below min self stake", upd(k["C"], 30), upd(k["D"], 0))
	// E ties C at 300: the lower address wins the last seat.
	e.delegate(d, k["E"], 150)
	eAddr, cAddr := k["E"].addr, k["C"].addr
	eWins := bytes.Compare(eAddr[:], cAddr[:]) < 0
	if eWins {
		expect("tie", upd(k["C"], 0), upd(k["E"], 30))
	} else {
		expect("tie")
	}
	// A double-signs: tombstoned, out; the tie's loser takes the seat.
	e.begin(nil, staking.Evidence{Address: k["A"].addr, Height: 1})
	if eWins {
		expect("A tombstoned", upd(k["A"], 0), upd(k["C"], 30))
	} else {
		expect("A tombstoned", upd(k["A"], 0), upd(k["E"], 30))
	}
	set := e.m.LastSet()
	if len(set) != 3 || set[k["B"].addr] != 40 || set[k["C"].addr] != 30 || set[k["E"].addr] != 30 {
		t.Fatalf("last set %v", set)
	}
	for _, n := range names {
		if v := e.val(k[n]); v.Power != set[k[n].addr] {
			t.Fatalf("%s: recorded power %d, set has %d", n, v.Power, set[k[n].addr])
		}
	}
}

// TestSupplyEverySlash: slashes burn exactly what they take from the supply,
// across downtime, double signs and the unbonding entries they reach.
func TestSupplyEverySlash(t *testing.T) {
	p := testParams()
	p.SlashDowntimeBps, p.SlashDoubleSignBps = 3333, 7777
	e := newEnv(t, p)
	op, d := acct("op"), acct("d")
	e.fund(op, 10_000)
	e.fund(d, 10_000)
	a, b := newConsKey("a"), newConsKey("b")
	e.create(a, op, 1237, 0)
	e.create(b, op, 4567, 3)
	e.delegate(d, a, 999)
	e.delegate(d, b, 1001)
	e.end()
	for e.height < 5 {
		e.begin(e.activeVotes(a.addr))
		e.undelegate(d, a, 17)
		e.undelegate(d, b, 13)
	}
	e.begin(e.activeVotes(a.addr), staking.Evidence{Address: b.addr, Height: 3})
	if !e.val(a).Jailed || !e.val(b).Tombstoned {
		t.Fatal("expected a jailed and b tombstoned")
	}
	// e.check() after every step already proved the invariant; the burnt
	// total is what the supply lost.
	want := uint64(10_000 * 2)
	burnt := want - e.m.Supply().Uint64()
	if burnt == 0 {
		t.Fatal("nothing burnt")
	}
	t.Logf("burnt %d of %d", burnt, want)
}

func TestParseConsensusKey(t *testing.T) {
	k := newConsKey("a")
	if pk, err := staking.ParseConsensusKey(k.pub); err != nil || !bytes.Equal(pk, k.pub) {
		t.Fatalf("valid key: %v", err)
	}
	for _, b := range [][]byte{nil, ed25519.GenPrivKey().PubKey().Bytes(), append([]byte{0x05}, make([]byte, 32)...), k.pub[:32]} {
		if _, err := staking.ParseConsensusKey(b); err == nil {
			t.Fatalf("accepted %x", b)
		}
	}
}

// TestUnbondingWaitsForBothBounds: an entry is paid in the first block at
// or past both its completion height and its completion time, whichever
// comes later; a block without a time (zero) bounds entries by height only.
func TestUnbondingWaitsForBothBounds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		step     time.Duration
		blocks   int64
		unbond   time.Duration
		paidAt   int64 // blocks after the Undelegate
		zeroTime bool
	}{
		{"fast blocks: time is later", time.Second, 3, 10 * time.Second, 10, false},
		{"slow blocks: height is later", 10 * time.Second, 5, 10 * time.Second, 5, false},
		{"both at once", 2 * time.Second, 4, 8 * time.Second, 4, false},
		{"time not a multiple of the interval", 3 * time.Second, 2, 10 * time.Second, 4, false},
		{"no block time", time.Second, 3, time.Hour, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testParams()
			p.UnbondingBlocks, p.UnbondingTime = tc.blocks, tc.unbond
			e := newEnv(t, p)
			e.step = tc.step
			op, d := acct("op"), acct("d")
			e.fund(op, 1000)
			e.fund(d, 1000)
			k := newConsKey("a")
			e.create(k, op, 200, 0)
			e.delegate(d, k, 500)
			if tc.zeroTime {
				e.step, e.clock = 0, time.Time{}
			}
			e.begin(nil)
			created := e.height
			e.undelegate(d, k, 100)
			if q := e.m.UnbondingEntries(); len(q) != 1 || q[0].CompletionHeight != created+tc.blocks ||
				(tc.zeroTime != q[0].CompletionTime.IsZero()) || (!tc.zeroTime && !q[0].CompletionTime.Equal(e.clock.Add(tc.unbond))) {
				t.Fatalf("entry %+v", q)
			}
			for e.height < created+tc.paidAt+3 {
				ev := e.begin(nil)
				paid := e.balance(d) == 600
				if want := e.height >= created+tc.paidAt; paid != want || (ev.Matured == 1) != (e.height == created+tc.paidAt) {
					t.Fatalf("%d blocks after: paid %v, matured %d", e.height-created, paid, ev.Matured)
				}
			}
		})
	}
}

// TestUnbondingAtInfractionHeightIsSlashed: stake undelegated in the very
// block a validator double-signed is still unbonding, and is slashed, when
// the evidence lands in the last block CometBFT admits it, whether blocks
// are fast (the evidence's time bound governs) or slow (its block bound
// does), with the evidence ages the genesis derives from unbonding.
func TestUnbondingAtInfractionHeightIsSlashed(t *testing.T) {
	sp := genesis.DefaultStakingParams()
	sp.UnbondingBlocks, sp.UnbondingTime = 7, "1m"
	maxBlocks, maxAge, err := sp.EvidenceMaxAge()
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []time.Duration{time.Second, 9 * time.Second, 30 * time.Second} {
		t.Run(step.String(), func(t *testing.T) {
			p := testParams() // 5% for a double sign
			p.UnbondingBlocks, p.UnbondingTime = sp.UnbondingBlocks, time.Minute
			e := newEnv(t, p)
			e.step = step
			op, d := acct("op"), acct("d")
			e.fund(op, 1000)
			e.fund(d, 2000)
			a := newConsKey("a")
			e.create(a, op, 1000, 0)
			e.delegate(d, a, 1000)
			e.end()
			times := map[int64]time.Time{}
			for e.height < 3 {
				e.begin(e.activeVotes())
				times[e.height] = e.clock
			}
			h := e.height // a double-signs at h; d leaves in the same block
			e.undelegate(d, a, 200)
			// CometBFT admits evidence of h in block E while the previous
			// block is at most maxBlocks past h or at most maxAge after it.
			admissible := func(E int64) bool {
				prev, ok := times[E-1]
				if !ok {
					prev = e.clock.Add(time.Duration(E-1-e.height) * step)
				}
				return E-1-h <= maxBlocks || prev.Sub(times[h]) <= maxAge
			}
			for admissible(e.height + 2) {
				e.begin(e.activeVotes())
				times[e.height] = e.clock
			}
			if !admissible(e.height + 1) {
				t.Fatal("test bug: the evidence block is not admissible")
			}
			ev := e.begin(e.activeVotes(), staking.Evidence{Address: a.addr, Height: h})
			if ev.Slashed[a.addr] == nil || ev.Slashed[a.addr].IsZero() {
				t.Fatalf("no slash at %d", e.height)
			}
			t.Logf("evidence of %d committed at %d (%s later)", h, e.height, e.clock.Sub(times[h]))
			if step == time.Second && e.height <= h+p.UnbondingBlocks {
				t.Fatal("with fast blocks the evidence should come after unbonding_blocks")
			}
			for i := 0; i < 80; i++ {
				e.begin(e.activeVotes())
			}
			if got := e.balance(d); got != 1000+190 {
				t.Fatalf("d got back %d, want 190 of the 200 (5%% slashed)", got-1000)
			}
		})
	}
}
