package staking

import (
	"bytes"
	"testing"

	"github.com/weftnet/weft/attest/bls"
)

func seededKey(t *testing.T, i byte) (pk, pop []byte) {
	t.Helper()
	sk, err := bls.KeyFromSeed(bytes.Repeat([]byte{i}, bls.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return sk.PublicKey().Bytes(), sk.PopProve().Bytes()
}

// TestAttestationKeyCheckedOnce: a key and proof that verified are not
// paired again (the mempool re-checks pending staking txs after every block
// that changes staking); a bad proof for the same key is still refused.
func TestAttestationKeyCheckedOnce(t *testing.T) {
	calls := 0
	popVerify = func(k *bls.PublicKey, s *bls.Signature) bool { calls++; return bls.PopVerify(k, s) }
	defer func() { popVerify = bls.PopVerify }()
	verifiedKeys.Purge()
	pk, pop := seededKey(t, 201)
	for range 3 {
		if _, err := CheckAttestationKey(pk, pop); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Fatalf("%d pairing checks for one key checked three times, want 1", calls)
	}
	_, otherPop := seededKey(t, 202)
	if _, err := CheckAttestationKey(pk, otherPop); err == nil {
		t.Fatal("another key's proof accepted after the key's own proof was cached")
	}
}
