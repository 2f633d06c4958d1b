package consensus_test

import (
	"bytes"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cryptoenc "github.com/cometbft/cometbft/crypto/encoding"
	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/consensus"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

func createValidator(pub []byte, stake uint64, commissionBps uint32) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_CreateValidator{CreateValidator: &weftv1.CreateValidator{
		ConsensusPubKey: pub, SelfStake: uint256.NewInt(stake).Bytes(), CommissionBps: commissionBps, Moniker: "new",
	}}}
}

func delegate(v common.Address, amount uint64) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_Delegate{Delegate: &weftv1.Delegate{Validator: v.Bytes(), Amount: uint256.NewInt(amount).Bytes()}}}
}

func undelegate(v common.Address, amount uint64) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_Undelegate{Undelegate: &weftv1.Undelegate{Validator: v.Bytes(), Amount: uint256.NewInt(amount).Bytes()}}}
}

func unjail(v common.Address) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_Unjail{Unjail: &weftv1.Unjail{Validator: v.Bytes()}}}
}

func editValidator(v common.Address, commission uint32) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_EditValidator{EditValidator: &weftv1.EditValidator{Validator: v.Bytes(), HasCommission: true, CommissionBps: commission}}}
}

// updatesOf renders FinalizeBlock's validator updates as address → power.
func updatesOf(t *testing.T, resp *abci.ResponseFinalizeBlock) map[common.Address]int64 {
	t.Helper()
	out := map[common.Address]int64{}
	for _, u := range resp.ValidatorUpdates {
		pk, err := cryptoenc.PubKeyFromProto(u.PubKey)
		if err != nil {
			t.Fatalf("update key: %v", err)
		}
		if pk.Type() != secp256k1eth.KeyType {
			t.Fatalf("update key type %s", pk.Type())
		}
		out[common.BytesToAddress(pk.Address())] = u.Power
	}
	return out
}

func wantUpdates(t *testing.T, resp *abci.ResponseFinalizeBlock, want map[common.Address]int64) {
	t.Helper()
	got := updatesOf(t, resp)
	if len(got) != len(want) {
		t.Fatalf("updates %v, want %v", got, want)
	}
	for a, p := range want {
		if q, ok := got[a]; !ok || q != p {
			t.Fatalf("updates %v, want %v", got, want)
		}
	}
}

// inSet reports whether a votes on block h of c.
func (c *chain) inSet(h int64, a common.Address) bool {
	for _, v := range c.sets[h] {
		if v.addr == a {
			return true
		}
	}
	return false
}

func (c *chain) validator(a common.Address) *weftv1.Validator {
	c.t.Helper()
	v := consensus.StakingOf(c.app).Validator(a)
	if v == nil {
		c.t.Fatalf("validator %s does not exist", a)
	}
	return v
}

// payout is what one signer's part of pool earns the delegators of v (by
// address), under the documented rule: part = pool·power/total, commission
// to the operator, the rest by shares, all rounded down. The operator is
// paid at once, the others when their delegation next changes (exactly
// this when they are the only other delegator and 10^36 is a multiple of
// their shares).
func payout(v *weftv1.Validator, dels map[common.Address]uint64, pool uint64, power, total int64) map[common.Address]uint64 {
	part := pool * uint64(power) / uint64(total)
	comm := part * uint64(v.CommissionBps) / 10_000
	rest := part - comm
	var shares uint64
	for _, s := range dels {
		shares += s
	}
	out := map[common.Address]uint64{common.BytesToAddress(v.Operator): comm}
	for d, s := range dels {
		out[d] += rest * s / shares
	}
	return out
}

