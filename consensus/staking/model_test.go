package staking_test

import (
	"bytes"
	"math/big"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/consensus/staking"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// model is an independent, math/big account of what staking must do when
// nothing is slashed: shares then equal tokens, so each delegation is a
// token amount.
type model struct {
	bal    map[common.Address]*big.Int
	pool   *big.Int
	supply *big.Int
	vals   map[common.Address]*mval
	unb    []mentry
}

type mval struct {
	op         common.Address
	commission int64
	del        map[common.Address]*big.Int
}

type mentry struct {
	d, v       common.Address
	amt        *big.Int
	completion int64
}

func (v *mval) tokens() *big.Int {
	s := new(big.Int)
	for _, x := range v.del {
		s.Add(s, x)
	}
	return s
}

func (m *model) get(a common.Address) *big.Int {
	if m.bal[a] == nil {
		m.bal[a] = new(big.Int)
	}
	return m.bal[a]
}

func bi(v uint64) *big.Int { return new(big.Int).SetUint64(v) }

// beginBlock is the payout rule written out: the pool (plus the block
// reward) is split among signers by power; each part pays commission to the
// operator and the rest to delegators by stake; all divisions round down and
// the remainder stays. Then unbonding entries due at height are paid.
func (m *model) beginBlock(height int64, reward uint64, votes []staking.Vote) (paid *big.Int) {
	m.supply.Add(m.supply, bi(reward))
	m.pool.Add(m.pool, bi(reward))
	paid = new(big.Int)
	total := new(big.Int)
	for _, vt := range votes {
		if vt.Signed && vt.Power > 0 {
			total.Add(total, big.NewInt(vt.Power))
		}
	}
	if m.pool.Sign() > 0 && total.Sign() > 0 {
		for _, vt := range votes {
			v := m.vals[vt.Address]
			if !vt.Signed || vt.Power <= 0 || v == nil {
				continue
			}
			share := new(big.Int).Div(new(big.Int).Mul(m.pool, big.NewInt(vt.Power)), total)
			comm := new(big.Int).Div(new(big.Int).Mul(share, big.NewInt(v.commission)), big.NewInt(10_000))
			m.get(v.op).Add(m.get(v.op), comm)
			paid.Add(paid, comm)
			rest := new(big.Int).Sub(share, comm)
			tokens := v.tokens()
			if tokens.Sign() == 0 {
				continue
			}
			for d, x := range v.del {
				r := new(big.Int).Div(new(big.Int).Mul(rest, x), tokens)
				m.get(d).Add(m.get(d), r)
				paid.Add(paid, r)
			}
		}
		m.pool.Sub(m.pool, paid)
	}
	kept := m.unb[:0]
	for _, e := range m.unb {
		if e.completion <= height {
			m.get(e.d).Add(m.get(e.d), e.amt)
		} else {
			kept = append(kept, e)
		}
	}
	m.unb = kept
	return paid
}

// compare fails t unless the module's state equals the model's, exactly.
func (m *model) compare(t *testing.T, e *env, accounts []common.Address) {
	t.Helper()
	for _, a := range accounts {
		if got, want := e.bank.Balance(a).ToBig(), m.get(a); got.Cmp(want) != 0 {
			t.Fatalf("height %d: balance of %s is %s, model says %s", e.height, a, got, want)
		}
	}
	if got := e.m.Pool().ToBig(); got.Cmp(m.pool) != 0 {
		t.Fatalf("height %d: pool %s, model %s", e.height, got, m.pool)
	}
	if got := e.m.Supply().ToBig(); got.Cmp(m.supply) != 0 {
		t.Fatalf("height %d: supply %s, model %s", e.height, got, m.supply)
	}
	for addr, mv := range m.vals {
		v := e.m.Validator(addr)
		if got := new(uint256.Int).SetBytes(v.Tokens).ToBig(); got.Cmp(mv.tokens()) != 0 {
			t.Fatalf("height %d: validator %s has %s tokens, model %s", e.height, addr, got, mv.tokens())
		}
		for _, d := range accounts {
			want := mv.del[d]
			del := e.m.Delegation(addr, d)
			switch {
			case want == nil && del != nil:
				t.Fatalf("height %d: %s has a delegation to %s the model lacks", e.height, d, addr)
			case want != nil && (del == nil || new(uint256.Int).SetBytes(del.Shares).ToBig().Cmp(want) != 0):
				t.Fatalf("height %d: %s's delegation to %s is %v, model %s", e.height, d, addr, del, want)
			}
		}
	}
	q := e.m.Unbonding()
	if len(q) != len(m.unb) {
		t.Fatalf("height %d: %d unbonding entries, model %d", e.height, len(q), len(m.unb))
	}
	for i, u := range q {
		w := m.unb[i]
		if !bytes.Equal(u.Delegator, w.d[:]) || !bytes.Equal(u.Validator, w.v[:]) || u.CompletionHeight != w.completion ||
			new(uint256.Int).SetBytes(u.Amount).ToBig().Cmp(w.amt) != 0 {
			t.Fatalf("height %d: unbonding entry %d is %v, model %+v", e.height, i, u, w)
		}
	}
}

func seededRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := time.Now().UnixNano()
	if s := os.Getenv("WEFT_TEST_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("WEFT_TEST_SEED: %v", err)
		}
	}
	t.Logf("seed %d (replay with WEFT_TEST_SEED=%d)", seed, seed)
	return rand.New(rand.NewSource(seed))
}

