package consensus_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/consensus"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

func TestCommitNotifyAndLimits(t *testing.T) {
	alice := newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1000})
	c := newChain(t, "", &gs)
	if lim := c.app.Limits(); lim.ChainID != testChainID || lim.MaxTxBytes != maxTxBytes || lim.MaxActions != maxActions {
		t.Fatalf("Limits = %+v", lim)
	}
	if lim := newChain(t, "", nil).app.Limits(); lim != (consensus.Limits{}) {
		t.Fatalf("Limits before InitChain = %+v", lim)
	}
	ch := c.app.CommitNotify()
	select {
	case <-ch:
		t.Fatal("closed before a commit")
	default:
	}
	c.block()
	select {
	case <-ch:
	default:
		t.Fatal("not closed by the commit")
	}
	select {
	case <-c.app.CommitNotify():
		t.Fatal("the next channel is already closed")
	default:
	}
}

// TestBlockItemsMatchCommitment: the items a node serves for each rollup of
// a committed block verify against the block's commitment item.
func TestBlockItemsMatchCommitment(t *testing.T) {
	rng := seededRand(t)
	keys := []key{seededKey(t, rng), seededKey(t, rng), seededKey(t, rng)}
	funded := map[common.Address]uint64{}
	for _, k := range keys {
		funded[k.addr] = 1 << 40
	}
	gs := appState(funded)
	c := newChain(t, "", &gs)
	for i := 0; i < 30; i++ {
		k := keys[rng.Intn(len(keys))]
		c.submit(randomTx(t, rng, k, c.app.PendingNonce(k.addr)))
	}
	for c.height < 4 {
		txs := c.prepare(20_000)
		c.apply(txs)
		slices := map[rollups.ID][]*rollups.Item{}
		cm := consensus.BlockItems(txs, c.app.Limits(), func(id rollups.ID, it *rollups.Item) {
			slices[id] = append(slices[id], it)
		})
		if !bytes.Equal(cm, txs[0]) {
			t.Fatal("BlockItems did not return the commitment item")
		}
		c2 := mustCommitment(t, txs)
		if len(c2.Rollups) != len(slices) {
			t.Fatalf("commitment has %d rollups, items cover %d", len(c2.Rollups), len(slices))
		}
		for _, name := range rollupNames {
			id := rollups.IDFromName(name)
			if err := rollups.VerifyItems(cm, id, slices[id]); err != nil {
				t.Fatalf("height %d rollup %s: %v", c.height, name, err)
			}
		}
		// The block as Commit handed it to the node (Config.OnCommit) has
		// the same txs, CometBFT's tx hashes, and the same items.
		rb := c.published[len(c.published)-1]
		if rb.Height != c.height || len(rb.Raw) != len(txs) || len(rb.Hashes) != len(txs) {
			t.Fatalf("height %d: published block %d with %d txs, want %d", c.height, rb.Height, len(rb.Raw), len(txs))
		}
		for i, raw := range txs {
			if !bytes.Equal(rb.Raw[i], raw) {
				t.Fatalf("height %d tx %d differs from the block's", c.height, i)
			}
			if rb.Hashes[i] != [32]byte(cmttypes.Tx(raw).Hash()) {
				t.Fatalf("height %d tx %d: hash %x, CometBFT's %x", c.height, i, rb.Hashes[i], cmttypes.Tx(raw).Hash())
			}
		}
		recent := map[rollups.ID][]*rollups.Item{}
		if cm3 := rb.Items(func(id rollups.ID, it *rollups.Item) { recent[id] = append(recent[id], it) }); !bytes.Equal(cm3, cm) {
			t.Fatal("the published block's Items returned another commitment item")
		}
		for id, items := range slices {
			if len(recent[id]) != len(items) {
				t.Fatalf("rollup %s: %d items, BlockItems %d", id, len(recent[id]), len(items))
			}
			for j := range items {
				if !proto.Equal(items[j], recent[id][j]) {
					t.Fatalf("rollup %s item %d differs", id, j)
				}
			}
		}
	}
	for i, b := range c.published {
		if b.Height != int64(i+1) {
			t.Fatalf("published block %d is height %d: want every height once, in order", i, b.Height)
		}
	}
	if cm := consensus.BlockItems([][]byte{[]byte("junk")}, c.app.Limits(), func(rollups.ID, *rollups.Item) {
		t.Fatal("item from junk")
	}); cm != nil {
		t.Fatal("commitment from a block without one")
	}
}

