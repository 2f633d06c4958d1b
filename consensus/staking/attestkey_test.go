package staking_test

import (
	"bytes"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/attest/bls"
	"github.com/weftnet/weft/consensus/staking"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// attestKey is a deterministic attestation key: its public key and proof.
func attestKey(t *testing.T, i byte) (pk, pop []byte) {
	t.Helper()
	sk, err := bls.KeyFromSeed(bytes.Repeat([]byte{i}, bls.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return sk.PublicKey().Bytes(), sk.PopProve().Bytes()
}

// TestAttestationKeyRegistration: CreateValidator and EditValidator store
// a key only with a proof of possession that verifies, and a key names one
// validator for good.
func TestAttestationKeyRegistration(t *testing.T) {
	e := newEnv(t, testParams())
	op, op2 := acct("op"), acct("op2")
	e.fund(op, 10_000)
	e.fund(op2, 10_000)
	pk1, pop1 := attestKey(t, 1)
	pk2, pop2 := attestKey(t, 2)
	pk3, pop3 := attestKey(t, 3)
	create := func(k consKey, from common.Address, pk, pop []byte) func() *staking.Error {
		return func() *staking.Error {
			return e.m.CreateValidator(from, &weftv1.CreateValidator{ConsensusPubKey: k.pub, SelfStake: u(200).Bytes(), AttestationPubKey: pk, AttestationPop: pop}, e.height)
		}
	}
	a, b, c := newConsKey("a"), newConsKey("b"), newConsKey("c")
	bad := bytes.Clone(pk1)
	bad[5] ^= 1
	e.rejected("key without proof", staking.ErrInvalid, create(a, op, pk1, nil))
	e.rejected("proof without key", staking.ErrInvalid, create(a, op, nil, pop1))
	e.rejected("another key's proof", staking.ErrInvalid, create(a, op, pk1, pop2))
	e.rejected("a signature over the key, not a proof", staking.ErrInvalid, create(a, op, pk1, signOwnKey(t, 1)))
	e.rejected("malformed key", staking.ErrInvalid, create(a, op, bad, pop1))
	e.rejected("short key", staking.ErrInvalid, create(a, op, pk1[:47], pop1))
	e.rejected("malformed proof", staking.ErrInvalid, create(a, op, pk1, pop1[:95]))
	if e.m.Validator(a.addr) != nil || e.balance(op) != 10_000 {
		t.Fatal("a refused registration changed state")
	}
	e.ok(create(a, op, pk1, pop1)())
	if v := e.val(a); !bytes.Equal(v.AttestationPubKey, pk1) {
		t.Fatalf("stored key %x, want %x", v.AttestationPubKey, pk1)
	}
	if owner, ok := e.m.AttestationKeyOwner(pk1); !ok || owner != a.addr {
		t.Fatalf("key owner %s %v", owner, ok)
	}
	e.rejected("key of another validator", staking.ErrExists, create(b, op2, pk1, pop1))
	e.ok(create(b, op2, nil, nil)())
	if v := e.val(b); len(v.AttestationPubKey) != 0 {
		t.Fatal("a validator without a key has one")
	}

	edit := func(from common.Address, k consKey, pk, pop []byte) func() *staking.Error {
		return func() *staking.Error {
			return e.m.EditValidator(from, &weftv1.EditValidator{Validator: k.addr.Bytes(), AttestationPubKey: pk, AttestationPop: pop})
		}
	}
	e.rejected("edit: not the operator", staking.ErrUnauthorized, edit(op, b, pk2, pop2))
	e.rejected("edit: bad proof", staking.ErrInvalid, edit(op2, b, pk2, pop3))
	e.rejected("edit: another validator's key", staking.ErrExists, edit(op2, b, pk1, pop1))
	e.ok(edit(op2, b, pk2, pop2)())
	if v := e.val(b); !bytes.Equal(v.AttestationPubKey, pk2) {
		t.Fatal("edit did not set the key")
	}
	// Re-registering one's own key is a no-op; a moniker edit keeps it.
	e.ok(edit(op2, b, pk2, pop2)())
	e.ok(e.m.EditValidator(op2, &weftv1.EditValidator{Validator: b.addr.Bytes(), Moniker: "m"}))
	if v := e.val(b); !bytes.Equal(v.AttestationPubKey, pk2) {
		t.Fatal("an edit without a key dropped it")
	}
	// Rotation: a replaces pk1 by pk3; pk1 stays a's, no one else can take it.
	e.ok(edit(op, a, pk3, pop3)())
	if v := e.val(a); !bytes.Equal(v.AttestationPubKey, pk3) {
		t.Fatal("rotation did not set the key")
	}
	e.rejected("a replaced key for another validator", staking.ErrExists, create(c, op2, pk1, pop1))
}

// signOwnKey is a signature (signature DST) over key i's public key: the
// bytes a proof of possession signs, under the wrong domain.
func signOwnKey(t *testing.T, i byte) []byte {
	sk, err := bls.KeyFromSeed(bytes.Repeat([]byte{i}, bls.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return sk.Sign(sk.PublicKey().Bytes()).Bytes()
}

func TestGenesisAttestationKey(t *testing.T) {
	e := newEnv(t, testParams())
	pk1, pop1 := attestKey(t, 1)
	_, pop2 := attestKey(t, 2)
	a, b := newConsKey("a"), newConsKey("b")
	if _, err := e.m.Genesis(a.pub, pk1, pop2, acct("op"), u(200), 0, "a"); err == nil {
		t.Fatal("genesis validator with a wrong proof accepted")
	}
	if _, err := e.m.Genesis(a.pub, pk1, pop1, acct("op"), u(200), 0, "a"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.val(a).AttestationPubKey, pk1) {
		t.Fatal("genesis key not stored")
	}
	if _, err := e.m.Genesis(b.pub, pk1, pop1, acct("op"), u(200), 0, "b"); err == nil {
		t.Fatal("two genesis validators with one key")
	}
}
