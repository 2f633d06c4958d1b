package p2p

import (
	"math"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// StandingConfig sets how much gossip a peer may send and how quickly
// misbehaviour gets it banned. Zero fields take DefaultStandingConfig's.
type StandingConfig struct {
	// RateBytes and RateMsgs are the sustained per-peer budget of published
	// message bytes and messages per second. A peer may burst up to Burst
	// worth of the budget. Over budget, its RPCs are dropped unread.
	RateBytes float64
	RateMsgs  float64
	Burst     time.Duration
	// InvalidPenalty is added to a peer's penalty for each message that
	// carries an invalid transaction (malformed, bad signature, wrong chain,
	// a fee its sender cannot pay), carries a transaction twice, or does not
	// decode; RatePenalty for each RPC dropped over budget.
	InvalidPenalty float64
	RatePenalty    float64
	// KnownPenalty is added for each gossiped tx already pending or
	// committed here, recognised by its hash; UselessPenalty for each one
	// decoded (its signature recovered) and then not taken: a stale nonce,
	// unaffordable on top of its sender's pending txs, an underpriced
	// replacement, a nonce gap. Both are per tx, so a peer pays for every
	// tx that wasted this node's CPU, roughly in proportion to the CPU:
	// one point is about half a millisecond of it (10 signature recoveries
	// or 200 hash lookups). Honest peers send few such txs (a tx another
	// validator relayed first, a tx committed while in flight), a peer
	// replaying or spamming cheap txs many. Txs the node refuses for its own
	// reasons (mempool full) cost nothing.
	KnownPenalty   float64
	UselessPenalty float64
	// BanAt is the penalty at which a peer is banned for BanFor: its RPCs
	// are dropped, its connections closed and new ones refused.
	BanAt  float64
	BanFor time.Duration
	// HalfLife is how fast penalties are forgiven.
	HalfLife time.Duration
	// IdleAfter forgets peers that sent nothing for that long and are
	// neither penalised nor banned (bounds the table).
	IdleAfter time.Duration
}

// DefaultStandingConfig is generous to honest validators (a 64 KiB payload
// stream at tens of MB/s fits) and bans a peer after ten bad messages.
//
// With a minute's half-life, a peer charged r points a second reaches the
// ban at 100 points after t = -86.6 s × ln(1 - 1.155/r): a peer sending
// 1,000 useless txs a second (r = 100) is banned in 1 s, 2,000 known txs a
// second (r = 10) in 11 s, one full batch of 4,096 known txs costs 20
// points. A peer is never banned below 1.155 points a second sustained:
// 11 useless or 230 known txs a second, or a burst of 1,000 useless or
// 20,000 known txs at once, well above what honest relaying produces.
func DefaultStandingConfig() StandingConfig {
	return StandingConfig{
		RateBytes:      64 << 20,
		RateMsgs:       5000,
		Burst:          2 * time.Second,
		InvalidPenalty: 10,
		RatePenalty:    1,
		KnownPenalty:   0.005,
		UselessPenalty: 0.1,
		BanAt:          100,
		BanFor:         time.Hour,
		HalfLife:       time.Minute,
		IdleAfter:      10 * time.Minute,
	}
}

func (c StandingConfig) withDefaults() StandingConfig {
	d := DefaultStandingConfig()
	pick := func(v *float64, def float64) {
		if *v <= 0 {
			*v = def
		}
	}
	pickD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&c.RateBytes, d.RateBytes)
	pick(&c.RateMsgs, d.RateMsgs)
	pick(&c.InvalidPenalty, d.InvalidPenalty)
	pick(&c.RatePenalty, d.RatePenalty)
	pick(&c.KnownPenalty, d.KnownPenalty)
	pick(&c.UselessPenalty, d.UselessPenalty)
	pick(&c.BanAt, d.BanAt)
	pickD(&c.Burst, d.Burst)
	pickD(&c.BanFor, d.BanFor)
	pickD(&c.HalfLife, d.HalfLife)
	pickD(&c.IdleAfter, d.IdleAfter)
	return c
}

// Admission is what Standing.Admit decides about an incoming RPC.
type Admission int

// Admissions.
const (
	Admitted Admission = iota // within budget: process it
	OverRate                  // over the peer's budget: drop it
	Banned                    // the peer is banned: drop it
)

func (a Admission) String() string {
	switch a {
	case Admitted:
		return "admitted"
	case OverRate:
		return "over_rate"
	}
	return "banned"
}

type peerStanding struct {
	bytes, msgs float64   // token buckets
	penalty     float64   // decays with HalfLife
	at          time.Time // when buckets and penalty were last brought up to date
	bannedUntil time.Time
}

