package txmgr

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Backend is the L1 client a Sender uses; go-ethereum's ethclient.Client
// and the simulated backend's client satisfy it.
type Backend interface {
	ChainID(ctx context.Context) (*big.Int, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	EstimateGas(ctx context.Context, call ethereum.CallMsg) (uint64, error)
	SendTransaction(ctx context.Context, tx *types.Transaction) error
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
	NonceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (uint64, error)
}

// Call is one L1 tx to send: a contract call (or a plain transfer when
// Data is empty). Gas 0 is estimated, with a 20% margin.
type Call struct {
	To    common.Address
	Data  []byte
	Value *big.Int
	Gas   uint64
}

// Sender sends one tx at a time from Key and sees it mined: priced by
// Suggest, replaced at the same nonce with higher fees (Policy) whenever
// it waits longer than Policy.ResubmitAfter, so a tx sent while fees rise
// is not left stuck. The CLI, the challenger and the devnet's funding use
// it; the batcher keeps many txs in flight with its own driver over the
// same rules.
type Sender struct {
	L1     Backend
	Key    *ecdsa.PrivateKey
	Policy Policy
	// Now is the clock the resubmission timer reads (time.Now if nil);
	// Poll is how often receipts are polled (1s if 0).
	Now  func() time.Time
	Poll time.Duration
}

// Sent is what Send did: the mined version and every hash sent.
type Sent struct {
	Tx      *types.Transaction
	Receipt *types.Receipt
	Hashes  []common.Hash
}

// Send signs c at the sender's pending nonce, sends it and waits until one
// of its versions is mined, returning that version and its receipt (a
// reverted tx is not an error here: the caller reads Receipt.Status). A
// call that would revert fails in gas estimation, before anything is sent.
func (s *Sender) Send(ctx context.Context, c Call) (*Sent, error) {
	from := crypto.PubkeyToAddress(s.Key.PublicKey)
	chainID, err := s.L1.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("L1 chain id: %w", err)
	}
	if c.Gas == 0 {
		g, err := s.L1.EstimateGas(ctx, ethereum.CallMsg{From: from, To: &c.To, Data: c.Data, Value: c.Value})
		if err != nil {
			return nil, fmt.Errorf("estimate gas: %w", err)
		}
		c.Gas = g + g/5
	}
	nonce, err := s.L1.PendingNonceAt(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("L1 nonce of %s: %w", from, err)
	}
	signer := types.LatestSignerForChainID(chainID)
	t := &Tx{Nonce: nonce}
	out := &Sent{}
	versions := map[common.Hash]*types.Transaction{}
	send := func(f Fees) error {
		tx, err := types.SignNewTx(s.Key, signer, &types.DynamicFeeTx{
			ChainID: chainID, Nonce: nonce, GasTipCap: f.Tip, GasFeeCap: f.FeeCap, Gas: c.Gas, To: &c.To, Value: c.Value, Data: c.Data,
		})
		if err != nil {
			return err
		}
		// A replacement may find the nonce taken: by an earlier version,
		// whose receipt the loop below finds.
		if err := s.L1.SendTransaction(ctx, tx); err != nil && !benign(err, len(t.Hashes) > 0) {
			return fmt.Errorf("send L1 tx at nonce %d: %w", nonce, err)
		}
		t.Sent(tx.Hash(), f, s.now())
		versions[tx.Hash()] = tx
		out.Hashes = t.Hashes
		return nil
	}
	pol := s.policy()
	f, err := s.suggest(ctx)
	if err != nil {
		return nil, err
	}
	if err := pol.Check(f); err != nil {
		return nil, err
	}
	if err := send(f); err != nil {
		return nil, err
	}
	return s.wait(ctx, from, pol, t, versions, out, send)
}