// TestStakingLifecycle drives staking through the ABCI calls as CometBFT
// would (last-commit votes, misbehaviour, updates applied two heights
// later), with the supply invariant checked after every block: a new
// validator joins and earns, delegation and unbonding pay out exactly,
// undelegating below the minimum removes it, a validator that stops signing
// is jailed and unjails, a double signer is slashed and tombstoned.
func TestStakingLifecycle(t *testing.T) {
	op4, dd := newKey(t), newKey(t)
	funded := map[common.Address]uint64{op4.addr: 1_000_000, dd.addr: 1_000_000}
	for _, v := range testVals {
		funded[v.operator.addr] = 10_000
	}
	gs := appState(funded)
	gs.Params.Staking.BlockReward = "10000"
	gs.Params.Staking.SlashDowntimeBps = 100
	c := newChain(t, "", &gs)
	nonce := map[common.Address]uint64{}
	send := func(k key, acts ...*weftv1.Action) [32]byte {
		t.Helper()
		h := c.submit(tx(t, k, nonce[k.addr], 10_000, acts...))
		nonce[k.addr]++
		return h
	}
	v4 := secp256k1eth.GenPrivKeySecp256k1Eth([]byte("lifecycle-v4"))
	v4addr := common.BytesToAddress(v4.PubKey().Address())
	val1, val2 := testVals[1], testVals[2]

	// Height 1: a new validator with power 4, 20% commission. Its update is
	// in FinalizeBlock and CometBFT has it in the set from height 3.
	send(op4, createValidator(v4.PubKey().Bytes(), 4000, 2000))
	_, resp := c.blockResp()
	wantUpdates(t, resp, map[common.Address]int64{v4addr: 4})
	if v := c.validator(v4addr); !bytes.Equal(v.Operator, op4.addr.Bytes()) || v.Power != 4 || v.CreatedHeight != 1 {
		t.Fatalf("validator %v", v)
	}
	// Height 2: dd delegates as much: power 8 from height 4.
	send(dd, delegate(v4addr, 4000))
	_, resp = c.blockResp()
	wantUpdates(t, resp, map[common.Address]int64{v4addr: 8})
	c.block()
	if c.inSet(2, v4addr) || !c.inSet(3, v4addr) {
		t.Fatal("the new validator should vote from height 3")
	}

	// Height 4 carries height 3's votes, v4's with power 4 of 10: its part
	// of the pool pays op4 the commission and half the rest, and owes dd
	// the other half.
	pool := consensus.StakingOf(c.app).Pool().Uint64() + 10_000
	want := payout(c.validator(v4addr), map[common.Address]uint64{op4.addr: 4000, dd.addr: 4000}, pool, 4, 10)
	b4op, b4dd := c.balance(op4.addr), c.balance(dd.addr)
	c.block()
	owed := consensus.StakingOf(c.app).Rewards(v4addr, dd.addr).Uint64()
	if c.balance(op4.addr) != b4op+want[op4.addr] || c.balance(dd.addr) != b4dd || owed != want[dd.addr] || owed == 0 {
		t.Fatalf("v4's rewards: op4 +%d dd +%d and owed %d, want %v", c.balance(op4.addr)-b4op, c.balance(dd.addr)-b4dd, owed, want)
	}

	// Height 5 carries height 4's votes, v4's with power 8 of 14. dd
	// undelegates everything: it is paid what it is owed, height 5's part
	// included, then nothing until the stake returns at 5 + unbonding_blocks.
	pool = consensus.StakingOf(c.app).Pool().Uint64() + 10_000
	want = payout(c.validator(v4addr), map[common.Address]uint64{op4.addr: 4000, dd.addr: 4000}, pool, 8, 14)
	send(dd, undelegate(v4addr, 4000))
	_, resp = c.blockResp()
	wantUpdates(t, resp, map[common.Address]int64{v4addr: 4})
	bal := c.balance(dd.addr)
	if bal != b4dd+owed+want[dd.addr]-feePerAction || consensus.StakingOf(c.app).Rewards(v4addr, dd.addr).Uint64() != 0 {
		t.Fatalf("dd has %d after undelegating, want %d", bal, b4dd+owed+want[dd.addr]-feePerAction)
	}
	for c.height < 9 {
		c.block()
		if c.balance(dd.addr) != bal {
			t.Fatalf("height %d: dd's balance moved while unbonding", c.height)
		}
	}
	c.block()
	if c.balance(dd.addr) != bal+4000 {
		t.Fatalf("height 10: dd has %d, want %d", c.balance(dd.addr), bal+4000)
	}

	// Height 11: op4 takes its self stake below the minimum: out of the set.
	send(op4, undelegate(v4addr, 3600))
	_, resp = c.blockResp()
	wantUpdates(t, resp, map[common.Address]int64{v4addr: 0})
	c.block()
	c.block()
	if c.inSet(c.height+1, v4addr) {
		t.Fatal("v4 still votes")
	}

	// val2 stops signing: after more than 4 misses in 10 blocks it is
	// jailed, slashed 1% (3000 → 2970) and removed.
	c.absent[val2.addr] = true
	jailedAt := int64(0)
	for jailedAt == 0 && c.height < 30 {
		_, resp = c.blockResp()
		if _, ok := updatesOf(t, resp)[val2.addr]; ok {
			jailedAt = c.height
		}
	}
	v := c.validator(val2.addr)
	if jailedAt == 0 || !v.Jailed || v.Tombstoned || amount(v.Tokens) != 2970 || v.JailedUntilHeight != jailedAt+5 {
		t.Fatalf("val2 at height %d: %v", jailedAt, v)
	}
	wantUpdates(t, resp, map[common.Address]int64{val2.addr: 0})
	c.absent[val2.addr] = false
	// Unjailing early is refused with its own code; once the jail is over
	// the operator's Unjail brings it back with its slashed power.
	early := tx(t, val2.operator, nonce[val2.operator.addr], 10_000, unjail(val2.addr))
	if _, rej := c.app.Submit(early, false); rej == nil || rej.Code != txcodec.CodeInvalidState || !strings.Contains(rej.Log, "jailed until") {
		t.Fatalf("early unjail: %v", rej)
	}
	for c.height < jailedAt+4 {
		c.block()
	}
	send(val2.operator, unjail(val2.addr))
	_, resp = c.blockResp()
	wantUpdates(t, resp, map[common.Address]int64{val2.addr: 2})
	c.block()
	c.block()
	if !c.inSet(c.height+1, val2.addr) || c.validator(val2.addr).Jailed {
		t.Fatal("val2 is not back")
	}

	// val1 double-signed at the previous height: the evidence slashes 5%
	// (2000 → 1900), tombstones it and removes it for good.
	c.evidence = []abci.Misbehavior{{Type: abci.MisbehaviorType_DUPLICATE_VOTE, Validator: abci.Validator{Address: val1.addr.Bytes(), Power: 2}, Height: c.height, TotalVotingPower: 6}}
	supply := consensus.StakingOf(c.app).Supply().Uint64()
	_, resp = c.blockResp()
	wantUpdates(t, resp, map[common.Address]int64{val1.addr: 0})
	v = c.validator(val1.addr)
	if !v.Tombstoned || !v.Jailed || amount(v.Tokens) != 1900 {
		t.Fatalf("val1 after evidence: %v", v)
	}
	if got := consensus.StakingOf(c.app).Supply().Uint64(); got != supply+10_000-100 {
		t.Fatalf("supply %d, want %d (+reward, -slash)", got, supply+10_000-100)
	}
	bad := tx(t, val1.operator, nonce[val1.operator.addr], 10_000, unjail(val1.addr))
	if _, rej := c.app.Submit(bad, false); rej == nil || rej.Code != txcodec.CodeInvalidState || !strings.Contains(rej.Log, "tombstoned") {
		t.Fatalf("unjail of a tombstoned validator: %v", rej)
	}
	for i := 0; i < 3; i++ {
		c.block()
	}
	if c.inSet(c.height+1, val1.addr) || len(c.sets[c.height+1]) != 2 {
		t.Fatalf("set after the double sign: %v", c.sets[c.height+1])
	}
}

