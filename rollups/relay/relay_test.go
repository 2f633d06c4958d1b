package relay

import (
	"slices"
	"testing"
	"time"

	"github.com/weftnet/weft/rollups/exec/evm"
)

// TestInFlight: sent deposits are awaited until all are credited or
// resendAfter has passed since they were sent.
func TestInFlight(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name         string
		next, sentTo uint64
		sentAt, now  time.Time
		want         bool
	}{
		{"nothing sent", 0, 0, time.Time{}, t0, false},
		{"just sent", 3, 5, t0, t0, true},
		{"partly credited", 4, 5, t0, t0.Add(10 * time.Second), true},
		{"just before resend", 3, 5, t0, t0.Add(resendAfter - time.Nanosecond), true},
		{"resend due", 3, 5, t0, t0.Add(resendAfter), false},
		{"all credited", 5, 5, t0, t0.Add(time.Second), false},
		{"credited past", 7, 5, t0, t0.Add(time.Second), false},
	} {
		if got := inFlight(c.next, c.sentTo, c.sentAt, c.now); got != c.want {
			t.Errorf("%s: inFlight(%d, %d, %v, %v) = %v, want %v", c.name, c.next, c.sentTo, c.sentAt, c.now, got, c.want)
		}
	}
}

// TestBatch: credited deposits are forgotten; a batch is the run of known
// nonces from next, cut at a gap and at evm.MaxDepositsPerItem.
func TestBatch(t *testing.T) {
	known := map[uint64]evm.Deposit{}
	for _, n := range []uint64{0, 1, 2, 3, 5} {
		known[n] = evm.Deposit{Nonce: n}
	}
	if got := nonces(batch(known, 2)); !slices.Equal(got, []uint64{2, 3}) {
		t.Fatalf("batch from 2 = %v, want [2 3] (cut at the gap)", got)
	}
	if _, ok := known[1]; ok {
		t.Fatal("credited nonce 1 still known")
	}
	if got := batch(known, 4); len(got) != 0 {
		t.Fatalf("batch from 4 = %v, want none (4 unknown)", nonces(got))
	}
	if got := nonces(batch(known, 5)); !slices.Equal(got, []uint64{5}) {
		t.Fatalf("batch from 5 = %v, want [5]", got)
	}

	known = map[uint64]evm.Deposit{}
	for n := uint64(0); n < evm.MaxDepositsPerItem+10; n++ {
		known[n] = evm.Deposit{Nonce: n}
	}
	if got := batch(known, 0); len(got) != evm.MaxDepositsPerItem || got[len(got)-1].Nonce != evm.MaxDepositsPerItem-1 {
		t.Fatalf("batch of %d known: %d deposits, want %d", len(known), len(got), evm.MaxDepositsPerItem)
	}
}

func nonces(ds []evm.Deposit) []uint64 {
	out := make([]uint64, len(ds))
	for i, d := range ds {
		out[i] = d.Nonce
	}
	return out
}