// wait polls for a receipt of any version of t until one is mined,
// replacing t whenever it is due.
func (s *Sender) wait(ctx context.Context, from common.Address, pol Policy, t *Tx, versions map[common.Hash]*types.Transaction, out *Sent, send func(Fees) error) (*Sent, error) {
	poll := s.Poll
	if poll <= 0 {
		poll = time.Second
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	// Once a version is out, only a receipt, a nonce another tx took, or
	// the caller's deadline ends the wait: a failed replacement or receipt
	// query leaves the versions sent in flight, so it is retried, not
	// reported as a failure of a tx that may yet be mined.
	var lastErr error
	for {
		for _, h := range t.Hashes {
			r, err := s.L1.TransactionReceipt(ctx, h)
			if err == nil {
				out.Tx, out.Receipt = versions[h], r
				return out, nil
			}
			if !NotMined(err) {
				lastErr = fmt.Errorf("receipt of %s: %w", h, err)
			}
		}
		if pol.Due(t, s.now()) {
			if err := s.taken(ctx, from, t); err != nil {
				return out, err
			}
			if err := s.replace(ctx, pol, t, send); err != nil {
				lastErr = err
				t.SentAt = s.now() // retry at the next due time
			}
		}
		select {
		case <-ctx.Done():
			err := fmt.Errorf("%w: L1 tx %s (nonce %d) not seen mined: %w", ErrInFlight, t.Hashes[len(t.Hashes)-1], t.Nonce, ctx.Err())
			if lastErr != nil {
				err = fmt.Errorf("%w (last error: %v)", err, lastErr)
			}
			return out, err
		case <-tick.C:
		}
	}
}

// ErrInFlight is returned (with the hashes sent) when Send stops waiting
// while versions it sent may still be mined.
var ErrInFlight = errors.New("sent and not seen mined; it may still be mined")

// taken returns an error when t's nonce is used by a mined tx that is none
// of t's versions (another sender shares the key): nothing Send sent can
// be mined any more.
func (s *Sender) taken(ctx context.Context, from common.Address, t *Tx) error {
	mined, err := s.L1.NonceAt(ctx, from, nil)
	if err != nil || mined <= t.Nonce {
		return nil // not taken, or unknown yet: keep waiting
	}
	// Foreign only if the node positively knows none of our versions: a
	// receipt it cannot give yet (indexing, an error) may still be ours.
	for _, h := range t.Hashes {
		if _, err := s.L1.TransactionReceipt(ctx, h); err == nil || !errors.Is(err, ethereum.NotFound) {
			return nil
		}
	}
	return fmt.Errorf("L1 nonce %d of %s was used by a tx this command did not send (is the key used elsewhere?)", t.Nonce, from)
}

// replace sends a new version of t with bumped fees; a replacement the
// policy's caps refuse is not sent (the versions sent may still be mined).
func (s *Sender) replace(ctx context.Context, pol Policy, t *Tx, send func(Fees) error) error {
	sug, err := s.suggest(ctx)
	if err != nil {
		return err
	}
	f := pol.Replacement(t.Fees, sug)
	if pol.Check(f) != nil {
		t.SentAt = s.now() // keep waiting at the cap; try again later
		return nil
	}
	return send(f)
}

func (s *Sender) suggest(ctx context.Context) (Fees, error) {
	tip, err := s.L1.SuggestGasTipCap(ctx)
	if err != nil {
		return Fees{}, fmt.Errorf("L1 tip suggestion: %w", err)
	}
	head, err := s.L1.HeaderByNumber(ctx, nil)
	if err != nil {
		return Fees{}, fmt.Errorf("L1 head: %w", err)
	}
	return Suggest(tip, head.BaseFee, nil), nil
}

// policy is s.Policy with DefaultPolicy's timing and bump where it has
// none: a zero policy would replace at every poll by 1 wei, which geth's
// pool refuses (it needs +10%).
func (s *Sender) policy() Policy {
	p := s.Policy
	if p.ResubmitAfter <= 0 {
		p.ResubmitAfter = DefaultPolicy.ResubmitAfter
	}
	if p.BumpPercent < 10 {
		p.BumpPercent = DefaultPolicy.BumpPercent
	}
	return p
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// NotMined reports whether a receipt query's error only says the tx is not
// known as mined (yet): not found, or geth's tx indexer still catching up
// ("transaction indexing is in progress", which geth answers for a while
// after it starts).
func NotMined(err error) bool {
	return err != nil && (errors.Is(err, ethereum.NotFound) || strings.Contains(err.Error(), "indexing is in progress"))
}

// benign are the pool's answers to a send that leave the tx in flight as
// intended: the same version is already there, or (for a replacement) an
// earlier version already took the nonce.
func benign(err error, replacement bool) bool {
	m := err.Error()
	return strings.Contains(m, "already known") || replacement && strings.Contains(m, "nonce too low")
}
