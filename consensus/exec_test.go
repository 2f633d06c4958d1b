package consensus_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/consensus"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// TestTransfersFeesNonces: transfers move balances, nonces advance, and the
// fee goes to the staking reward pool; the next block pays the pool to the
// validators that signed the previous one, by power (1:2:3), each operator
// (the only delegator of its validator) taking its whole share. Remainders
// stay in the pool.
func TestTransfersFeesNonces(t *testing.T) {
	alice, bob, carol := newKey(t), newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	c := newChain(t, "", &gs)
	op0, op1, op2 := testVals[0].operator.addr, testVals[1].operator.addr, testVals[2].operator.addr
	want := map[common.Address]uint64{alice.addr: 1_000_000}
	var wantPool uint64
	check := func() {
		t.Helper()
		for _, k := range []common.Address{alice.addr, bob.addr, carol.addr, op0, op1, op2} {
			if got := c.balance(k); got != want[k] {
				t.Fatalf("height %d: balance of %s is %d, want %d", c.height, k, got, want[k])
			}
		}
		if got := consensus.StakingOf(c.app).Pool(); got.Uint64() != wantPool {
			t.Fatalf("height %d: reward pool %s, want %d", c.height, got, wantPool)
		}
		// Nothing is minted or burnt: what left balances is in the pool.
		var total uint64
		for _, v := range want {
			total += v
		}
		if total+wantPool != 1_000_000 {
			t.Fatalf("height %d: balances %d + pool %d", c.height, total, wantPool)
		}
	}
	checkResult := func(raw []byte, height int64, index uint32, fee uint64, sender common.Address) {
		t.Helper()
		r := c.app.Reader().TxResult(txcodec.TxHash(raw))
		if r == nil {
			t.Fatal("no tx result")
		}
		h := txcodec.TxHash(raw)
		if !bytes.Equal(r.Hash, h[:]) || r.Height != height || r.Index != index || r.Code != txcodec.CodeOK ||
			new(uint256.Int).SetBytes(r.Fee).Uint64() != fee || !bytes.Equal(r.Sender, sender.Bytes()) {
			t.Fatalf("tx result %v, want height %d index %d fee %d", r, height, index, fee)
		}
	}

	// Height 1: a transfer, and a data+transfer tx whose fee limit is above
	// its fee (only the fee is charged). Block 1 has no last commit: the
	// fees wait in the pool.
	t1 := tx(t, alice, 0, 500, transfer(bob.addr, 10_000))
	payload := bytes.Repeat([]byte{7}, 50)
	t2 := tx(t, alice, 1, 1000, data("alpha", payload), transfer(carol.addr, 7))
	c.submit(t1)
	c.submit(t2)
	if c.app.PendingNonce(alice.addr) != 2 {
		t.Fatal("pending nonce")
	}
	b1 := c.block()
	if len(b1) != 3 || !bytes.Equal(b1[1], t1) || !bytes.Equal(b1[2], t2) {
		t.Fatal("block 1 is not [commitment, t1, t2]")
	}
	f2 := uint64(2*feePerAction + feePerDataByte*50)
	want[alice.addr] -= 10_000 + feePerAction + f2 + 7
	want[bob.addr] += 10_000
	want[carol.addr] += 7
	wantPool = feePerAction + f2 // 400
	check()
	checkResult(t1, 1, 1, feePerAction, alice.addr)
	checkResult(t2, 1, 2, f2, alice.addr)
	if c.nonce(alice.addr) != 2 || c.nonce(bob.addr) != 0 {
		t.Fatal("nonces after height 1")
	}

	// Height 2: the 400 of height 1 go to its signers: 400·1/6, 400·2/6,
	// 400·3/6 = 66, 133, 200, and 1 stays. Bob pays back with a fee limit of
	// exactly the fee, alice sends to herself (only the fee moves).
	t3 := tx(t, bob, 0, feePerAction, transfer(alice.addr, 50))
	t4 := tx(t, alice, 2, 5000, transfer(alice.addr, 1000))
	c.submit(t3)
	c.submit(t4)
	c.block()
	want[op0], want[op1], want[op2] = 66, 133, 200
	want[bob.addr] -= 50 + feePerAction
	want[alice.addr] = want[alice.addr] + 50 - feePerAction
	wantPool = 1 + 2*feePerAction // 201
	check()

	// Height 3: 201 → 33, 67, 100 (1 stays); bob's two-action tx adds 200.
	t5 := tx(t, bob, 1, 1000, transfer(carol.addr, 1), transfer(carol.addr, 2))
	c.submit(t5)
	c.block()
	want[op0] += 33
	want[op1] += 67
	want[op2] += 100
	want[bob.addr] -= 3 + 2*feePerAction
	want[carol.addr] += 3
	wantPool = 1 + 2*feePerAction
	check()
	checkResult(t5, 3, 1, 2*feePerAction, bob.addr)
	if c.nonce(alice.addr) != 3 || c.nonce(bob.addr) != 2 || c.nonce(carol.addr) != 0 {
		t.Fatalf("nonces: %d %d %d", c.nonce(alice.addr), c.nonce(bob.addr), c.nonce(carol.addr))
	}

	// Height 4, empty: the pool is paid out again.
	c.block()
	want[op0] += 33
	want[op1] += 67
	want[op2] += 100
	wantPool = 1
	check()
	// Height 5: a pool of 1 gives every signer 0; it stays.
	c.block()
	check()
}

