package staking_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/consensus/staking"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// recKV is a memKV that records what was written since the last reset, as
// the consensus overlay would commit it: distinct keys and their bytes.
type recKV struct {
	memKV
	written map[string]int
}

func (r *recKV) Set(k, v []byte) {
	r.written[string(k)] = len(k) + len(v)
	r.memKV.Set(k, v)
}

// recBank records which balances were written since the last reset.
type recBank struct {
	memBank
	written map[common.Address]bool
}

func (b *recBank) SetBalance(a common.Address, v *uint256.Int) {
	b.written[a] = true
	b.memBank.SetBalance(a, v)
}

// cost is what one step wrote: state keys, their bytes, balances.
type cost struct{ keys, bytes, balances int }

type recorder struct {
	kv   *recKV
	bank *recBank
}

func (r recorder) reset() {
	r.kv.written = map[string]int{}
	r.bank.written = map[common.Address]bool{}
}

func (r recorder) cost() cost {
	c := cost{keys: len(r.kv.written), balances: len(r.bank.written)}
	for _, n := range r.kv.written {
		c.bytes += n
	}
	return c
}

// costs are what each step of a chain with n delegators on one validator
// writes.
type costs struct {
	delegate, undelegate, begin, matureFirst cost
	maturedFirst, maturingBlocks             int
}

// measure builds a validator with n delegators that each undelegate a
// little (n unbonding entries, all due together), then measures: one more
// delegation, one more undelegation, a block paying rewards to the
// validator, and the block in which all n entries come due.
func measure(t *testing.T, n int) costs {
	t.Helper()
	p := testParams()
	kv, bank := &recKV{memKV: memKV{}, written: map[string]int{}}, &recBank{memBank: memBank{}, written: map[common.Address]bool{}}
	r := recorder{kv, bank}
	m := staking.New(kv, bank, p)
	supply := uint64(0)
	fund := func(a common.Address, v uint64) { bank.memBank.SetBalance(a, u(v)); supply += v }
	must := func(err *staking.Error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	op, late := acct("op"), acct("late")
	fund(op, 1_000_000)
	fund(late, 1_000)
	k := newConsKey("a")
	clock := genesisTime
	height := int64(1)
	must(m.CreateValidator(op, &weftv1.CreateValidator{ConsensusPubKey: k.pub, SelfStake: u(500_000).Bytes()}, height))
	m.EndBlock()
	dels := make([]common.Address, n)
	for i := range dels {
		dels[i] = common.BytesToAddress([]byte(fmt.Sprintf("delegator-%07d", i)))
		fund(dels[i], 100)
		must(m.Delegate(dels[i], &weftv1.Delegate{Validator: k.addr.Bytes(), Amount: u(100).Bytes()}))
	}
	m.SetSupply(u(supply))

	var c costs
	r.reset()
	must(m.Delegate(late, &weftv1.Delegate{Validator: k.addr.Bytes(), Amount: u(100).Bytes()}))
	c.delegate = r.cost()

	// A block of rewards: every delegator now has some owed.
	clock = clock.Add(time.Second)
	height++
	m.CollectFee(u(1_000_000))
	bank.memBank.SetBalance(op, new(uint256.Int).Sub(bank.Balance(op), u(1_000_000)))
	r.reset()
	m.BeginBlockAt(height, clock, []staking.Vote{{Address: k.addr, Power: 50, Signed: true}}, nil)
	c.begin = r.cost()

	for _, d := range dels {
		must(m.Undelegate(d, &weftv1.Undelegate{Validator: k.addr.Bytes(), Amount: u(1).Bytes()}, height))
	}
	r.reset()
	must(m.Undelegate(late, &weftv1.Undelegate{Validator: k.addr.Bytes(), Amount: u(1).Bytes()}, height))
	c.undelegate = r.cost()
	if err := m.CheckSupply(bank.sum()); err != nil {
		t.Fatal(err)
	}

	// Every entry comes due at height + unbonding_blocks; blocks pay them
	// at most a fixed number at a time.
	for {
		clock = clock.Add(time.Second)
		height++
		r.reset()
		ev := m.BeginBlockAt(height, clock, nil, nil)
		if ev.Matured > 0 && c.maturingBlocks == 0 {
			c.matureFirst, c.maturedFirst = r.cost(), ev.Matured
		}
		if ev.Matured > 0 {
			c.maturingBlocks++
		}
		if len(m.Unbonding()) == 0 {
			break
		}
		if height > 1000 {
			t.Fatal("the queue does not drain")
		}
	}
	if err := m.CheckSupply(bank.sum()); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWritesDoNotGrowWithDelegators: what a delegation, an undelegation and
// a block's reward payout write is the same with 10 delegators as with
// 10,000 (same keys, same bytes, same balances); paying out unbonding
// entries is bounded per block, the rest waiting for the next blocks.
func TestWritesDoNotGrowWithDelegators(t *testing.T) {
	small, large := measure(t, 10), measure(t, 10_000)
	t.Logf("10 delegators: %+v", small)
	t.Logf("10,000 delegators: %+v", large)
	for _, s := range []struct {
		name         string
		small, large cost
	}{
		{"delegate", small.delegate, large.delegate},
		{"undelegate", small.undelegate, large.undelegate},
		{"BeginBlock paying rewards", small.begin, large.begin},
	} {
		// Keys and balances are equal; bytes may differ by the few bytes
		// of larger counters and amounts.
		if s.large.keys != s.small.keys || s.large.balances != s.small.balances || s.large.bytes > s.small.bytes+32 {
			t.Errorf("%s writes %+v with 10,000 delegators, %+v with 10", s.name, s.large, s.small)
		}
	}
	if small.begin.balances != 1 || small.begin.keys > 8 {
		t.Errorf("a reward block writes %+v: want the operator's balance and a few keys", small.begin)
	}
	if small.maturedFirst != 11 || small.maturingBlocks != 1 {
		t.Errorf("10 delegators: %d entries matured first, in %d blocks", small.maturedFirst, small.maturingBlocks)
	}
	// 10,001 entries: 1000 per block.
	if large.maturedFirst != 1000 || large.maturingBlocks != 11 || large.matureFirst.balances != 1000 || large.matureFirst.keys > 1000+4 {
		t.Errorf("10,000 delegators: first maturing block paid %d entries writing %+v; %d blocks", large.maturedFirst, large.matureFirst, large.maturingBlocks)
	}
}
