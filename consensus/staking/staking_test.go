package staking_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/weftnet/weft/consensus/staking"
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
