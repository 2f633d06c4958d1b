package txmgr

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Fees are an EIP-1559 tx's fee fields; BlobFeeCap is nil for a tx that
// carries no blobs.
type Fees struct {
	Tip, FeeCap, BlobFeeCap *big.Int
}

// Blob reports whether the fees are a blob tx's.
func (f Fees) Blob() bool { return f.BlobFeeCap != nil }

// MinBlobFeeCap is the least blob fee cap offered: the blob base fee sits
// at its 1 wei floor whenever blob space is not congested, and a cap that
// low would leave a tx stuck at the first rise. Only the base fee is paid,
// so a higher cap costs nothing.
var MinBlobFeeCap = big.NewInt(1_000_000_000)

// Suggest returns the fees of a new tx from the L1's current tip
// suggestion, base fee and (for a blob tx; nil otherwise) blob base fee:
// the tip, a fee cap of tip + 2 × base fee and a blob fee cap of twice the
// blob base fee (each rises by at most 12.5% a block, so these cover six
// full blocks), at least MinBlobFeeCap.
func Suggest(tip, baseFee, blobBaseFee *big.Int) Fees {
	if baseFee == nil {
		baseFee = new(big.Int)
	}
	f := Fees{Tip: new(big.Int).Set(tip), FeeCap: new(big.Int).Add(tip, new(big.Int).Mul(baseFee, big.NewInt(2)))}
	if blobBaseFee != nil {
		f.BlobFeeCap = new(big.Int).Mul(blobBaseFee, big.NewInt(2))
		if f.BlobFeeCap.Cmp(MinBlobFeeCap) < 0 {
			f.BlobFeeCap.Set(MinBlobFeeCap)
		}
	}
	return f
}

// Policy is how a sender prices and replaces its txs.
type Policy struct {
	// ResubmitAfter: a tx not mined this long after its last version was
	// sent is due for a replacement with higher fees.
	ResubmitAfter time.Duration
	// BumpPercent raises every fee of a replacement (geth's pool needs at
	// least 10; a blob tx's replacement needs 100, which Replacement
	// enforces).
	BumpPercent int64
	// MaxFeeCap and MaxBlobFeeCap, when set, bound what the sender ever
	// offers: a tx that would need more is not sent.
	MaxFeeCap, MaxBlobFeeCap *big.Int
}

// DefaultPolicy is what a sender without its own configuration uses: a
// tx not mined within a mainnet slot's length is replaced with every fee
// 15% higher (geth's pool needs 10).
var DefaultPolicy = Policy{ResubmitAfter: 12 * time.Second, BumpPercent: 15}

// ErrFeeCap is returned for fees above the policy's maximum.
var ErrFeeCap = errors.New("fee cap above the configured maximum")

// Check returns an error when f exceeds the policy's maximum fee caps.
func (p Policy) Check(f Fees) error {
	if p.MaxFeeCap != nil && f.FeeCap.Cmp(p.MaxFeeCap) > 0 {
		return fmt.Errorf("%w: fee cap %s, maximum %s", ErrFeeCap, f.FeeCap, p.MaxFeeCap)
	}
	if f.Blob() && p.MaxBlobFeeCap != nil && f.BlobFeeCap.Cmp(p.MaxBlobFeeCap) > 0 {
		return fmt.Errorf("%w: blob fee cap %s, maximum %s", ErrFeeCap, f.BlobFeeCap, p.MaxBlobFeeCap)
	}
	return nil
}

