package p2p

import (
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestStandingBudgetRefillsAtTheRate(t *testing.T) {
	s := NewStanding(StandingConfig{RateBytes: 1000, RateMsgs: 10, Burst: time.Second, RatePenalty: 1, BanAt: 1000})
	p := peer.ID("a")
	// The burst is one second's worth: 10 messages.
	for i := 0; i < 10; i++ {
		if a := s.Admit(p, 1, 10, t0); a != Admitted {
			t.Fatalf("message %d: %v", i, a)
		}
	}
	if a := s.Admit(p, 1, 10, t0); a != OverRate {
		t.Fatalf("11th message in the same instant: %v", a)
	}
	// 100 ms refill one message.
	if a := s.Admit(p, 1, 10, t0.Add(100*time.Millisecond)); a != Admitted {
		t.Fatalf("after 100ms: %v", a)
	}
	if a := s.Admit(p, 1, 10, t0.Add(100*time.Millisecond)); a != OverRate {
		t.Fatalf("second after 100ms: %v", a)
	}
	// Bytes are a budget of their own: 1000 B/s.
	q := peer.ID("b")
	if a := s.Admit(q, 1, 900, t0); a != Admitted {
		t.Fatalf("900 B: %v", a)
	}
	if a := s.Admit(q, 1, 200, t0); a != OverRate {
		t.Fatalf("1100 B in one second: %v", a)
	}
	if a := s.Admit(q, 1, 200, t0.Add(200*time.Millisecond)); a != Admitted {
		t.Fatalf("after 200ms: %v", a)
	}
	// Control-only RPCs (no published messages) cost nothing.
	if a := s.Admit(p, 0, 0, t0.Add(100*time.Millisecond)); a != Admitted {
		t.Fatalf("control RPC: %v", a)
	}
	// A long pause refills up to the burst, not beyond.
	later := t0.Add(time.Hour)
	for i := 0; i < 10; i++ {
		if a := s.Admit(p, 1, 10, later); a != Admitted {
			t.Fatalf("after an hour, message %d: %v", i, a)
		}
	}
	if a := s.Admit(p, 1, 10, later); a != OverRate {
		t.Fatalf("burst exceeded after an hour: %v", a)
	}
}

func TestStandingBansRepeatOffendersAndForgives(t *testing.T) {
	s := NewStanding(StandingConfig{InvalidPenalty: 10, BanAt: 100, BanFor: time.Minute, HalfLife: time.Minute})
	bad, good := peer.ID("bad"), peer.ID("good")
	for i := 0; i < 9; i++ {
		if s.Invalid(bad, t0) {
			t.Fatalf("banned after %d invalid messages", i+1)
		}
	}
	if got := s.Penalty(bad, t0); got != 90 {
		t.Fatalf("penalty %v", got)
	}
	if !s.Invalid(bad, t0) {
		t.Fatal("not banned at the 10th invalid message")
	}
	if !s.IsBanned(bad, t0) || s.IsBanned(good, t0) || s.Bans() != 1 {
		t.Fatalf("banned: bad %v good %v bans %d", s.IsBanned(bad, t0), s.IsBanned(good, t0), s.Bans())
	}
	if a := s.Admit(bad, 1, 1, t0.Add(time.Second)); a != Banned {
		t.Fatalf("banned peer admitted: %v", a)
	}
	if a := s.Admit(good, 1, 1, t0.Add(time.Second)); a != Admitted {
		t.Fatalf("good peer: %v", a)
	}
	// Further invalid messages while banned do not count a second ban.
	if s.Invalid(bad, t0.Add(time.Second)) || s.Bans() != 1 {
		t.Fatal("second ban while banned")
	}
	// The ban expires after BanFor, with a clean slate.
	end := t0.Add(time.Minute)
	if s.IsBanned(bad, end) || s.Admit(bad, 1, 1, end) != Admitted || s.Penalty(bad, end) != 0 {
		t.Fatal("ban did not expire")
	}
	// Penalties halve every HalfLife: 5 invalid messages a minute apart
	// never reach a ban that 10 in a row do.
	slow := peer.ID("slow")
	for i := 0; i < 30; i++ {
		if s.Invalid(slow, t0.Add(time.Duration(i)*time.Minute)) {
			t.Fatalf("slow offender banned at %d", i)
		}
	}
	if p := s.Penalty(slow, t0.Add(29*time.Minute)); p < 10 || p > 20 {
		t.Fatalf("steady-state penalty %v, want between 10 and 20", p)
	}
}

func TestStandingOverRateCountsTowardsABan(t *testing.T) {
	s := NewStanding(StandingConfig{RateMsgs: 1, RateBytes: 1 << 20, Burst: time.Second, RatePenalty: 25, BanAt: 100})
	p := peer.ID("flood")
	if a := s.Admit(p, 1, 1, t0); a != Admitted {
		t.Fatal(a)
	}
	var last Admission
	for i := 0; i < 4; i++ {
		last = s.Admit(p, 1, 1, t0)
	}
	if last != Banned || !s.IsBanned(p, t0) {
		t.Fatalf("four RPCs over budget: %v", last)
	}
}

func TestStandingForgetsIdlePeers(t *testing.T) {
	s := NewStanding(StandingConfig{IdleAfter: time.Minute, HalfLife: time.Second, BanFor: time.Hour})
	for i := 0; i < 100; i++ {
		s.Admit(peer.ID(rune('a'+i%26))+peer.ID(rune(i)), 1, 1, t0)
	}
	s.Invalid("kept", t0)
	for i := 0; i < 10; i++ {
		s.Invalid("banned", t0)
	}
	if !s.IsBanned("banned", t0) {
		t.Fatal("not banned")
	}
	s.Admit("fresh", 1, 1, t0.Add(2*time.Hour-time.Second))
	// Two hours on: every idle peer in good standing is gone; the ban has
	// expired too, so only the fresh peer remains.
	if s.Len() != 1 {
		t.Fatalf("table holds %d peers", s.Len())
	}
	s2 := NewStanding(StandingConfig{IdleAfter: time.Minute, BanFor: time.Hour})
	for i := 0; i < 10; i++ {
		s2.Invalid("banned", t0)
	}
	s2.Admit("x", 1, 1, t0.Add(5*time.Minute))
	if !s2.IsBanned("banned", t0.Add(5*time.Minute)) || s2.Len() != 2 {
		t.Fatalf("a banned peer was forgotten: len %d", s2.Len())
	}
}

// TestStandingUselessTxsPerTx: txs that bring nothing are charged one by
// one, decoded ones (a signature recovered for nothing) twenty times more
// than ones recognised as known by their hash.
func TestStandingUselessTxsPerTx(t *testing.T) {
	s := NewStanding(StandingConfig{})
	if c := s.Config(); c.KnownPenalty != 0.005 || c.UselessPenalty != 0.1 || c.BanAt != 100 {
		t.Fatalf("defaults %+v", c)
	}
	// An honest peer relays a few txs another validator relayed first, and
	// now and then one that was committed or replaced in flight: 100 known
	// and 5 useless txs a second for ten minutes never get it banned.
	p := peer.ID("honest")
	for i := 0; i < 600; i++ {
		if s.Useless(p, 100, 5, t0.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("honest peer banned after %ds", i)
		}
	}
	if pen := s.Penalty(p, t0.Add(599*time.Second)); pen < 50 || pen > 90 {
		t.Fatalf("steady-state penalty %v, want about 86", pen)
	}
	// A burst of 990 useless txs is not enough; 1,000 are.
	q := peer.ID("spammer")
	if s.Useless(q, 0, 990, t0) || !s.Useless(q, 0, 10, t0) {
		t.Fatal("1,000 useless txs at once must ban, 990 must not")
	}
	// Known txs: 19,800 are not enough, 20,000 are.
	r := peer.ID("replayer")
	if s.Useless(r, 19_800, 0, t0) || !s.Useless(r, 200, 0, t0) {
		t.Fatal("20,000 known txs at once must ban, 19,800 must not")
	}
	// Sustained: 2,000 known txs a second (10 points a second) ban within
	// 11 seconds, 1,000 useless ones a second within 1.
	for _, tc := range []struct {
		known, useless int
		within         time.Duration
	}{{2000, 0, 11 * time.Second}, {0, 1000, time.Second}} {
		x := peer.ID(fmt.Sprintf("flood %d %d", tc.known, tc.useless))
		banned := false
		for at := time.Duration(0); at <= tc.within && !banned; at += 10 * time.Millisecond {
			banned = s.Useless(x, tc.known/100, tc.useless/100, t0.Add(at))
		}
		if !banned {
			t.Fatalf("%d known and %d useless txs a second: not banned within %v", tc.known, tc.useless, tc.within)
		}
	}
	// Nothing to charge is free.
	if s.Useless("idle", 0, 0, t0) || s.Penalty("idle", t0) != 0 {
		t.Fatal("an empty charge")
	}
}
