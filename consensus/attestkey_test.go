package consensus_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/attest/bls"
	"github.com/weftnet/weft/consensus"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/txcodec"
)

// blsKey is attestation key i: its public key and proof of possession.
func blsKey(t testing.TB, i int) (pk, pop []byte) {
	t.Helper()
	seed := []byte("weft-test-attestation-key-" + strconv.Itoa(i) + "-padding-to-32")
	sk, err := bls.KeyFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return sk.PublicKey().Bytes(), sk.PopProve().Bytes()
}

func createValidatorWithKey(pub, attestPk, pop []byte, stake uint64) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_CreateValidator{CreateValidator: &weftv1.CreateValidator{
		ConsensusPubKey: pub, SelfStake: uint256.NewInt(stake).Bytes(), Moniker: "new",
		AttestationPubKey: attestPk, AttestationPop: pop,
	}}}
}

// TestAttestationKeyTxs: a CreateValidator with a key and a valid proof
// stores the key; a wrong proof or another validator's key is refused with
// invalid_action or validator_exists and changes nothing.
func TestAttestationKeyTxs(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000, bob.addr: 1_000_000})
	c := newChain(t, "", &gs)
	pk, pop := blsKey(t, 0)
	_, otherPop := blsKey(t, 1)
	v1 := secp256k1eth.GenPrivKeySecp256k1Eth([]byte("attest-v1")).PubKey()
	v2 := secp256k1eth.GenPrivKeySecp256k1Eth([]byte("attest-v2")).PubKey()
	for _, tc := range []struct {
		name, log string
		act       *weftv1.Action
	}{
		{"wrong proof", "does not verify", createValidatorWithKey(v1.Bytes(), pk, otherPop, 1000)},
		{"no proof", "no proof of possession", createValidatorWithKey(v1.Bytes(), pk, nil, 1000)},
		{"not a key", "attestation key", createValidatorWithKey(v1.Bytes(), make([]byte, 48), pop, 1000)},
	} {
		_, rej := c.app.Submit(tx(t, alice, 0, 10_000, tc.act), false)
		if rej == nil || rej.Code != txcodec.CodeInvalidAction || !strings.Contains(rej.Log, tc.log) {
			t.Fatalf("%s: %v, want invalid_action with %q", tc.name, rej, tc.log)
		}
	}
	c.submit(tx(t, alice, 0, 10_000, createValidatorWithKey(v1.Bytes(), pk, pop, 1000)))
	c.block()
	v := c.app.Reader().Staking().Validator(common.BytesToAddress(v1.Address()))
	if v == nil || !bytes.Equal(v.AttestationPubKey, pk) {
		t.Fatalf("validator %v, want attestation key %x", v, pk)
	}
	_, rej := c.app.Submit(tx(t, bob, 0, 10_000, createValidatorWithKey(v2.Bytes(), pk, pop, 1000)), false)
	if rej == nil || rej.Code != txcodec.CodeValidatorExists || !strings.Contains(rej.Log, "already registered") {
		t.Fatalf("second use of a key: %v", rej)
	}
	c.checkSupply()
}

// TestBlockPopCheckBound: a block registering more than MaxBlockPopChecks
// attestation keys is refused by ProcessProposal, and the builder stops
// at the bound.
func TestBlockPopCheckBound(t *testing.T) {
	rng := seededRand(t)
	n := consensus.MaxBlockPopChecks + 1
	senders, gs := seededAccounts(t, rng, n)
	c := newChain(t, "", &gs)
	var txs [][]byte
	for i, k := range senders {
		pk, pop := blsKey(t, i)
		cons := secp256k1eth.GenPrivKeySecp256k1Eth([]byte("pop-bound-" + strconv.Itoa(i))).PubKey()
		raw := tx(t, k, 0, 10_000, createValidatorWithKey(cons.Bytes(), pk, pop, 1000))
		txs = append(txs, raw)
		c.submit(raw)
	}
	block := c.prepare(blockBytes)
	if got := len(block) - 1; got != consensus.MaxBlockPopChecks {
		t.Fatalf("proposal holds %d key registrations, want %d", got, consensus.MaxBlockPopChecks)
	}
	if !c.process(block) {
		t.Fatal("ProcessProposal refused a block at the bound")
	}
	if c.process(append([][]byte{block[0]}, txs...)) {
		t.Fatal("ProcessProposal accepted a block beyond MaxBlockPopChecks")
	}
	c.apply(block)
	c.checkSupply()
}

// TestGenesisAttestationKeysInState: InitChain stores the genesis
// validators' attestation keys, so a second validator cannot take one.
func TestGenesisAttestationKeysInState(t *testing.T) {
	alice := newKey(t)
	gs := appState(map[common.Address]uint64{alice.addr: 1_000_000})
	pk, pop := blsKey(t, 7)
	gs.Validators[0].AttestationPubKey, gs.Validators[0].AttestationPop = "0x"+hexString(pk), hexString(pop)
	c := newChain(t, "", &gs)
	v := c.app.Reader().Staking().Validator(testVals[0].addr)
	if v == nil || !bytes.Equal(v.AttestationPubKey, pk) {
		t.Fatalf("genesis validator %v, want attestation key %x", v, pk)
	}
	cons := secp256k1eth.GenPrivKeySecp256k1Eth([]byte("attest-genesis")).PubKey()
	_, rej := c.app.Submit(tx(t, alice, 0, 10_000, createValidatorWithKey(cons.Bytes(), pk, pop, 1000)), false)
	if rej == nil || rej.Code != txcodec.CodeValidatorExists {
		t.Fatalf("a genesis validator's key registered again: %v", rej)
	}
}

func hexString(b []byte) string { return strings.TrimPrefix(common.Bytes2Hex(b), "0x") }
