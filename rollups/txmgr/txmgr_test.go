package txmgr

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

func gwei(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e9)) }

func TestSuggest(t *testing.T) {
	f := Suggest(gwei(1), gwei(10), nil)
	if f.Tip.Cmp(gwei(1)) != 0 || f.FeeCap.Cmp(gwei(21)) != 0 || f.Blob() {
		t.Fatalf("plain: %+v", f)
	}
	// A blob base fee at its 1 wei floor: the cap is MinBlobFeeCap.
	if f := Suggest(gwei(1), nil, big.NewInt(1)); f.FeeCap.Cmp(gwei(1)) != 0 || f.BlobFeeCap.Cmp(MinBlobFeeCap) != 0 {
		t.Fatalf("blob at the floor, no base fee: %+v", f)
	}
	if f := Suggest(gwei(1), gwei(1), gwei(3)); f.BlobFeeCap.Cmp(gwei(6)) != 0 {
		t.Fatalf("blob: %+v", f)
	}
}

// TestReplacement walks the replacement rules one case at a time.
func TestReplacement(t *testing.T) {
	p := Policy{BumpPercent: 15}
	cases := []struct {
		name           string
		old, suggested Fees
		want           Fees
	}{
		{"raised by the percentage", Fees{Tip: gwei(100), FeeCap: gwei(200)}, Fees{Tip: gwei(1), FeeCap: gwei(2)},
			Fees{Tip: gwei(115), FeeCap: gwei(230)}},
		{"the suggestion when higher", Fees{Tip: gwei(1), FeeCap: gwei(2)}, Fees{Tip: gwei(5), FeeCap: gwei(50)},
			Fees{Tip: gwei(5), FeeCap: gwei(50)}},
		{"at least one wei more", Fees{Tip: big.NewInt(1), FeeCap: big.NewInt(3)}, Fees{Tip: big.NewInt(0), FeeCap: big.NewInt(0)},
			Fees{Tip: big.NewInt(2), FeeCap: big.NewInt(4)}},
		{"fee cap at least the tip", Fees{Tip: gwei(10), FeeCap: gwei(10)}, Fees{Tip: gwei(40), FeeCap: gwei(12)},
			Fees{Tip: gwei(40), FeeCap: gwei(40)}},
		{"blob txs double every fee", Fees{Tip: gwei(2), FeeCap: gwei(4), BlobFeeCap: gwei(1)}, Fees{Tip: gwei(1), FeeCap: gwei(1), BlobFeeCap: gwei(1)},
			Fees{Tip: gwei(4), FeeCap: gwei(8), BlobFeeCap: gwei(2)}},
	}
	for _, c := range cases {
		got := p.Replacement(c.old, c.suggested)
		if got.Tip.Cmp(c.want.Tip) != 0 || got.FeeCap.Cmp(c.want.FeeCap) != 0 || got.Blob() != c.want.Blob() ||
			(got.Blob() && got.BlobFeeCap.Cmp(c.want.BlobFeeCap) != 0) {
			t.Errorf("%s: got tip %s cap %s blob %v, want tip %s cap %s blob %v", c.name, got.Tip, got.FeeCap, got.BlobFeeCap, c.want.Tip, c.want.FeeCap, c.want.BlobFeeCap)
		}
	}
	// The inputs are left as they were.
	old := Fees{Tip: gwei(100), FeeCap: gwei(200)}
	p.Replacement(old, Fees{Tip: gwei(1000), FeeCap: gwei(1000)})
	if old.Tip.Cmp(gwei(100)) != 0 || old.FeeCap.Cmp(gwei(200)) != 0 {
		t.Fatal("Replacement changed its input")
	}
}

