package consensus_test

import (
	"bytes"
	"math/rand"
	"testing"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/consensus"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

var rollupNames = []string{"alpha", "beta", "gamma"}

// randomTx is a tx of k at nonce with 1-3 actions, a random mix of rollup
// data of random size (possibly a multi-rollup bundle) and transfers.
func randomTx(t testing.TB, rng *rand.Rand, k key, nonce uint64) []byte {
	n := 1 + rng.Intn(3)
	acts := make([]*weftv1.Action, n)
	budget := maxTxBytes - 300
	for i := range acts {
		if rng.Intn(4) == 0 {
			acts[i] = transfer(common.Address{byte(rng.Intn(5))}, uint64(rng.Intn(10)))
			continue
		}
		size := 1 + rng.Intn(budget/n)
		if rng.Intn(3) == 0 {
			size = 1 + rng.Intn(40)
		}
		acts[i] = data(rollupNames[rng.Intn(len(rollupNames))], bytes.Repeat([]byte{byte(rng.Intn(256))}, size))
	}
	return tx(t, k, nonce, fee(acts...)+uint64(rng.Intn(100)), acts...)
}

func protoSize(txs [][]byte) int64 { return cmttypes.ComputeProtoSizeForTxs(cmttypes.ToTxs(txs)) }

// TestPrepareProposalRespectsMaxTxBytes is a property test: for random
// mempools and random MaxTxBytes the proposal starts with the commitment
// item, never exceeds MaxTxBytes as CometBFT measures it, and is accepted by
// ProcessProposal. Replay a failure with the printed seed.
func TestPrepareProposalRespectsMaxTxBytes(t *testing.T) {
	rng := seededRand(t)
	keys, gs := seededAccounts(t, rng, 12)
	c := newChain(t, "", &gs)
	fill := func(n int) {
		for i := 0; i < n; i++ {
			k := keys[rng.Intn(len(keys))]
			c.submit(randomTx(t, rng, k, c.app.PendingNonce(k.addr)))
		}
	}
	// The empty commitment item is 10 bytes (the magic and a height below
	// 128), 12 with its proto framing: no
	// block can be smaller, and CometBFT never asks for less.
	const minBlock = 12
	for round := 0; round < 8; round++ {
		fill(40)
		_, poolBytes := c.app.Mempool().Size()
		for i := 0; i < 80; i++ {
			var max int64
			switch rng.Intn(4) {
			case 0:
				max = minBlock + rng.Int63n(200)
			case 1:
				max = minBlock + rng.Int63n(maxTxBytes*2)
			case 2:
				max = minBlock + rng.Int63n(poolBytes+2000)
			default:
				max = poolBytes + 1000 + rng.Int63n(1<<20)
			}
			txs := c.prepare(max)
			mustCommitment(t, txs)
			if size := protoSize(txs); size > max {
				t.Fatalf("round %d: proposal is %d bytes, MaxTxBytes %d", round, size, max)
			}
			if max >= poolBytes+2000 {
				if n, _ := c.app.Mempool().Size(); len(txs) != n+1 {
					t.Fatalf("round %d: room for everything but %d of %d txs proposed", round, len(txs)-1, n)
				}
			}
			if i%8 == 0 && !c.process(txs) {
				t.Fatalf("round %d: proposal for MaxTxBytes %d rejected by ProcessProposal", round, max)
			}
		}
		// Commit a block of random size so the next round builds on new state.
		max := minBlock + rng.Int63n(poolBytes/2+1)
		txs := c.prepare(max)
		c.apply(txs)
	}
}

// TestBundleLandsWhole: the rollup data actions of one tx form a bundle that
// is in one block, contiguous, under one tx hash, or not at all.
func TestBundleLandsWhole(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1 << 40, bob.addr: 1 << 40})
	c := newChain(t, "", &gs)

	parts := []*weftv1.Action{
		data("gamma", bytes.Repeat([]byte("g"), 900)),
		data("alpha", bytes.Repeat([]byte("a"), 900)),
		data("beta", bytes.Repeat([]byte("b"), 900)),
	}
	bundle := tx(t, alice, 0, fee(parts...), parts...)
	small := tx(t, bob, 0, 1000, data("alpha", []byte("small")))
	c.submit(small)
	c.submit(bundle)

	// Too little room for the bundle: the small tx goes alone and no part
	// of the bundle is committed.
	txs := c.prepare(protoSize([][]byte{small}) + 200)
	if len(txs) != 2 || !bytes.Equal(txs[1], small) {
		t.Fatalf("small block holds %d txs", len(txs))
	}
	cm := mustCommitment(t, txs)
	if len(cm.Rollups) != 1 || rollups.RootFor(cm, rollups.IDFromName("alpha")).ItemCount != 1 {
		t.Fatalf("small block commitment: %v", cm)
	}
	c.apply(txs)

	// With room the bundle lands whole.
	txs = c.block()
	if len(txs) != 2 || !bytes.Equal(txs[1], bundle) {
		t.Fatalf("bundle block holds %d txs", len(txs))
	}
	cm = mustCommitment(t, txs)
	if len(cm.Rollups) != 3 {
		t.Fatalf("bundle block commits to %d rollups", len(cm.Rollups))
	}
	h := txcodec.TxHash(bundle)
	for i, a := range parts {
		rd := a.GetRollupData()
		id, _ := rollups.IDFromBytes(rd.RollupId)
		it := &rollups.Item{TxHash: h[:], ActionIndex: uint32(i), Sender: alice.addr.Bytes(), Data: rd.Data}
		if err := rollups.VerifyItems(txs[0], id, []*rollups.Item{it}); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	if c.app.Reader().TxResult(h) == nil {
		t.Fatal("bundle has no result")
	}

	// A bundle with a part for an unknown rollup is refused whole.
	bad := []*weftv1.Action{data("alpha", []byte("a")), data("nope", []byte("n")), data("beta", []byte("b"))}
	badRaw := tx(t, alice, 1, fee(bad...), bad...)
	if _, rej := c.app.Submit(badRaw, false); rej == nil || rej.Code != txcodec.CodeUnknownRollup {
		t.Fatalf("bundle with an unknown rollup: %v", rej)
	}
	txs = c.block()
	if contains(txs, badRaw) || len(txs) != 1 || len(mustCommitment(t, txs).Rollups) != 0 {
		t.Fatal("the bad bundle or a part of it landed")
	}
	// And ProcessProposal refuses a block that carries it anyway.
	forced := [][]byte{rollups.EncodeCommitment(commitmentOf(t, badRaw)), badRaw}
	if c.process(forced) {
		t.Fatal("ProcessProposal accepted a bundle with an unknown rollup")
	}
}