func TestDroppedReasonsAreBounded(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	cfg := consensus.DefaultConfig()
	cfg.MaxDropped = 2
	c := newChainCfg(t, "", &gs, cfg)
	var pending [][]byte
	for n := uint64(0); n < 3; n++ {
		raw := tx(t, alice, n, 1000, transfer(bob.addr, n+1))
		c.submit(raw)
		pending = append(pending, raw)
	}
	// A block from another proposer commits a different nonce-0 tx that
	// leaves too little for the rest: all three pending txs are dropped.
	other := tx(t, alice, 0, 1000, transfer(bob.addr, 998_900))
	c.finalize([][]byte{rollups.EncodeCommitment(&weftv1.BlockCommitment{}), other})
	if c.balance(alice.addr) != 1000 {
		t.Fatalf("alice has %d", c.balance(alice.addr))
	}
	known := 0
	for _, raw := range pending {
		if c.app.Mempool().Get(txcodec.TxHash(raw)) != nil {
			t.Fatal("unaffordable tx still pending")
		}
		if _, ok := c.app.DroppedReason(txcodec.TxHash(raw)); ok {
			known++
		}
	}
	if known != 2 {
		t.Fatalf("%d dropped reasons remembered, want MaxDropped=2", known)
	}
}

func TestInitChainRejectsBadAppState(t *testing.T) {
	for _, raw := range []string{``, `{`, `{"params":{}}`, `{"params":{"fee_per_action":"1","fee_per_data_byte":"1","max_tx_bytes":10,"max_actions":1},"typo":1}`} {
		c := newChain(t, "", nil)
		if _, err := c.app.InitChain(ctx, &abci.RequestInitChain{ChainId: testChainID, InitialHeight: 1, AppStateBytes: []byte(raw)}); err == nil {
			t.Fatalf("InitChain accepted %q", raw)
		}
		if c.app.ChainID() != "" {
			t.Fatal("a failed InitChain set the chain id")
		}
	}
}

// TestSubmitDuringBlocks runs the mempool connection (Submit, ReapTxs) and
// the query connection (Query, Info, account reads) concurrently with the
// consensus connection, as CometBFT does with per-connection locks; run it
// with -race.
func TestSubmitDuringBlocks(t *testing.T) {
	const senders, perSender = 4, 25
	keys := make([]key, senders)
	funded := map[common.Address]uint64{}
	for i := range keys {
		keys[i] = newKey(t)
		funded[keys[i].addr] = 1 << 40
	}
	gs := appState(funded)
	c := newChain(t, "", &gs)

	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for i, k := range keys {
		wg.Add(1)
		go func(i int, k key) {
			defer wg.Done()
			for n := 0; n < perSender; {
				nonce := c.app.PendingNonce(k.addr)
				raw, err := txcodec.Sign(k.priv, &weftv1.TxBody{
					ChainId: testChainID, Nonce: nonce, FeeLimit: []byte{0x10, 0},
					Actions: []*weftv1.Action{data(rollupNames[i%3], []byte{byte(n)})},
				})
				if err != nil {
					errs <- err
					return
				}
				_, rej := c.app.Submit(raw, n%2 == 0)
				if rej != nil && rej.Code == txcodec.CodeNonceTooLow {
					continue // a commit raced the nonce lookup; ask again
				}
				if rej != nil {
					errs <- rej
					return
				}
				n++
				_ = c.app.Reader().Account(k.addr)
				_, _ = c.app.ReapTxs(ctx, &abci.RequestReapTxs{MaxBytes: 1 << 20})
				// The query connection has its own lock too.
				if q, err := c.app.Query(ctx, &abci.RequestQuery{Path: "/account/" + k.addr.Hex()}); err != nil || q.Code != txcodec.CodeOK {
					errs <- fmt.Errorf("query: %v %v", q, err)
					return
				}
				if _, err := c.app.Info(ctx, &abci.RequestInfo{}); err != nil {
					errs <- err
					return
				}
			}
		}(i, k)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		c.block()
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for n, _ := c.app.Mempool().Size(); n > 0; n, _ = c.app.Mempool().Size() {
		c.block()
	}
	for _, k := range keys {
		if c.nonce(k.addr) != perSender {
			t.Fatalf("%s: nonce %d, want %d", k.addr, c.nonce(k.addr), perSender)
		}
	}
}

// TestInitChainTwiceAfterACrash: a validator killed after InitChain wrote
// the genesis state, but before CometBFT recorded it, is asked for
// InitChain again on restart; it used to refuse the genesis validators it
// already held ("duplicate genesis validator") and could never start.
func TestInitChainTwiceAfterACrash(t *testing.T) {
	alice := newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	dir := filepath.Join(t.TempDir(), "state")
	c := newChain(t, dir, &gs)
	_, want := c.app.Committed()
	c = c.reopen(dir)
	raw, err := json.Marshal(gs)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.app.InitChain(ctx, &abci.RequestInitChain{ChainId: testChainID, InitialHeight: 1, AppStateBytes: raw, Validators: cmtValidators(t, &gs)})
	if err != nil {
		t.Fatalf("second InitChain: %v", err)
	}
	if !bytes.Equal(resp.AppHash, want) {
		t.Fatalf("second InitChain app hash %x, want %x", resp.AppHash, want)
	}
	c.submit(tx(t, alice, 0, 1000, transfer(common.Address{1}, 1)))
	c.block()
}
