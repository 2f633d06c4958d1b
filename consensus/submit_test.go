package consensus_test

import (
	"bytes"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/mempool"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// resign replaces a tx's signature.
func resign(t testing.TB, raw []byte, mut func(sig []byte) []byte) []byte {
	t.Helper()
	var stx weftv1.SignedTx
	if err := proto.Unmarshal(raw, &stx); err != nil {
		t.Fatal(err)
	}
	stx.Signature = mut(append([]byte(nil), stx.Signature...))
	out, err := proto.Marshal(&stx)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSubmitRejections gives each kind of bad input its own result code, and
// checks none of the rejected bytes ever reaches a block.
func TestSubmitRejections(t *testing.T) {
	alice, bob, poor, carol := newKey(t), newKey(t), newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000, bob.addr: 1_000_000, poor.addr: 150, carol.addr: 1_000_000})
	c := newChain(t, "", &gs)

	// Alice's nonce 0 is committed, so it can be replayed.
	committed := tx(t, alice, 0, 1000, transfer(bob.addr, 5))
	c.submit(committed)
	c.block()
	// Bob has nonce 0 pending, so another nonce-0 tx of his is a conflict.
	pending := tx(t, bob, 0, 1000, transfer(alice.addr, 1))
	c.submit(pending)
	// Carol's tx is valid and pending: its resubmission is a duplicate.
	dup := tx(t, carol, 0, 1000, transfer(alice.addr, 1))
	c.submit(dup)

	good := func(k key, nonce uint64) *weftv1.TxBody {
		return &weftv1.TxBody{ChainId: testChainID, Nonce: nonce, FeeLimit: uint256.NewInt(1000).Bytes(), Actions: []*weftv1.Action{transfer(bob.addr, 1)}}
	}
	valid := signBody(t, alice, good(alice, 1))
	big := make([]byte, maxTxBytes)
	cases := []struct {
		name string
		raw  []byte
		code uint32
	}{
		{"empty bytes", nil, txcodec.CodeMalformed},
		{"garbage", []byte("definitely not protobuf \xff\xff"), txcodec.CodeMalformed},
		{"truncated", valid[:len(valid)/2], txcodec.CodeMalformed},
		{"re-wrapped with an unknown field", append(append([]byte(nil), valid...), 0x18, 0x01), txcodec.CodeMalformed},
		{"re-wrapped with fields reordered", func() []byte {
			var stx weftv1.SignedTx
			_ = proto.Unmarshal(valid, &stx)
			sig, _ := proto.Marshal(&weftv1.SignedTx{Signature: stx.Signature})
			body, _ := proto.Marshal(&weftv1.SignedTx{Body: stx.Body})
			return append(sig, body...)
		}(), txcodec.CodeMalformed},
		{"re-wrapped with a field repeated", func() []byte {
			var stx weftv1.SignedTx
			_ = proto.Unmarshal(valid, &stx)
			extra, _ := proto.Marshal(&weftv1.SignedTx{Signature: []byte("overwritten")})
			return append(extra, valid...)
		}(), txcodec.CodeMalformed},
		{"body not a TxBody", func() []byte {
			b, _ := proto.Marshal(&weftv1.SignedTx{Body: []byte{0xff, 0xff}, Signature: make([]byte, 65)})
			return b
		}(), txcodec.CodeMalformed},
		{"signature too short", resign(t, valid, func(s []byte) []byte { return s[:64] }), txcodec.CodeBadSignature},
		{"no signature", resign(t, valid, func([]byte) []byte { return nil }), txcodec.CodeBadSignature},
		{"signature v out of range", resign(t, valid, func(s []byte) []byte { s[64] = 27; return s }), txcodec.CodeBadSignature},
		{"signature all zero", resign(t, valid, func(s []byte) []byte { return make([]byte, 65) }), txcodec.CodeBadSignature},
		{"signature high s", resign(t, valid, func(s []byte) []byte {
			// s' = n - s is the malleated twin of a valid signature.
			n, _ := uint256.FromHex("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
			sv := new(uint256.Int).SetBytes(s[32:64])
			hi := new(uint256.Int).Sub(n, sv).Bytes32()
			copy(s[32:64], hi[:])
			s[64] ^= 1
			return s
		}), txcodec.CodeBadSignature},
		{"wrong chain id", func() []byte {
			b := good(alice, 1)
			b.ChainId = "other-chain"
			return signBody(t, alice, b)
		}(), txcodec.CodeWrongChainID},
		{"replayed committed tx", committed, txcodec.CodeNonceTooLow},
		{"new tx with a used nonce", tx(t, alice, 0, 1000, transfer(carol.addr, 9)), txcodec.CodeNonceTooLow},
		// A small gap is parked (see TestSubmitParked); past the parking
		// distance it is refused.
		{"nonce too far ahead", tx(t, alice, 1+mempool.DefaultMaxNonceAhead+1, 1000, transfer(bob.addr, 1)), txcodec.CodeNonceTooFarAhead},
		// Same sender and nonce as a pending tx, and the same fee: not a
		// valid replacement.
		{"replacement underpriced", tx(t, bob, 0, 1000, transfer(carol.addr, 2)), txcodec.CodeReplacementUnderpriced},
		{"insufficient balance for fee limit", tx(t, poor, 0, 200, transfer(bob.addr, 0)), txcodec.CodeInsufficientFunds},
		{"insufficient balance for transfer", tx(t, poor, 0, 100, transfer(bob.addr, 51)), txcodec.CodeInsufficientFunds},
		{"fee limit plus transfers overflow", signBody(t, alice, &weftv1.TxBody{
			ChainId: testChainID, Nonce: 1, FeeLimit: bytes.Repeat([]byte{0xff}, 32), Actions: []*weftv1.Action{transfer(bob.addr, 1)},
		}), txcodec.CodeInsufficientFunds},
		{"unfunded sender", tx(t, newKey(t), 0, 100, transfer(bob.addr, 0)), txcodec.CodeInsufficientFunds},
		{"oversized tx", tx(t, alice, 1, 1_000_000, data("alpha", big)), txcodec.CodeTxTooLarge},
		{"unknown rollup", tx(t, alice, 1, 1000, data("nope", []byte("x"))), txcodec.CodeUnknownRollup},
		{"bundle with an unknown rollup", tx(t, alice, 1, 10_000,
			data("alpha", []byte("a")), data("beta", []byte("b")), data("nope", []byte("c"))), txcodec.CodeUnknownRollup},
		{"fee limit too low", tx(t, alice, 1, fee(transfer(bob.addr, 1))-1, transfer(bob.addr, 1)), txcodec.CodeFeeTooLow},
		{"fee limit too low for data", tx(t, alice, 1, feePerAction+feePerDataByte*9, data("alpha", make([]byte, 10))), txcodec.CodeFeeTooLow},
		{"no fee limit", tx(t, alice, 1, 0, transfer(bob.addr, 1)), txcodec.CodeFeeTooLow},
		{"empty actions", tx(t, alice, 1, 1000), txcodec.CodeInvalidAction},
		{"too many actions", func() []byte {
			acts := make([]*weftv1.Action, maxActions+1)
			for i := range acts {
				acts[i] = transfer(bob.addr, 1)
			}
			return tx(t, alice, 1, 100_000, acts...)
		}(), txcodec.CodeInvalidAction},
		{"empty action", tx(t, alice, 1, 1000, &weftv1.Action{}), txcodec.CodeInvalidAction},
		{"short recipient", tx(t, alice, 1, 1000, &weftv1.Action{Kind: &weftv1.Action_Transfer{Transfer: &weftv1.Transfer{To: []byte{1, 2}, Amount: []byte{1}}}}), txcodec.CodeInvalidAction},
		{"amount over 32 bytes", tx(t, alice, 1, 1000, &weftv1.Action{Kind: &weftv1.Action_Transfer{Transfer: &weftv1.Transfer{To: bob.addr.Bytes(), Amount: make([]byte, 33)}}}), txcodec.CodeInvalidAction},
		{"short rollup id", tx(t, alice, 1, 1000, &weftv1.Action{Kind: &weftv1.Action_RollupData{RollupData: &weftv1.RollupData{RollupId: []byte{1}, Data: []byte("x")}}}), txcodec.CodeInvalidAction},
		{"empty rollup data", tx(t, alice, 1, 1000, data("alpha", nil)), txcodec.CodeInvalidAction},
		{"bad rollup name", tx(t, alice, 1, 1000, register("Bad_Name", 5)), txcodec.CodeInvalidAction},
		{"unknown vm", tx(t, alice, 1, 1000, &weftv1.Action{Kind: &weftv1.Action_RegisterRollup{RegisterRollup: &weftv1.RegisterRollup{Name: "x", Vm: "wasm", EvmChainId: 1}}}), txcodec.CodeInvalidAction},
		{"no evm chain id", tx(t, alice, 1, 1000, register("x", 0)), txcodec.CodeInvalidAction},
		{"duplicate", dup, txcodec.CodeAlreadyKnown},
		{"register an existing rollup", tx(t, alice, 1, 1000, register("alpha", 77)), txcodec.CodeRollupExists},
		{"commitment item", rollups.EncodeCommitment(&weftv1.BlockCommitment{}), txcodec.CodeReservedTx},
	}
	seenCodes := map[uint32]bool{}
	var rejected [][]byte
	var rejectedNames []string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			size, nb := c.app.Mempool().Size()
			h, rej := c.app.Submit(tc.raw, false)
			if rej == nil {
				t.Fatalf("accepted (code %s wanted)", txcodec.CodeName(tc.code))
			}
			if rej.Code != tc.code {
				t.Fatalf("code %s (%s), want %s", txcodec.CodeName(rej.Code), rej.Log, txcodec.CodeName(tc.code))
			}
			if rej.Log == "" || rej.Error() == "" {
				t.Fatal("rejection without a log")
			}
			if h != txcodec.TxHash(tc.raw) {
				t.Fatal("Submit returned another hash")
			}
			if s, b := c.app.Mempool().Size(); s != size || b != nb {
				t.Fatal("a rejected tx changed the mempool")
			}
			// CheckTx reports the same code to CometBFT's RPC.
			resp, err := c.app.CheckTx(ctx, &abci.RequestCheckTx{Tx: tc.raw})
			if err != nil || resp.Code != tc.code {
				t.Fatalf("CheckTx code %d, err %v", resp.Code, err)
			}
		})
		seenCodes[tc.code] = true
		if tc.code != txcodec.CodeAlreadyKnown {
			rejected = append(rejected, tc.raw)
			rejectedNames = append(rejectedNames, tc.name)
		}
	}
	for code := txcodec.CodeMalformed; code <= txcodec.CodeNonceTooFarAhead; code++ {
		// Mempool full, nonce gap (parked now; only block execution
		// returns it) and the retired nonce-pending have other tests or
		// none; staking codes are covered by the staking tests.
		switch code {
		case txcodec.CodeMempoolFull, txcodec.CodeNonceGap, txcodec.CodeNoncePending:
			continue
		}
		if code > txcodec.CodeReservedTx && code < txcodec.CodeReplacementUnderpriced {
			continue
		}
		if !seenCodes[code] {
			t.Errorf("no case for code %s", txcodec.CodeName(code))
		}
	}

	// The valid txs land, the rejected ones never do, over a few blocks.
	for i := 0; i < 3; i++ {
		block := c.block()
		mustCommitment(t, block)
		for j, raw := range rejected {
			if contains(block[1:], raw) {
				t.Fatalf("rejected tx %q landed at height %d", rejectedNames[j], c.height)
			}
		}
		if i == 0 && (!contains(block, pending) || !contains(block, dup)) {
			t.Fatal("valid pending txs did not land")
		}
		if i > 0 && len(block) != 1 {
			t.Fatalf("height %d holds %d txs", c.height, len(block))
		}
	}
	if n, _ := c.app.Mempool().Size(); n != 0 {
		t.Fatalf("%d txs left in the mempool", n)
	}
	if got := c.app.Reader().TxResult(txcodec.TxHash(dup)); got == nil || got.Height != 2 {
		t.Fatalf("duplicate's original: result %v", got)
	}
}