func TestQuery(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	c := newChain(t, "", &gs)
	raw := tx(t, alice, 0, 1000, transfer(bob.addr, 5))
	c.submit(raw)
	c.block()
	h := txcodec.TxHash(raw)
	alpha := rollups.IDFromName("alpha")
	query := func(path string) *abci.ResponseQuery {
		t.Helper()
		resp, err := c.app.Query(ctx, &abci.RequestQuery{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Height != 1 {
			t.Fatalf("%s: height %d", path, resp.Height)
		}
		return resp
	}
	var acc weftv1.Account
	if r := query("/account/" + bob.addr.Hex()); r.Code != 0 || proto.Unmarshal(r.Value, &acc) != nil || new(uint256.Int).SetBytes(acc.Balance).Uint64() != 5 {
		t.Fatalf("account query: %v", r)
	}
	for _, p := range []string{"/rollup/alpha", "rollup/alpha", fmt.Sprintf("/rollup/0x%x", alpha[:])} {
		var r weftv1.Rollup
		if resp := query(p); resp.Code != 0 || proto.Unmarshal(resp.Value, &r) != nil || r.Name != "alpha" || r.EvmChainId != 1001 {
			t.Fatalf("%s: %v", p, resp)
		}
	}
	var res weftv1.TxResult
	if r := query(fmt.Sprintf("/tx/0x%x", h[:])); r.Code != 0 || proto.Unmarshal(r.Value, &res) != nil || res.Height != 1 {
		t.Fatalf("tx query: %v", r)
	}
	for path, code := range map[string]uint32{
		"/account/nope":                     txcodec.CodeMalformed,
		"/rollup/absent":                    txcodec.CodeUnknownRollup,
		"/rollup/0xzz":                      txcodec.CodeUnknownRollup,
		"/rollup/0x00":                      txcodec.CodeUnknownRollup,
		"/tx/0x00":                          txcodec.CodeMalformed,
		"/tx/0x" + strings.Repeat("00", 32): txcodec.CodeMalformed,
		"/other":                            txcodec.CodeMalformed,
		"":                                  txcodec.CodeMalformed,
	} {
		if r := query(path); r.Code != code || r.Log == "" {
			t.Errorf("%q: code %d log %q, want %d", path, r.Code, r.Log, code)
		}
	}
	rs, err := c.app.Reader().Rollups()
	if err != nil || len(rs) != 3 {
		t.Fatalf("Rollups: %d, %v", len(rs), err)
	}
	if c.app.ChainID() != testChainID {
		t.Fatal("ChainID")
	}
}

func TestRegisterRollupThenData(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000, bob.addr: 1_000_000})
	c := newChain(t, "", &gs)
	delta := rollups.IDFromName("delta")

	reg := tx(t, alice, 0, 1000, register("delta", 4242))
	c.submit(reg)
	// Until the registration is committed the rollup is unknown.
	early := tx(t, bob, 0, 1000, data("delta", []byte("too early")))
	if _, rej := c.app.Submit(early, false); rej == nil || rej.Code != txcodec.CodeUnknownRollup {
		t.Fatalf("data for a rollup not yet registered: %v", rej)
	}
	c.block()
	r := c.app.Reader().Rollup(delta)
	if r == nil || r.Name != "delta" || r.Vm != "evm" || r.EvmChainId != 4242 ||
		!bytes.Equal(r.Owner, alice.addr.Bytes()) || r.RegisteredHeight != 1 || !bytes.Equal(r.Id, delta[:]) {
		t.Fatalf("registered rollup: %v", r)
	}
	if c.balance(alice.addr) != 1_000_000-feePerAction {
		t.Fatal("registration fee")
	}
	if _, rej := c.app.Submit(tx(t, bob, 0, 1000, register("delta", 1)), false); rej == nil || rej.Code != txcodec.CodeRollupExists {
		t.Fatalf("second registration: %v", rej)
	}

	// Now data for it is ordered, and a tx may register a rollup and send
	// it data at once.
	d1 := tx(t, bob, 0, 1000, data("delta", []byte("hello delta")))
	both := tx(t, alice, 1, 1000, register("epsilon", 5), data("epsilon", []byte("first")))
	c.submit(d1)
	c.submit(both)
	block := c.block()
	cm := mustCommitment(t, block)
	for _, tc := range []struct {
		name   string
		raw    []byte
		sender common.Address
		index  uint32
		data   string
	}{
		{"delta", d1, bob.addr, 0, "hello delta"},
		{"epsilon", both, alice.addr, 1, "first"},
	} {
		id := rollups.IDFromName(tc.name)
		if rollups.RootFor(cm, id) == nil {
			t.Fatalf("commitment lacks %s", tc.name)
		}
		h := txcodec.TxHash(tc.raw)
		it := &rollups.Item{TxHash: h[:], ActionIndex: tc.index, Sender: tc.sender.Bytes(), Data: []byte(tc.data)}
		if err := rollups.VerifyItems(block[0], id, []*rollups.Item{it}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	if r := c.app.Reader().Rollup(rollups.IDFromName("epsilon")); r == nil || r.RegisteredHeight != 2 {
		t.Fatalf("epsilon: %v", r)
	}
}

// TestRegistrationOrderInsideTx: a tx's actions run in order, so data sent
// before the registration in the same tx, or a name registered twice, can
// never execute. Submit must refuse them rather than let them sit in the
// mempool forever, blocking the sender's later nonces.
func TestRegistrationOrderInsideTx(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	c := newChain(t, "", &gs)
	for _, tc := range []struct {
		name string
		raw  []byte
		code uint32
	}{
		{"data before registration", tx(t, alice, 0, 1000, data("zeta", []byte("x")), register("zeta", 9)), txcodec.CodeUnknownRollup},
		{"registered twice", tx(t, alice, 0, 1000, register("eta", 9), register("eta", 10)), txcodec.CodeRollupExists},
	} {
		if _, rej := c.app.Submit(tc.raw, false); rej == nil || rej.Code != tc.code {
			t.Fatalf("%s: %v, want code %s", tc.name, rej, txcodec.CodeName(tc.code))
		}
	}
	next := tx(t, alice, 0, 1000, transfer(bob.addr, 1))
	c.submit(next)
	if !contains(c.block(), next) {
		t.Fatal("alice's queue is blocked")
	}
}

// TestRegistrationRace: two senders register the same name; once one
// registration commits, the other can never execute. It must leave the
// mempool with a reason, taking its sender's later txs along, so the sender
// can go on.
func TestRegistrationRace(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000, bob.addr: 1_000_000})
	c := newChain(t, "", &gs)
	a := tx(t, alice, 0, 1000, register("omega", 1))
	b := tx(t, bob, 0, 1000, register("omega", 2))
	bNext := tx(t, bob, 1, 1000, transfer(alice.addr, 1))
	c.submit(a)
	if _, rej := c.app.Submit(b, true); rej != nil {
		t.Fatal(rej)
	}
	c.submit(bNext)
	block := c.block()
	if !contains(block, a) || contains(block, b) || contains(block, bNext) {
		t.Fatal("block 1 should hold alice's registration only")
	}
	for _, raw := range [][]byte{b, bNext} {
		if c.app.Mempool().Get(txcodec.TxHash(raw)) != nil {
			t.Fatal("a tx that can never execute is still pending")
		}
		if reason, ok := c.app.DroppedReason(txcodec.TxHash(raw)); !ok || reason == "" {
			t.Fatal("dropped tx has no reason")
		}
	}
	retry := tx(t, bob, 0, 1000, transfer(alice.addr, 1))
	c.submit(retry)
	if !contains(c.block(), retry) {
		t.Fatal("bob is still blocked")
	}
}