// Replacement returns the fees of a new version of a tx sent with old, at
// the same nonce, given the current suggestion: every fee raised by
// BumpPercent (at least 100 for a blob tx: geth's blob pool replaces a
// blob tx only at double every fee), by at least 1 wei, and to at least
// the suggestion; the fee cap is at least the tip.
func (p Policy) Replacement(old, suggested Fees) Fees {
	pct := p.BumpPercent
	if old.Blob() {
		pct = max(pct, 100)
	}
	up := func(old, suggested *big.Int) *big.Int {
		b := new(big.Int).Mul(old, big.NewInt(100+pct))
		b.Div(b, big.NewInt(100))
		if b.Cmp(old) <= 0 {
			b.Add(old, common.Big1)
		}
		if suggested != nil && suggested.Cmp(b) > 0 {
			return new(big.Int).Set(suggested)
		}
		return b
	}
	f := Fees{Tip: up(old.Tip, suggested.Tip), FeeCap: up(old.FeeCap, suggested.FeeCap)}
	if f.FeeCap.Cmp(f.Tip) < 0 {
		f.FeeCap = new(big.Int).Set(f.Tip)
	}
	if old.Blob() {
		f.BlobFeeCap = up(old.BlobFeeCap, suggested.BlobFeeCap)
	}
	return f
}

// Cancel returns the fees of the attempt-th (from 1) cancel of a stuck tx
// the sender does not know (sent before a restart): 2^attempt times the
// suggestion, so each attempt at least doubles the one before, as a blob
// replacement requires.
func Cancel(suggested Fees, attempt int) Fees {
	m := new(big.Int).Lsh(common.Big1, uint(max(attempt, 1)))
	f := Fees{Tip: new(big.Int).Mul(suggested.Tip, m), FeeCap: new(big.Int).Mul(suggested.FeeCap, m)}
	if suggested.Blob() {
		f.BlobFeeCap = new(big.Int).Mul(suggested.BlobFeeCap, m)
	}
	return f
}

// Tx is one tx in flight: its nonce, the fees of its latest version and
// the hash of every version sent.
type Tx struct {
	Nonce  uint64
	Fees   Fees
	Hashes []common.Hash
	SentAt time.Time // when the latest version was sent
}

// Sent records a version sent at now with fees f.
func (t *Tx) Sent(h common.Hash, f Fees, now time.Time) {
	t.Hashes = append(t.Hashes, h)
	t.Fees, t.SentAt = f, now
}

// Due reports whether t, not mined, is due for a replacement at now.
func (p Policy) Due(t *Tx, now time.Time) bool {
	return len(t.Hashes) > 0 && now.Sub(t.SentAt) >= p.ResubmitAfter
}

// Queue is the txs a sender has in flight, at consecutive nonces, oldest
// first. T carries what the caller needs per tx; it holds a *Tx.
type Queue[T interface{ L1Tx() *Tx }] struct {
	txs []T
}

// Len is the number of txs in flight.
func (q *Queue[T]) Len() int { return len(q.txs) }

// All returns the txs in flight, oldest first.
func (q *Queue[T]) All() []T { return q.txs }

// Head returns the oldest tx in flight.
func (q *Queue[T]) Head() (T, bool) {
	if len(q.txs) == 0 {
		var zero T
		return zero, false
	}
	return q.txs[0], true
}

// Pop removes the oldest tx (it was mined).
func (q *Queue[T]) Pop() { q.txs = q.txs[1:] }

// NextNonce returns the nonce of the next tx: one past the newest in
// flight, or, with none in flight, pending (the L1's pending nonce, which
// the caller reads only then: ok is false when it must).
func (q *Queue[T]) NextNonce() (nonce uint64, ok bool) {
	if len(q.txs) == 0 {
		return 0, false
	}
	return q.txs[len(q.txs)-1].L1Tx().Nonce + 1, true
}

// Push adds a tx sent at the next nonce. It panics on any other nonce:
// the queue's txs are consecutive.
func (q *Queue[T]) Push(t T) {
	if n, ok := q.NextNonce(); ok && t.L1Tx().Nonce != n {
		panic(fmt.Sprintf("txmgr: pushed nonce %d, next is %d", t.L1Tx().Nonce, n))
	}
	q.txs = append(q.txs, t)
}

// Due returns the txs in flight due for a replacement at now.
func (q *Queue[T]) Due(p Policy, now time.Time) []T {
	var out []T
	for _, t := range q.txs {
		if p.Due(t.L1Tx(), now) {
			out = append(out, t)
		}
	}
	return out
}
