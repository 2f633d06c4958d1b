package rpc

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"
)

func legacyTx(nonce uint64) *types.Transaction { return txTo(nonce, common.Address{1}) }

func txTo(nonce uint64, to common.Address) *types.Transaction {
	return types.NewTx(&types.LegacyTx{Nonce: nonce, Gas: 21000, GasPrice: big.NewInt(1), To: &to})
}

// rich is a sender state whose balance covers any test tx.
func rich(nonce uint64) account {
	return account{nonce: nonce, balance: uint256.NewInt(params.Ether)}
}

func TestInflightNonces(t *testing.T) {
	f := newInflight(time.Minute, 0)
	a, b := common.Address{0xa}, common.Address{0xb}
	now := time.Unix(1000, 0)
	t0, t1, t3 := legacyTx(5), legacyTx(6), legacyTx(8)
	if f.pendingNonce(a, 5) != 5 {
		t.Fatal("no tx in flight: pending nonce is the state nonce")
	}
	for _, tx := range []*types.Transaction{t0, t1, t3} {
		if err := f.reserve(tx, a, rich(5), now); err != nil {
			t.Fatalf("reserve nonce %d: %v", tx.Nonce(), err)
		}
	}
	if err := f.reserve(txTo(6, common.Address{3}), a, rich(5), now); !errors.Is(err, core.ErrNonceTooLow) {
		t.Fatalf("reserved nonce 6 twice: %v", err)
	}
	if err := f.reserve(txTo(6, common.Address{2}), b, rich(6), now); err != nil {
		t.Fatalf("nonces are per sender: %v", err)
	}
	if got := f.pendingNonce(a, 5); got != 7 {
		t.Fatalf("pending nonce %d, want 7 (8 is after a gap)", got)
	}
	if got := f.pendingNonce(a, 6); got != 7 {
		t.Fatalf("pending nonce after nonce 5 executed: %d, want 7", got)
	}
	f.release(t0.Hash())
	if _, ok := f.get(t0.Hash()); ok {
		t.Fatal("released tx still in flight")
	}
	if err := f.reserve(legacyTx(5), a, rich(5), now); err != nil {
		t.Fatalf("a released nonce must be reusable: %v", err)
	}
	f.expire(now.Add(2 * time.Minute))
	if got := f.pendingNonce(a, 5); got != 5 {
		t.Fatalf("after expiry pending nonce %d, want 5", got)
	}
}

// minCost is the cost of a transfer of nothing at a fee cap of 1 wei.
const minCost = 21000

// spend is a tx of nonce whose cost (value + gas * fee cap) is exactly
// cost wei, at least minCost.
func spend(nonce, cost uint64) *types.Transaction {
	if cost < minCost {
		panic("spend: cost below the gas")
	}
	to := common.Address{1}
	return types.NewTx(&types.DynamicFeeTx{Nonce: nonce, Gas: 21000, GasFeeCap: big.NewInt(1), GasTipCap: big.NewInt(1),
		To: &to, Value: new(big.Int).SetUint64(cost - 21000)})
}