func TestCheckAndCancel(t *testing.T) {
	p := Policy{MaxFeeCap: gwei(100), MaxBlobFeeCap: gwei(10)}
	if err := p.Check(Fees{Tip: gwei(1), FeeCap: gwei(100)}); err != nil {
		t.Fatalf("at the cap: %v", err)
	}
	if err := p.Check(Fees{Tip: gwei(1), FeeCap: gwei(101)}); !errors.Is(err, ErrFeeCap) {
		t.Fatalf("above the cap: %v", err)
	}
	if err := p.Check(Fees{Tip: gwei(1), FeeCap: gwei(1), BlobFeeCap: gwei(11)}); !errors.Is(err, ErrFeeCap) {
		t.Fatalf("above the blob cap: %v", err)
	}
	s := Fees{Tip: gwei(1), FeeCap: gwei(3), BlobFeeCap: gwei(2)}
	prev := Fees{Tip: new(big.Int), FeeCap: new(big.Int), BlobFeeCap: new(big.Int)}
	for attempt := 1; attempt <= 4; attempt++ {
		f := Cancel(s, attempt)
		m := big.NewInt(int64(1) << attempt)
		if f.Tip.Cmp(new(big.Int).Mul(gwei(1), m)) != 0 || f.BlobFeeCap.Cmp(new(big.Int).Mul(gwei(2), m)) != 0 {
			t.Fatalf("attempt %d: %+v", attempt, f)
		}
		// Each attempt at least doubles the one before: a valid
		// replacement even for a blob tx.
		if f.FeeCap.Cmp(new(big.Int).Mul(prev.FeeCap, big.NewInt(2))) < 0 {
			t.Fatalf("attempt %d does not double the fee cap", attempt)
		}
		prev = f
	}
}

type item struct{ tx Tx }

func (i *item) L1Tx() *Tx { return &i.tx }

// TestQueueStepByStep drives a queue through sends, a bump and landings
// with an explicit clock.
func TestQueueStepByStep(t *testing.T) {
	p := Policy{ResubmitAfter: 12 * time.Second, BumpPercent: 15}
	t0 := time.Unix(1_700_000_000, 0)
	var q Queue[*item]
	if _, ok := q.NextNonce(); ok {
		t.Fatal("an empty queue knows no nonce: the L1's pending nonce is read")
	}
	f := Fees{Tip: gwei(1), FeeCap: gwei(3)}
	for n := uint64(7); n < 10; n++ {
		if next, ok := q.NextNonce(); ok && next != n {
			t.Fatalf("next nonce %d, want %d", next, n)
		}
		it := &item{Tx{Nonce: n}}
		it.tx.Sent(common.Hash{byte(n)}, f, t0.Add(time.Duration(n-7)*5*time.Second))
		q.Push(it)
	}
	if due := q.Due(p, t0.Add(11*time.Second)); len(due) != 0 {
		t.Fatalf("%d due before ResubmitAfter", len(due))
	}
	due := q.Due(p, t0.Add(17*time.Second)) // sent at 0 s and 5 s
	if len(due) != 2 || due[0].tx.Nonce != 7 || due[1].tx.Nonce != 8 {
		t.Fatalf("due at 17 s: %d txs", len(due))
	}
	due[0].tx.Sent(common.Hash{0xb7}, p.Replacement(due[0].tx.Fees, f), t0.Add(17*time.Second))
	if got := q.Due(p, t0.Add(18*time.Second)); len(got) != 1 || got[0].tx.Nonce != 8 {
		t.Fatal("a bumped tx is due again only ResubmitAfter after its new version")
	}
	if h, _ := q.Head(); len(h.tx.Hashes) != 2 || h.tx.Fees.Tip.Cmp(gwei(1)) <= 0 {
		t.Fatalf("the head keeps every version's hash and the latest fees: %+v", h.tx)
	}
	q.Pop()
	if next, _ := q.NextNonce(); next != 10 || q.Len() != 2 {
		t.Fatalf("after landing the head: next %d, %d in flight", next, q.Len())
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a gap in the nonces was accepted")
		}
	}()
	q.Push(&item{Tx{Nonce: 12}})
}