// TestFinalizeBlockRecordsRejections: FinalizeBlock is total; a decided block
// with invalid txs (which ProcessProposal would refuse) records each one's
// code and applies the rest.
func TestFinalizeBlockRecordsRejections(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	c := newChain(t, "", &gs)
	ok := tx(t, alice, 0, 1000, transfer(bob.addr, 10))
	gap := tx(t, alice, 5, 1000, transfer(bob.addr, 10))
	poor := tx(t, bob, 0, 1000, transfer(alice.addr, 1))
	block := [][]byte{rollups.EncodeCommitment(&weftv1.BlockCommitment{}), ok, gap, []byte("junk"), ok, poor, rollups.EncodeCommitment(&weftv1.BlockCommitment{})}
	if c.process(block) {
		t.Fatal("ProcessProposal accepted invalid txs")
	}
	resp := c.finalize(block)
	want := []uint32{txcodec.CodeOK, txcodec.CodeOK, txcodec.CodeNonceGap, txcodec.CodeMalformed, txcodec.CodeNonceTooLow, txcodec.CodeInsufficientFunds, txcodec.CodeReservedTx}
	for i, r := range resp.TxResults {
		if r.Code != want[i] {
			t.Fatalf("tx %d: code %d (%s), want %d", i, r.Code, r.Log, want[i])
		}
	}
	if c.balance(bob.addr) != 10 || c.nonce(alice.addr) != 1 {
		t.Fatal("valid tx not applied")
	}
	// A block without a commitment item is still finalized.
	resp = c.finalize([][]byte{tx(t, alice, 1, 1000, transfer(bob.addr, 10))})
	if resp.TxResults[0].Code != txcodec.CodeOK || c.balance(bob.addr) != 20 {
		t.Fatal("block without commitment")
	}
}