// Standing keeps every gossip peer's budget and penalty. It is a pure core:
// no goroutines, no clock of its own (every call takes now), not safe for
// concurrent use; the gossip host wraps it in a mutex.
type Standing struct {
	cfg   StandingConfig
	peers map[peer.ID]*peerStanding
	swept time.Time
	bans  int
}

// NewStanding returns an empty table.
func NewStanding(cfg StandingConfig) *Standing {
	return &Standing{cfg: cfg.withDefaults(), peers: map[peer.ID]*peerStanding{}}
}

// Config is the effective configuration (defaults filled in).
func (s *Standing) Config() StandingConfig { return s.cfg }

func (s *Standing) get(p peer.ID, now time.Time) *peerStanding {
	ps := s.peers[p]
	if ps == nil {
		burst := s.cfg.Burst.Seconds()
		ps = &peerStanding{bytes: s.cfg.RateBytes * burst, msgs: s.cfg.RateMsgs * burst, at: now}
		s.peers[p] = ps
		return ps
	}
	if dt := now.Sub(ps.at).Seconds(); dt > 0 {
		burst := s.cfg.Burst.Seconds()
		ps.bytes = math.Min(ps.bytes+dt*s.cfg.RateBytes, s.cfg.RateBytes*burst)
		ps.msgs = math.Min(ps.msgs+dt*s.cfg.RateMsgs, s.cfg.RateMsgs*burst)
		ps.penalty *= math.Exp2(-dt / s.cfg.HalfLife.Seconds())
		ps.at = now
	}
	return ps
}

// Admit charges an RPC carrying msgs published messages of bytes total to
// peer p's budget.
func (s *Standing) Admit(p peer.ID, msgs, bytes int, now time.Time) Admission {
	s.sweep(now)
	ps := s.get(p, now)
	if now.Before(ps.bannedUntil) {
		return Banned
	}
	if msgs == 0 {
		return Admitted
	}
	if ps.msgs < float64(msgs) || ps.bytes < float64(bytes) {
		s.penalise(ps, s.cfg.RatePenalty, now)
		if now.Before(ps.bannedUntil) {
			return Banned
		}
		return OverRate
	}
	ps.msgs -= float64(msgs)
	ps.bytes -= float64(bytes)
	return Admitted
}

// Invalid records that p sent an invalid message; it reports whether that
// got p banned (true only on the call that crosses BanAt).
func (s *Standing) Invalid(p peer.ID, now time.Time) (banned bool) {
	return s.charge(p, s.cfg.InvalidPenalty, now)
}

// Useless records that p sent known txs already known here and useless
// ones decoded for nothing (see StandingConfig.KnownPenalty); it reports
// whether that got p banned.
func (s *Standing) Useless(p peer.ID, known, useless int, now time.Time) (banned bool) {
	return s.charge(p, float64(known)*s.cfg.KnownPenalty+float64(useless)*s.cfg.UselessPenalty, now)
}

func (s *Standing) charge(p peer.ID, pts float64, now time.Time) bool {
	ps := s.get(p, now)
	if now.Before(ps.bannedUntil) {
		return false
	}
	return s.penalise(ps, pts, now)
}

func (s *Standing) penalise(ps *peerStanding, pts float64, now time.Time) bool {
	ps.penalty += pts
	if ps.penalty >= s.cfg.BanAt {
		ps.bannedUntil = now.Add(s.cfg.BanFor)
		ps.penalty = 0
		s.bans++
		return true
	}
	return false
}

// IsBanned reports whether p is banned at now.
func (s *Standing) IsBanned(p peer.ID, now time.Time) bool {
	ps := s.peers[p]
	return ps != nil && now.Before(ps.bannedUntil)
}

// Penalty is p's current penalty (0 for an unknown peer).
func (s *Standing) Penalty(p peer.ID, now time.Time) float64 {
	if s.peers[p] == nil {
		return 0
	}
	return s.get(p, now).penalty
}

// Bans counts bans so far; Len is how many peers the table holds.
func (s *Standing) Bans() int { return s.bans }

// Len is the number of peers tracked.
func (s *Standing) Len() int { return len(s.peers) }

// sweep forgets idle peers in good standing, at most once per IdleAfter/4.
func (s *Standing) sweep(now time.Time) {
	if now.Sub(s.swept) < s.cfg.IdleAfter/4 {
		return
	}
	s.swept = now
	for p, ps := range s.peers {
		if now.Before(ps.bannedUntil) || now.Sub(ps.at) < s.cfg.IdleAfter {
			continue
		}
		if s.get(p, now).penalty < s.cfg.InvalidPenalty/100 {
			delete(s.peers, p)
		}
	}
}
