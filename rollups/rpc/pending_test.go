package rpc

import (
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

func legacyTx(nonce uint64) *types.Transaction { return txTo(nonce, common.Address{1}) }

func txTo(nonce uint64, to common.Address) *types.Transaction {
	return types.NewTx(&types.LegacyTx{Nonce: nonce, Gas: 21000, GasPrice: big.NewInt(1), To: &to})
}

func TestInflightNonces(t *testing.T) {
	f := newInflight(time.Minute)
	a, b := common.Address{0xa}, common.Address{0xb}
	now := time.Unix(1000, 0)
	t0, t1, t3 := legacyTx(5), legacyTx(6), legacyTx(8)
	if f.pendingNonce(a, 5) != 5 {
		t.Fatal("no tx in flight: pending nonce is the state nonce")
	}
	for _, tx := range []*types.Transaction{t0, t1, t3} {
		if !f.reserve(tx, a, now) {
			t.Fatalf("reserve nonce %d", tx.Nonce())
		}
	}
	if f.reserve(txTo(6, common.Address{3}), a, now) {
		t.Fatal("reserved nonce 6 twice")
	}
	if !f.reserve(txTo(6, common.Address{2}), b, now) {
		t.Fatal("nonces are per sender")
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
	if !f.reserve(legacyTx(5), a, now) {
		t.Fatal("a released nonce must be reusable")
	}
	f.expire(now.Add(2 * time.Minute))
	if got := f.pendingNonce(a, 5); got != 5 {
		t.Fatalf("after expiry pending nonce %d, want 5", got)
	}
}
