package bls

import (
	"bytes"
	"encoding/hex"
	"testing"

	blst "github.com/supranational/blst/bindings/go"
)

func seedKey(t testing.TB, i int) *SecretKey {
	t.Helper()
	seed := bytes.Repeat([]byte{byte(i + 1)}, SeedSize)
	sk, err := KeyFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

func TestCiphersuiteDSTs(t *testing.T) {
	// draft-irtf-cfrg-bls-signature-05, 4.2.3 (proof of possession, min-pk).
	if DSTSignature != "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_" || DSTPop != "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_" {
		t.Fatal("ciphersuite DSTs changed")
	}
}

func TestKeyGeneration(t *testing.T) {
	a, b := seedKey(t, 0), seedKey(t, 0)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same seed gave different keys")
	}
	if bytes.Equal(a.Bytes(), seedKey(t, 1).Bytes()) {
		t.Fatal("different seeds gave the same key")
	}
	if _, err := KeyFromSeed(make([]byte, SeedSize-1)); err == nil {
		t.Fatal("short seed accepted")
	}
	r1, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(r1.Bytes(), r2.Bytes()) {
		t.Fatal("two random keys are equal")
	}
	if _, err := GenerateKey(bytes.NewReader(make([]byte, 5))); err == nil {
		t.Fatal("short random source accepted")
	}
}

func TestRoundTrips(t *testing.T) {
	sk := seedKey(t, 0)
	sk2, err := SecretKeyFromBytes(sk.Bytes())
	if err != nil || !bytes.Equal(sk2.Bytes(), sk.Bytes()) {
		t.Fatalf("secret key round trip: %v", err)
	}
	pk, err := PublicKeyFromBytes(sk.PublicKey().Bytes())
	if err != nil || !pk.Equal(sk.PublicKey()) {
		t.Fatalf("public key round trip: %v", err)
	}
	sig := sk.Sign([]byte("m"))
	sig2, err := SignatureFromBytes(sig.Bytes())
	if err != nil || !sig2.Equal(sig) {
		t.Fatalf("signature round trip: %v", err)
	}
}

func TestVerifyRefusesWrongInputs(t *testing.T) {
	sk, other := seedKey(t, 0), seedKey(t, 1)
	pk := sk.PublicKey()
	msg := []byte("checkpoint 10")
	sig := sk.Sign(msg)
	if !Verify(pk, msg, sig) {
		t.Fatal("valid signature refused")
	}
	wrongDST := &Signature{p: new(blst.P2Affine).Sign(sk.s, msg, []byte("BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_"))}
	cases := map[string]bool{
		"wrong message":        Verify(pk, []byte("checkpoint 11"), sig),
		"wrong key":            Verify(other.PublicKey(), msg, sig),
		"wrong DST":            Verify(pk, msg, wrongDST),
		"PoP as signature":     Verify(pk, pk.Bytes(), sk.PopProve()),
		"signature as PoP":     PopVerify(pk, sk.Sign(pk.Bytes())),
		"another key's PoP":    PopVerify(pk, other.PopProve()),
		"nil signature":        Verify(pk, msg, nil),
		"nil key":              Verify(nil, msg, sig),
		"zero-value signature": Verify(pk, msg, &Signature{}),
	}
	for name, ok := range cases {
		if ok {
			t.Errorf("%s verified", name)
		}
	}
	if !PopVerify(pk, sk.PopProve()) {
		t.Fatal("valid proof of possession refused")
	}
}

func TestAggregation(t *testing.T) {
	const n = 16
	msg := []byte("one checkpoint")
	pks := make([]*PublicKey, n)
	sigs := make([]*Signature, n)
	for i := range pks {
		sk := seedKey(t, i)
		pks[i], sigs[i] = sk.PublicKey(), sk.Sign(msg)
		if !PopVerify(pks[i], sk.PopProve()) {
			t.Fatalf("key %d: PoP refused", i)
		}
	}
	agg, err := Aggregate(sigs)
	if err != nil {
		t.Fatal(err)
	}
	if !FastAggregateVerify(pks, msg, agg) {
		t.Fatal("aggregate of all signers refused")
	}
	aggPk, err := AggregatePublicKeys(pks)
	if err != nil || !Verify(aggPk, msg, agg) {
		t.Fatalf("aggregate key does not verify the aggregate: %v", err)
	}
	missing, err := Aggregate(sigs[1:])
	if err != nil {
		t.Fatal(err)
	}
	if FastAggregateVerify(pks, msg, missing) {
		t.Fatal("aggregate missing one signer verified for all keys")
	}
	if !FastAggregateVerify(pks[1:], msg, missing) {
		t.Fatal("aggregate of the signers refused for the signers' keys")
	}
	if FastAggregateVerify(pks, []byte("another checkpoint"), agg) {
		t.Fatal("aggregate verified for another message")
	}
	if _, err := Aggregate(nil); err == nil {
		t.Fatal("empty aggregate accepted")
	}
	if _, err := AggregatePublicKeys(nil); err == nil {
		t.Fatal("empty key aggregate accepted")
	}
	if _, err := Aggregate([]*Signature{sigs[0], nil}); err == nil {
		t.Fatal("nil signature aggregated")
	}
}

// offSubgroup finds an encoding of a point on the curve but outside the
// prime-order subgroup: almost every curve point is, given the cofactors.
func offSubgroup(t *testing.T, size int, decode func([]byte) bool, inGroup func([]byte) bool) []byte {
	t.Helper()
	for x := 1; x < 1000; x++ {
		b := make([]byte, size)
		b[0] = 0x80
		b[size-1] = byte(x)
		b[size-2] = byte(x >> 8)
		if decode(b) && !inGroup(b) {
			return b
		}
	}
	t.Fatal("no off-subgroup point found")
	return nil
}

