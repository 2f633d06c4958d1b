package rpc

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// Bundler lands raw Ethereum txs for several rollups served by this node at
// one Weft height: they travel in one Weft tx whose RollupData actions (one
// per rollup) are included together or not at all.
type Bundler struct {
	mu      sync.Mutex // one bundle at a time keeps the bundle key's nonces consecutive
	key     *ecdsa.PrivateKey
	from    common.Address
	sink    Sink
	servers map[string]*Server
	fee     *uint256.Int
}

// NewBundler returns a bundler signing with key; servers maps rollup names
// to their RPC servers on this node.
func NewBundler(key *ecdsa.PrivateKey, sink Sink, servers map[string]*Server) *Bundler {
	b := &Bundler{key: key, sink: sink, servers: servers, fee: uint256.NewInt(1e17)}
	b.from = gcrypto.PubkeyToAddress(key.PublicKey)
	return b
}

// BundlePart is one rollup's txs in a bundle.
type BundlePart struct {
	Rollup string          `json:"rollup"`
	Txs    []hexutil.Bytes `json:"txs"`
}

// BundleResult names the Weft tx carrying the bundle and the rollup txs.
type BundleResult struct {
	WeftTx common.Hash              `json:"weftTx"`
	Txs    map[string][]common.Hash `json:"txs"`
}

// Send validates every tx with its rollup's rules and submits the bundle.
func (b *Bundler) Send(ctx context.Context, parts []BundlePart) (*BundleResult, error) {
	if len(parts) < 2 {
		return nil, errors.New("a bundle needs txs for at least two rollups")
	}
	seen := map[string]bool{}
	type reserved struct {
		s *Server
		h common.Hash
	}
	var held []reserved
	release := func() {
		for _, r := range held {
			r.s.inflight.release(r.h)
		}
	}
	res := &BundleResult{Txs: map[string][]common.Hash{}}
	body := &weftv1.TxBody{ChainId: b.sink.ChainID(), FeeLimit: b.fee.Bytes()}
	for _, p := range parts {
		s, ok := b.servers[p.Rollup]
		if !ok {
			release()
			return nil, fmt.Errorf("rollup %q is not served by this node", p.Rollup)
		}
		if seen[p.Rollup] {
			release()
			return nil, fmt.Errorf("rollup %q appears twice in the bundle", p.Rollup)
		}
		seen[p.Rollup] = true
		if len(p.Txs) == 0 {
			release()
			return nil, fmt.Errorf("rollup %q: no transactions", p.Rollup)
		}
		raws := make([][]byte, len(p.Txs))
		for i, raw := range p.Txs {
			tx, from, acct, err := s.validateRaw(raw)
			if err != nil {
				release()
				return nil, fmt.Errorf("rollup %q tx %d: %w", p.Rollup, i, err)
			}
			// The same admission as eth_sendRawTransaction's: the cost of
			// the sender's txs in flight, this bundle's earlier ones
			// included, counts against the balance.
			if err := s.inflight.reserve(tx, from, acct, time.Now()); err != nil {
				release()
				return nil, fmt.Errorf("rollup %q tx %d: %w", p.Rollup, i, err)
			}
			held = append(held, reserved{s, tx.Hash()})
			raws[i] = raw
			res.Txs[p.Rollup] = append(res.Txs[p.Rollup], tx.Hash())
		}
		data, err := Item(raws)
		if err != nil {
			release()
			return nil, err
		}
		id := rollups.IDFromName(p.Rollup)
		body.Actions = append(body.Actions, &weftv1.Action{Kind: &weftv1.Action_RollupData{RollupData: &weftv1.RollupData{RollupId: id[:], Data: data}}})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	body.Nonce = b.sink.PendingNonce(b.from)
	raw, err := txcodec.Sign(b.key, body)
	if err != nil {
		release()
		return nil, err
	}
	h, rej := b.sink.Submit(raw, true)
	if rej != nil {
		release()
		return nil, fmt.Errorf("%w: %s", ErrSubmitter, rej.Log)
	}
	res.WeftTx = h
	return res, nil
}

// weftAPI is the weft_ namespace of a rollup RPC.
type weftAPI struct{ b *Bundler }

// SendBundle is weft_sendBundle([{rollup, txs}, ...]).
func (w *weftAPI) SendBundle(ctx context.Context, parts []BundlePart) (*BundleResult, error) {
	if w.b == nil {
		return nil, errors.New("bundles are not enabled on this node (no rollup_bundle_key)")
	}
	return w.b.Send(ctx, parts)
}

// RegisterBundler exposes weft_sendBundle on every server.
func RegisterBundler(b *Bundler, servers map[string]*Server) error {
	for _, s := range servers {
		if err := s.RegisterName("weft", &weftAPI{b}); err != nil {
			return err
		}
	}
	return nil
}