func amount(b []byte) uint64 { return new(uint256.Int).SetBytes(b).Uint64() }

// TestStakingRejections: bad staking input gets its own result code at
// Submit (and CheckTx), and a block that carries it anyway (another
// proposer's) records the same code and changes nothing: its app hash equals
// that of the same block without the tx.
func TestStakingRejections(t *testing.T) {
	eve := newKey(t)
	funded := map[common.Address]uint64{eve.addr: 1_000_000}
	for _, v := range testVals {
		funded[v.operator.addr] = 1_000_000
	}
	gs := appState(funded)
	a, b := newChain(t, "", &gs), newChain(t, "", &gs)
	// eve delegates 700 to val0 so undelegating more is the only fault.
	setup := tx(t, eve, 0, 10_000, delegate(testVals[0].addr, 700))
	a.submit(setup)
	txs := a.prepare(blockBytes)
	a.apply(txs)
	b.apply(txs)
	fresh := secp256k1eth.GenPrivKeySecp256k1Eth([]byte("rejections")).PubKey().Bytes()
	op0 := testVals[0].operator
	for _, tc := range []struct {
		name string
		raw  []byte
		code uint32
		log  string
	}{
		{"wrong key type (ed25519)", tx(t, eve, 1, 10_000, createValidator(ed25519.GenPrivKey().PubKey().Bytes(), 1000, 0)), txcodec.CodeInvalidAction, "33-byte"},
		{"uncompressed key", tx(t, eve, 1, 10_000, createValidator(append([]byte{4}, make([]byte, 64)...), 1000, 0)), txcodec.CodeInvalidAction, "33-byte"},
		{"commission above 100%", tx(t, eve, 1, 10_000, createValidator(fresh, 1000, 10_001)), txcodec.CodeInvalidAction, "commission"},
		{"stake below minimum", tx(t, eve, 1, 10_000, createValidator(fresh, 499, 0)), txcodec.CodeStakeTooLow, "below the minimum"},
		{"key already a validator", tx(t, eve, 1, 10_000, createValidator(testVals[1].pub, 1000, 0)), txcodec.CodeValidatorExists, "already exists"},
		{"unjail when not jailed", tx(t, op0, 0, 10_000, unjail(testVals[0].addr)), txcodec.CodeInvalidState, "not jailed"},
		{"unjail by another account", tx(t, eve, 1, 10_000, unjail(testVals[0].addr)), txcodec.CodeUnauthorized, "not the operator"},
		{"edit by another account", tx(t, eve, 1, 10_000, editValidator(testVals[0].addr, 5)), txcodec.CodeUnauthorized, "not the operator"},
		{"undelegate more than delegated", tx(t, eve, 1, 10_000, undelegate(testVals[0].addr, 701)), txcodec.CodeExceedsDelegation, "worth 700"},
		{"undelegate without a delegation", tx(t, eve, 1, 10_000, undelegate(testVals[1].addr, 1)), txcodec.CodeNotFound, "no delegation"},
		{"delegate to an unknown validator", tx(t, eve, 1, 10_000, delegate(common.Address{9}, 1)), txcodec.CodeNotFound, "does not exist"},
		{"a later action fails", tx(t, eve, 1, 10_000, delegate(testVals[0].addr, 5), undelegate(testVals[0].addr, 706)), txcodec.CodeExceedsDelegation, "action 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rej := a.app.Submit(tc.raw, false)
			if rej == nil || rej.Code != tc.code || !strings.Contains(rej.Log, tc.log) {
				t.Fatalf("Submit: %v, want code %s with %q", rej, txcodec.CodeName(tc.code), tc.log)
			}
			if resp, err := a.app.CheckTx(ctx, &abci.RequestCheckTx{Tx: tc.raw}); err != nil || resp.Code != tc.code {
				t.Fatalf("CheckTx: %v %v", resp, err)
			}
			if n, _ := a.app.Mempool().Size(); n != 0 {
				t.Fatal("a rejected tx is pending")
			}
			nonceBefore := map[common.Address]uint64{eve.addr: a.nonce(eve.addr), op0.addr: a.nonce(op0.addr)}
			empty := rollups.EncodeCommitment(&weftv1.BlockCommitment{})
			ra := a.finalize([][]byte{empty, tc.raw})
			rb := b.finalize([][]byte{empty})
			if got := ra.TxResults[1]; got.Code != tc.code || !strings.Contains(got.Log, tc.log) {
				t.Fatalf("FinalizeBlock result %d %q", got.Code, got.Log)
			}
			if !bytes.Equal(ra.AppHash, rb.AppHash) {
				t.Fatal("the rejected tx changed the state")
			}
			if a.app.Reader().TxResult(txcodec.TxHash(tc.raw)) != nil || a.nonce(eve.addr) != nonceBefore[eve.addr] || a.nonce(op0.addr) != nonceBefore[op0.addr] {
				t.Fatal("the rejected tx left a result or moved a nonce")
			}
		})
	}
}