// commitmentOf computes the commitment over the rollup data of txs.
func commitmentOf(t testing.TB, txs ...[]byte) *weftv1.BlockCommitment {
	t.Helper()
	var items []*rollups.Item
	var ids []rollups.ID
	for _, raw := range txs {
		var stx weftv1.SignedTx
		var body weftv1.TxBody
		if err := proto.Unmarshal(raw, &stx); err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(stx.Body, &body); err != nil {
			t.Fatal(err)
		}
		d, rej := consensus.DecodeTx(raw, consensus.Limits{ChainID: testChainID, MaxTxBytes: maxTxBytes, MaxActions: maxActions})
		if rej != nil {
			t.Fatal(rej)
		}
		h := txcodec.TxHash(raw)
		for i, a := range body.Actions {
			if rd := a.GetRollupData(); rd != nil {
				id, _ := rollups.IDFromBytes(rd.RollupId)
				items = append(items, &rollups.Item{TxHash: h[:], ActionIndex: uint32(i), Sender: d.Sender.Bytes(), Data: rd.Data})
				ids = append(ids, id)
			}
		}
	}
	return rollups.BuildCommitment(items, func(i int) rollups.ID { return ids[i] })
}

func TestProcessProposal(t *testing.T) {
	alice, bob, carol := newKey(t), newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1 << 40, bob.addr: 1 << 40})
	c := newChain(t, "", &gs)

	parts := []*weftv1.Action{data("alpha", []byte("A")), data("beta", []byte("B")), data("gamma", []byte("C"))}
	bundle := tx(t, alice, 0, fee(parts...), parts...)
	more := tx(t, alice, 1, 1000, data("alpha", []byte("A2")), transfer(carol.addr, 5))
	pay := tx(t, bob, 0, 1000, transfer(carol.addr, 7))
	for _, raw := range [][]byte{bundle, more, pay} {
		c.submit(raw)
	}
	good := c.prepare(blockBytes)
	if len(good) != 4 {
		t.Fatalf("proposal holds %d txs", len(good))
	}
	if !c.process(good) {
		t.Fatal("own proposal rejected")
	}
	cm := mustCommitment(t, good)

	// A commitment for a block whose bundle lost its beta part.
	split := proto.Clone(cm).(*weftv1.BlockCommitment)
	beta := rollups.IDFromName("beta")
	for i, r := range split.Rollups {
		if bytes.Equal(r.RollupId, beta[:]) {
			split.Rollups = append(split.Rollups[:i], split.Rollups[i+1:]...)
			break
		}
	}
	tamperedRoot := proto.Clone(cm).(*weftv1.BlockCommitment)
	tamperedRoot.Rollups[0].Root[5] ^= 0x10
	wrongCount := proto.Clone(cm).(*weftv1.BlockCommitment)
	wrongCount.Rollups[0].ItemCount++
	with := func(first []byte, rest ...[]byte) [][]byte { return append([][]byte{first}, rest...) }
	badSig := resign(t, tx(t, carol, 0, 1000, transfer(bob.addr, 1)), func(s []byte) []byte { return s[:10] })
	// A valid-looking signature over another body recovers another sender.
	otherSender := func() []byte {
		var a, b weftv1.SignedTx
		_ = proto.Unmarshal(tx(t, bob, 1, 1000, transfer(carol.addr, 1)), &a)
		_ = proto.Unmarshal(tx(t, bob, 1, 1000, transfer(carol.addr, 2)), &b)
		a.Signature = b.Signature
		out, _ := proto.Marshal(&a)
		return out
	}()

	for _, tc := range []struct {
		name string
		txs  [][]byte
	}{
		{"empty block", nil},
		{"missing commitment", good[1:]},
		{"commitment not first", append(append([][]byte(nil), good[1:]...), good[0])},
		{"split bundle commitment", with(rollups.EncodeCommitment(split), good[1:]...)},
		{"empty commitment", with(rollups.EncodeCommitment(&weftv1.BlockCommitment{}), good[1:]...)},
		{"tampered root", with(rollups.EncodeCommitment(tamperedRoot), good[1:]...)},
		{"wrong item count", with(rollups.EncodeCommitment(wrongCount), good[1:]...)},
		{"malformed commitment", with(append(append([]byte(nil), rollups.CommitmentMagic...), 0xff), good[1:]...)},
		{"txs reordered", with(good[0], good[2], good[1], good[3])},
		{"tx dropped", with(good[0], good[1], good[3])},
		{"bad nonce", with(good[0], append(good[1:], tx(t, bob, 5, 1000, transfer(carol.addr, 1)))...)},
		{"replayed tx", with(good[0], append(good[1:], good[3])...)},
		{"bad signature", with(good[0], append(good[1:], badSig)...)},
		{"signature of another body", with(good[0], append(good[1:], otherSender)...)},
		{"second commitment", with(good[0], append(good[1:], good[0])...)},
		{"second empty commitment", with(good[0], append(good[1:], rollups.EncodeCommitment(&weftv1.BlockCommitment{}))...)},
		{"garbage tx", with(good[0], append(good[1:], []byte("garbage"))...)},
		{"oversized tx", with(good[0], append(good[1:], tx(t, bob, 1, 1<<20, data("alpha", make([]byte, maxTxBytes))))...)},
		{"unknown rollup", func() [][]byte {
			raw := tx(t, bob, 1, 1000, data("nope", []byte("x")))
			txs := append(append([][]byte(nil), good[1:]...), raw)
			return with(rollups.EncodeCommitment(commitmentOf(t, txs...)), txs...)
		}()},
		{"unaffordable tx", func() [][]byte {
			raw := tx(t, carol, 0, 1000, transfer(bob.addr, 1))
			return with(good[0], append(append([][]byte(nil), good[1:]...), raw)...)
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c.process(tc.txs) {
				t.Fatal("accepted")
			}
		})
	}

	// Still accepts the good block, and a different valid block too.
	small := commitmentOf(t, good[3])
	small.Height = cm.Height
	if !c.process(with(rollups.EncodeCommitment(small), good[3])) {
		t.Fatal("valid smaller block rejected")
	}
	if !c.process(good) {
		t.Fatal("own proposal rejected after the bad ones")
	}
	resp := c.finalize(good)
	for i, r := range resp.TxResults {
		if r.Code != txcodec.CodeOK {
			t.Fatalf("tx %d: %d", i, r.Code)
		}
	}
	if c.balance(carol.addr) != 12 {
		t.Fatal("block not applied")
	}
	// An empty block is a bare commitment item.
	empty := c.prepare(blockBytes)
	if len(empty) != 1 || !bytes.Equal(empty[0], rollups.EncodeCommitment(&weftv1.BlockCommitment{Height: c.height + 1})) || !c.process(empty) {
		t.Fatal("empty block")
	}
}