func TestSubmitMempoolFull(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000, bob.addr: 1_000_000})
	cfg := consensus.DefaultConfig()
	cfg.Mempool.MaxTxs = 1
	c := newChainCfg(t, "", &gs, cfg)
	first := tx(t, alice, 0, 1000, transfer(bob.addr, 1))
	c.submit(first)
	full := tx(t, bob, 0, 1000, transfer(alice.addr, 1))
	if _, rej := c.app.Submit(full, false); rej == nil || rej.Code != txcodec.CodeMempoolFull {
		t.Fatalf("full mempool: %v", rej)
	}
	if !contains(c.block(), first) {
		t.Fatal("alice's tx did not land")
	}
	// A commit frees room and the same tx is then accepted.
	c.submit(full)
}

func TestSubmitBeforeInitChain(t *testing.T) {
	c := newChain(t, "", nil)
	if _, rej := c.app.Submit([]byte("x"), false); rej == nil || rej.Code != txcodec.CodeMalformed {
		t.Fatalf("submit before InitChain: %v", rej)
	}
}

func TestInsertTxAndReap(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	c := newChain(t, "", &gs)
	a0, a1, gap := tx(t, alice, 0, 1000, transfer(bob.addr, 1)), tx(t, alice, 1, 1000, transfer(bob.addr, 2)), tx(t, alice, 5, 1000, transfer(bob.addr, 3))
	far := tx(t, alice, 1+mempool.DefaultMaxNonceAhead+1, 1000, transfer(bob.addr, 3))
	for _, tc := range []struct {
		raw  []byte
		code uint32
	}{
		{a0, txcodec.CodeOK},
		{a0, txcodec.CodeAlreadyKnown},
		{gap, txcodec.CodeOK},                                    // parked until nonces 2-4 arrive
		{far, abci.CodeTypeRetry + txcodec.CodeNonceTooFarAhead}, // may become valid: retry
		{[]byte("junk"), txcodec.CodeMalformed},
		{a1, txcodec.CodeOK},
	} {
		resp, err := c.app.InsertTx(ctx, &abci.RequestInsertTx{Tx: tc.raw})
		if err != nil || resp.Code != tc.code {
			t.Fatalf("InsertTx: code %d err %v, want %d", resp.Code, err, tc.code)
		}
	}
	for code, want := range map[uint32]bool{
		txcodec.CodeNonceGap: true, txcodec.CodeMempoolFull: true, txcodec.CodeNonceTooFarAhead: true,
		txcodec.CodeTooManyParked: true, txcodec.CodeNonceTooLow: false, txcodec.CodeReplacementUnderpriced: false,
	} {
		if txcodec.Retryable(code) != want {
			t.Fatalf("Retryable(%s) = %v", txcodec.CodeName(code), !want)
		}
	}
	reap := func(max uint64) [][]byte {
		resp, err := c.app.ReapTxs(ctx, &abci.RequestReapTxs{MaxBytes: max})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Txs
	}
	// Txs from peers were broadcast by the node their client used: they are
	// not gossiped again.
	if got := reap(0); len(got) != 0 {
		t.Fatalf("reaped %d txs that came from peers", len(got))
	}
	// Txs submitted to this node (API or CometBFT's broadcast_tx) are.
	a2, a3 := tx(t, alice, 2, 1000, transfer(bob.addr, 4)), tx(t, alice, 3, 1000, transfer(bob.addr, 5))
	if _, rej := c.app.Submit(a2, true); rej != nil {
		t.Fatal(rej)
	}
	if resp, err := c.app.CheckTx(ctx, &abci.RequestCheckTx{Tx: a3}); err != nil || resp.Code != txcodec.CodeOK {
		t.Fatalf("CheckTx: %v %v", resp, err)
	}
	if got := reap(1); len(got) != 1 || !bytes.Equal(got[0], a2) {
		t.Fatalf("first reap: %d txs", len(got))
	}
	if got := reap(0); len(got) != 1 || !bytes.Equal(got[0], a3) {
		t.Fatalf("second reap: %d txs", len(got))
	}
	if got := reap(0); len(got) != 0 {
		t.Fatalf("third reap: %d txs", len(got))
	}
	// The parked nonce 5 does not count until nonce 4 fills the gap.
	if c.app.PendingNonce(alice.addr) != 4 || c.app.PendingNonce(bob.addr) != 0 {
		t.Fatal("PendingNonce")
	}
	a4 := tx(t, alice, 4, 1000, transfer(bob.addr, 6))
	if resp, err := c.app.InsertTx(ctx, &abci.RequestInsertTx{Tx: a4}); err != nil || resp.Code != txcodec.CodeOK {
		t.Fatalf("InsertTx a4: %v %v", resp, err)
	}
	if got := c.app.PendingNonce(alice.addr); got != 6 {
		t.Fatalf("PendingNonce after the gap is filled = %d, want 6", got)
	}
}