// TestStakingTxThatCanNoLongerExecute: a pending staking tx that a block
// made impossible (here the sender's own earlier tx undelegated everything)
// leaves the mempool with a reason instead of blocking the sender's later
// txs for good.
func TestStakingTxThatCanNoLongerExecute(t *testing.T) {
	eve, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{eve.addr: 1_000_000})
	c := newChain(t, "", &gs)
	c.submit(tx(t, eve, 0, 10_000, delegate(testVals[0].addr, 700)))
	c.block()
	first := tx(t, eve, 1, 10_000, undelegate(testVals[0].addr, 700))
	second := tx(t, eve, 2, 10_000, undelegate(testVals[0].addr, 700))
	later := tx(t, eve, 3, 10_000, transfer(bob.addr, 1))
	c.submit(first)
	c.submit(second)
	c.submit(later)
	block := c.block()
	if !contains(block, first) || contains(block, second) {
		t.Fatal("expected only the first undelegation to land")
	}
	for _, raw := range [][]byte{second, later} {
		if c.app.Mempool().Get(txcodec.TxHash(raw)) != nil {
			t.Fatal("a tx that can never execute is still pending")
		}
		if reason, ok := c.app.DroppedReason(txcodec.TxHash(raw)); !ok || !strings.Contains(reason, "no delegation") {
			t.Fatalf("dropped reason %q", reason)
		}
	}
	retry := tx(t, eve, 2, 10_000, transfer(bob.addr, 1))
	c.submit(retry)
	if !contains(c.block(), retry) {
		t.Fatal("eve is still blocked")
	}
}