// TestInflightCosts: a sender's txs in flight are ordered (and paid for in
// Weft data) whether or not they can execute, so, as in go-ethereum's
// txpool, a tx is admitted only if the balance covers it after the max cost
// of the sender's txs in flight, and a sender has a bounded number of them.
func TestInflightCosts(t *testing.T) {
	const bal = 1_000_000 * minCost
	f := newInflight(time.Minute, 4)
	a := common.Address{0xa}
	now := time.Unix(1000, 0)
	st := func(nonce, balance uint64) account { return account{nonce: nonce, balance: uint256.NewInt(balance)} }
	insufficient := func(err error) bool {
		return errors.Is(err, core.ErrInsufficientFunds) && strings.Contains(err.Error(), "insufficient funds for gas * price + value")
	}

	// The whole balance once: fine; twice: the second can never execute.
	all := spend(0, bal)
	if err := f.reserve(all, a, st(0, bal), now); err != nil {
		t.Fatalf("tx spending the whole balance: %v", err)
	}
	if err := f.reserve(spend(1, bal), a, st(0, bal), now); !insufficient(err) {
		t.Fatalf("second tx spending the whole balance: %v, want %q", err, core.ErrInsufficientFunds)
	}
	if err := f.reserve(spend(1, minCost), a, st(0, bal), now); !insufficient(err) {
		t.Fatalf("the cheapest tx after the whole balance: %v", err)
	}
	// Once the first has executed (the state nonce passed it), only the
	// balance left counts, not the executed tx again.
	if err := f.reserve(spend(1, bal/2), a, st(1, bal/2), now); err != nil {
		t.Fatalf("after the first executed: %v", err)
	}
	f.release(all.Hash())

	// Replacing a nonce's tx (its earlier one forgotten) replaces its cost.
	second := spend(2, bal/2)
	if err := f.reserve(second, a, st(1, bal), now); err != nil {
		t.Fatal(err)
	}
	if err := f.reserve(spend(3, minCost), a, st(1, bal), now); !insufficient(err) {
		t.Fatalf("balance spent by nonces 1 and 2: %v", err)
	}
	f.release(second.Hash())
	if err := f.reserve(spend(2, bal/4), a, st(1, bal), now); err != nil {
		t.Fatalf("nonce 2 again, cheaper: %v", err)
	}
	if err := f.reserve(spend(3, bal/4), a, st(1, bal), now); err != nil {
		t.Fatalf("nonce 3 with a quarter left: %v", err)
	}

	// At most 4 txs in flight per sender, however rich.
	if err := f.reserve(spend(4, minCost), a, st(1, 1<<60), now); err != nil {
		t.Fatalf("fourth tx in flight: %v", err)
	}
	if err := f.reserve(spend(5, minCost), a, st(1, 1<<60), now); !errors.Is(err, txpool.ErrAccountLimitExceeded) {
		t.Fatalf("fifth tx in flight: %v, want %v", err, txpool.ErrAccountLimitExceeded)
	}
	// Other senders are not affected.
	if err := f.reserve(spend(0, bal), common.Address{0xb}, st(0, bal), now); err != nil {
		t.Fatalf("another sender: %v", err)
	}
	// A cost beyond 2^256 is refused, not wrapped.
	to := common.Address{1}
	huge := types.NewTx(&types.DynamicFeeTx{Nonce: 0, Gas: 1 << 62, GasFeeCap: new(big.Int).Lsh(big.NewInt(1), 250), To: &to})
	if err := f.reserve(huge, common.Address{0xc}, st(0, bal), now); !insufficient(err) {
		t.Fatalf("overflowing cost: %v", err)
	}
}

// TestInflightExecutedBeforeTheHeadShowsIt: a check reads the head, then a
// block executes the sender's first tx in flight and the executor's event
// releases it, then the check asks for the pending nonce with the state of
// the head it read (nonce still 15). The executed nonce must still count:
// otherwise the sender's next txs are refused as "nonce too high" (seen in
// TestSettlementEndToEnd: "nonce too high: tx 27 state: 15").
func TestInflightExecutedBeforeTheHeadShowsIt(t *testing.T) {
	f := newInflight(time.Minute, 0)
	a := common.Address{0xa}
	now := time.Unix(1000, 0)
	var txs []*types.Transaction
	for n := uint64(15); n < 27; n++ {
		tx := legacyTx(n)
		if err := f.reserve(tx, a, rich(15), now); err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	f.executed(txs[0].Hash(), now) // the block with nonce 15, seen before the head shows it
	if got := f.pendingNonce(a, 15); got != 27 {
		t.Fatalf("pending nonce with a stale head: %d, want 27", got)
	}
	if err := f.reserve(legacyTx(27), a, rich(15), now); err != nil {
		t.Fatalf("the next tx with a stale head: %v", err)
	}
	// A skipped tx's nonce is not used: release does not count it.
	f.release(txs[1].Hash())
	if got := f.pendingNonce(a, 16); got != 16 {
		t.Fatalf("after nonce 16 was skipped: pending %d, want 16", got)
	}
	// Once the head shows the executed nonce, the marker is moot, and it
	// expires with the in-flight txs.
	if got := f.pendingNonce(a, 17); got != 28 {
		t.Fatalf("pending nonce at state 17: %d, want 28", got)
	}
	f.expire(now.Add(2 * time.Minute))
	if got := f.pendingNonce(a, 15); got != 15 || len(f.executedTo) != 0 {
		t.Fatalf("after expiry: pending %d, %d markers", got, len(f.executedTo))
	}
}