// TestRewardsDelegationsUnbondingExact runs 400 blocks of random fees,
// delegations, undelegations, missed votes and a validator created midway,
// and compares every balance, delegation, unbonding entry, the pool and the
// supply with the model after every block. Replay a failure with the
// printed seed.
func TestRewardsDelegationsUnbondingExact(t *testing.T) {
	rng := seededRand(t)
	p := testParams()
	p.MaxValidators = 3
	p.BlockReward = u(3)
	p.UnbondingBlocks = 9
	// No jailing: it would slash, and the model has no slashes.
	p.SignedBlocksWindow, p.MaxMissedBlocks = 1000, 999
	e := newEnv(t, p)
	m := &model{bal: map[common.Address]*big.Int{}, pool: new(big.Int), supply: new(big.Int), vals: map[common.Address]*mval{}}

	var accounts []common.Address
	for i := 0; i < 8; i++ {
		a := acct("m" + strconv.Itoa(i))
		accounts = append(accounts, a)
		v := uint64(50_000 + rng.Intn(50_000))
		e.fund(a, v)
		m.get(a).SetUint64(v)
		m.supply.Add(m.supply, bi(v))
	}
	keys := []consKey{newConsKey("m0"), newConsKey("m1"), newConsKey("m2"), newConsKey("m3")}
	create := func(i int, stake uint64, commission uint32) {
		op := accounts[i]
		e.create(keys[i], op, stake, commission)
		m.get(op).Sub(m.get(op), bi(stake))
		m.vals[keys[i].addr] = &mval{op: op, commission: int64(commission), del: map[common.Address]*big.Int{op: bi(stake)}}
	}
	create(0, 2_000, 1000)
	create(1, 3_000, 0)
	create(2, 1_000, 10_000)
	e.end()

	var totalPaid, totalFees big.Int
	matured, delegations, undelegations := 0, 0, 0
	for e.height < 400 {
		votes := e.activeVotes()
		for i := range votes {
			votes[i].Signed = rng.Intn(10) != 0
		}
		before := len(m.unb)
		paid := m.beginBlock(e.height+1, p.BlockReward.Uint64(), votes)
		ev := e.begin(votes)
		if ev.Distributed.ToBig().Cmp(paid) != 0 {
			t.Fatalf("height %d: distributed %s, model %s", e.height, ev.Distributed, paid)
		}
		matured += before - len(m.unb)
		totalPaid.Add(&totalPaid, paid)
		if e.height == 150 {
			create(3, 5_000, 2500)
		}
		for n := rng.Intn(4); n > 0; n-- {
			a := accounts[rng.Intn(len(accounts))]
			f := uint64(rng.Intn(997))
			if m.get(a).Cmp(bi(f)) < 0 {
				continue
			}
			e.fee(a, f)
			m.get(a).Sub(m.get(a), bi(f))
			m.pool.Add(m.pool, bi(f))
			totalFees.Add(&totalFees, bi(f))
		}
		for n := rng.Intn(3); n > 0; n-- {
			d := accounts[rng.Intn(len(accounts))]
			k := keys[rng.Intn(len(keys))]
			mv := m.vals[k.addr]
			if mv == nil || m.get(d).Sign() == 0 {
				continue
			}
			amt := uint64(1 + rng.Int63n(min(m.get(d).Int64(), 3000)))
			if mv.tokens().Sign() == 0 {
				// Everyone left: the share price is undefined and the
				// validator takes no new stake.
				e.rejected("delegate to a validator without tokens", staking.ErrState, func() *staking.Error {
					return e.m.Delegate(d, &weftv1.Delegate{Validator: k.addr.Bytes(), Amount: u(amt).Bytes()})
				})
				continue
			}
			e.delegate(d, k, amt)
			m.get(d).Sub(m.get(d), bi(amt))
			if mv.del[d] == nil {
				mv.del[d] = new(big.Int)
			}
			mv.del[d].Add(mv.del[d], bi(amt))
			delegations++
		}
		for n := rng.Intn(3); n > 0; n-- {
			d := accounts[rng.Intn(len(accounts))]
			k := keys[rng.Intn(len(keys))]
			mv := m.vals[k.addr]
			if mv == nil || mv.del[d] == nil {
				continue
			}
			have := mv.del[d].Uint64()
			amt := have
			if rng.Intn(3) != 0 {
				amt = uint64(1 + rng.Int63n(int64(have)))
			}
			e.undelegate(d, k, amt)
			if mv.del[d].Sub(mv.del[d], bi(amt)); mv.del[d].Sign() == 0 {
				delete(mv.del, d)
			}
			m.unb = append(m.unb, mentry{d: d, v: k.addr, amt: bi(amt), completion: e.height + p.UnbondingBlocks})
			undelegations++
		}
		e.end()
		m.compare(t, e, accounts)
	}
	if totalPaid.Sign() == 0 || matured == 0 || delegations == 0 || undelegations == 0 {
		t.Fatal("the run exercised too little")
	}
	t.Logf("%d blocks: fees %s + rewards %d paid out %s (pool left %s); %d delegations, %d undelegations, %d matured",
		e.height, &totalFees, 400*p.BlockReward.Uint64(), &totalPaid, m.pool, delegations, undelegations, matured)
}