func TestDecodersRefuseBadEncodings(t *testing.T) {
	pk := seedKey(t, 0).PublicKey().Bytes()
	sig := seedKey(t, 0).Sign([]byte("m")).Bytes()
	g1Off := offSubgroup(t, PublicKeySize,
		func(b []byte) bool { return new(blst.P1Affine).Uncompress(b) != nil },
		func(b []byte) bool { return new(blst.P1Affine).Uncompress(b).InG1() })
	g2Off := offSubgroup(t, SignatureSize,
		func(b []byte) bool { return new(blst.P2Affine).Uncompress(b) != nil },
		func(b []byte) bool { return new(blst.P2Affine).Uncompress(b).InG2() })
	flip := func(b []byte, i int, v byte) []byte { c := bytes.Clone(b); c[i] ^= v; return c }
	infinity := func(n int) []byte { b := make([]byte, n); b[0] = 0xc0; return b }
	// ethereum/bls12-381-tests deserialization_G1/G2 cases.
	notInG1 := unhex(t, "8123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	xTooLarge := unhex(t, "9a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaaa")
	for name, b := range map[string][]byte{
		"empty": nil, "short": pk[:47], "long": append(bytes.Clone(pk), 0),
		"uncompressed flag": flip(pk, 0, 0x80), "infinity": infinity(PublicKeySize),
		"infinity with bits": flip(infinity(PublicKeySize), 47, 1), "all zero": make([]byte, PublicKeySize),
		"off subgroup": g1Off, "not in G1 (eth vectors)": notInG1, "x not below p": xTooLarge,
	} {
		if _, err := PublicKeyFromBytes(b); err == nil {
			t.Errorf("public key %s (%x) decoded", name, b)
		}
	}
	for name, b := range map[string][]byte{
		"empty": nil, "short": sig[:95], "long": append(bytes.Clone(sig), 0),
		"uncompressed flag": flip(sig, 0, 0x80), "infinity": infinity(SignatureSize),
		"all zero": make([]byte, SignatureSize), "off subgroup": g2Off,
	} {
		if _, err := SignatureFromBytes(b); err == nil {
			t.Errorf("signature %s (%x) decoded", name, b)
		}
	}
	for name, b := range map[string][]byte{"zero": make([]byte, 32), "short": make([]byte, 31),
		"order": unhex(t, "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001")} {
		if _, err := SecretKeyFromBytes(b); err == nil {
			t.Errorf("secret key %s decoded", name)
		}
	}
}

func TestEIP2537Encoding(t *testing.T) {
	// The generators as EIP-2537 lists them (sk = 1 makes the G1 generator).
	one := make([]byte, 32)
	one[31] = 1
	sk, err := SecretKeyFromBytes(one)
	if err != nil {
		t.Fatal(err)
	}
	pad := func(s string) string { return "00000000000000000000000000000000" + s }
	wantG1 := pad("17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb") +
		pad("08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1")
	if got := hex.EncodeToString(sk.PublicKey().EIP2537()); got != wantG1 {
		t.Fatalf("G1 generator %s, want %s", got, wantG1)
	}
	wantG2 := pad("024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8") +
		pad("13e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e") +
		pad("0ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801") +
		pad("0606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be")
	g2 := &Signature{p: blst.P2Generator().ToAffine()}
	if got := hex.EncodeToString(g2.EIP2537()); got != wantG2 {
		t.Fatalf("G2 generator %s, want %s", got, wantG2)
	}
	inf := &Signature{p: new(blst.P2Affine)}
	if !bytes.Equal(inf.EIP2537(), make([]byte, EIP2537G2Size)) {
		t.Fatal("G2 infinity is not all zeros")
	}
	if !bytes.Equal((&PublicKey{p: new(blst.P1Affine)}).EIP2537(), make([]byte, EIP2537G1Size)) {
		t.Fatal("G1 infinity is not all zeros")
	}
}

func FuzzPublicKeyFromBytes(f *testing.F) {
	f.Add(seedKey(f, 0).PublicKey().Bytes())
	f.Add(make([]byte, PublicKeySize))
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, err := PublicKeyFromBytes(b)
		if err != nil {
			return
		}
		if !bytes.Equal(pk.Bytes(), b) {
			t.Fatalf("decoded %x re-encodes as %x", b, pk.Bytes())
		}
		if len(pk.EIP2537()) != EIP2537G1Size {
			t.Fatal("EIP-2537 size")
		}
	})
}

func FuzzSignatureFromBytes(f *testing.F) {
	f.Add(seedKey(f, 0).Sign([]byte("m")).Bytes())
	f.Add(make([]byte, SignatureSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := SignatureFromBytes(b)
		if err != nil {
			return
		}
		if !bytes.Equal(sig.Bytes(), b) {
			t.Fatalf("decoded %x re-encodes as %x", b, sig.Bytes())
		}
		if Verify(seedKey(t, 0).PublicKey(), nil, sig) && !bytes.Equal(b, seedKey(t, 0).Sign(nil).Bytes()) {
			t.Fatalf("arbitrary signature %x verified", b)
		}
	})
}

func FuzzSecretKeyFromBytes(f *testing.F) {
	f.Add(seedKey(f, 0).Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		sk, err := SecretKeyFromBytes(b)
		if err != nil {
			return
		}
		if !bytes.Equal(sk.Bytes(), b) {
			t.Fatalf("decoded %x re-encodes as %x", b, sk.Bytes())
		}
	})
}
