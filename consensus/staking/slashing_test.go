package staking_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/consensus/staking"
	"github.com/weftnet/weft/genesis"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

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
