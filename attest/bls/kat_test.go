package bls

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	blst "github.com/supranational/blst/bindings/go"
)

// Known answers from ethereum/bls12-381-tests v0.1.2 (CC0-1.0), the vectors
// of Ethereum's consensus specs (eth2.0-spec-tests general/phase0/bls), which
// use this package's ciphersuite: the three private keys, their public keys,
// the "sign" handler's cases, the "aggregate" handler's 0x56.. and 0xab..
// cases and the "fast_aggregate_verify" valid and tampered cases. The
// proof-of-possession answer is Chia's (TestKATPopProve): Ethereum's vectors
// have none.

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var katKeys = []struct{ sk, pk string }{
	{"263dbd792f5b1be47ed85f8938c0f29586af0d3ac7b977f21c278fe1462040e3", "a491d1b0ecd9bb917989f0e74f0dea0422eac4a873e5e2644f368dffb9a6e20fd6e10c1b77654d067c0618f6e5a7f79a"},
	{"47b8192d77bf871b62e87859d653922725724a5c031afeabc60bcef5ff665138", "b301803f8b5ac4a1133581fc676dfedc60d891dd5fa99028805e5ea5b08d3491af75d0707adab3b70c6a6a580217bf81"},
	{"328388aff0d4a5b7dc9205abd374e7e98f3cd9f3418edb4eafda5fb16473d216", "b53d21a4cfd562c469cc81514d4ce5a6b577d8403d32a394dc265dd190b47fa9f829fdd7963afdf972e5e77854051f6f"},
}

const (
	msg00 = "0000000000000000000000000000000000000000000000000000000000000000"
	msg56 = "5656565656565656565656565656565656565656565656565656565656565656"
	msgAB = "abababababababababababababababababababababababababababababababab"
)

// signCases: sign handler, by key index and message.
var signCases = []struct {
	name string
	key  int
	msg  string
	sig  string
}{
	{"sign_case_11b8c7cad5238946", 1, msg00, "b23c46be3a001c63ca711f87a005c200cc550b9429d5f4eb38d74322144f1b63926da3388979e5321012fb1a0526bcd100b5ef5fe72628ce4cd5e904aeaa3279527843fae5ca9ca675f4f51ed8f83bbf7155da9ecc9663100a885d5dc6df96d9"},
	{"sign_case_142f678a8d05fcd1", 1, msg56, "af1390c3c47acdb37131a51216da683c509fce0e954328a59f93aebda7e4ff974ba208d9a4a2a2389f892a9d418d618418dd7f7a6bc7aa0da999a9d3a5b815bc085e14fd001f6a1948768a3f4afefc8b8240dda329f984cb345c6363272ba4fe"},
	{"sign_case_37286e1a6d1f6eb3", 1, msgAB, "9674e2228034527f4c083206032b020310face156d4a4685e2fcaec2f6f3665aa635d90347b6ce124eb879266b1e801d185de36a0a289b85e9039662634f2eea1e02e670bc7ab849d006a70b2f93b84597558a05b879c8d445f387a5d5b653df"},
	{"sign_case_7055381f640f2c1d", 2, msg00, "948a7cb99f76d616c2c564ce9bf4a519f1bea6b0a624a02276443c245854219fabb8d4ce061d255af5330b078d5380681751aa7053da2c98bae898edc218c75f07e24d8802a17cd1f6833b71e58f5eb5b94208b4d0bb3848cecb075ea21be115"},
	{"sign_case_84d45c9c7cca6b92", 2, msgAB, "ae82747ddeefe4fd64cf9cedb9b04ae3e8a43420cd255e3c7cd06a8d88b7c7f8638543719981c5d16fa3527c468c25f0026704a6951bde891360c7e8d12ddee0559004ccdbe6046b55bae1b257ee97f7cdb955773d7cf29adf3ccbb9975e4eb9"},
	{"sign_case_8cd3d4d0d9a5b265", 2, msg56, "a4efa926610b8bd1c8330c918b7a5e9bf374e53435ef8b7ec186abf62e1b1f65aeaaeb365677ac1d1172a1f5b44b4e6d022c252c58486c0a759fbdc7de15a756acc4d343064035667a594b4c2a6f0b0b421975977f297dba63ee2f63ffe47bb6"},
	{"sign_case_c82df61aa3ee60fb", 0, msg00, "b6ed936746e01f8ecf281f020953fbf1f01debd5657c4a383940b020b26507f6076334f91e2366c96e9ab279fb5158090352ea1c5b0c9274504f4f0e7053af24802e51e4568d164fe986834f41e55c8e850ce1f98458c0cfc9ab380b55285a55"},
	{"sign_case_d0e28d7e76eb6e9c", 0, msg56, "882730e5d03f6b42c3abc26d3372625034e1d871b65a8a6b900a56dae22da98abbe1b68f85e49fe7652a55ec3d0591c20767677e33e5cbb1207315c41a9ac03be39c2e7668edc043d6cb1d9fd93033caa8a1c5b0e84bedaeb6c64972503a43eb"},
	{"sign_case_f2ae1097e7d0e18b", 0, msgAB, "91347bccf740d859038fcdcaf233eeceb2a436bcaaee9b2aa3bfb70efe29dfb2677562ccbea1c8e061fb9971b0753c240622fab78489ce96768259fc01360346da5b9f579e5da0d941e4c6ba18a0e64906082375394f337fa1af2b7127b0d121"},
}

func katSecret(t testing.TB, i int) *SecretKey {
	t.Helper()
	sk, err := SecretKeyFromBytes(unhex(t, katKeys[i].sk))
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

func TestKATPublicKeys(t *testing.T) {
	for i, k := range katKeys {
		if got := hex.EncodeToString(katSecret(t, i).PublicKey().Bytes()); got != k.pk {
			t.Errorf("key %d: public key %s, want %s", i, got, k.pk)
		}
	}
}

func TestKATSign(t *testing.T) {
	for _, c := range signCases {
		t.Run(c.name, func(t *testing.T) {
			sk := katSecret(t, c.key)
			msg := unhex(t, c.msg)
			sig := sk.Sign(msg)
			if got := hex.EncodeToString(sig.Bytes()); got != c.sig {
				t.Fatalf("signature %s, want %s", got, c.sig)
			}
			pk, err := PublicKeyFromBytes(unhex(t, katKeys[c.key].pk))
			if err != nil {
				t.Fatal(err)
			}
			dec, err := SignatureFromBytes(unhex(t, c.sig))
			if err != nil {
				t.Fatal(err)
			}
			if !Verify(pk, msg, dec) {
				t.Fatal("published signature does not verify")
			}
		})
	}
}

func TestKATSignZeroKeyRefused(t *testing.T) {
	// sign_case_zero_privkey: the zero key is not a key.
	if _, err := SecretKeyFromBytes(make([]byte, 32)); err == nil {
		t.Fatal("zero secret key accepted")
	}
}

func TestKATAggregate(t *testing.T) {
	cases := []struct {
		name string
		msg  string
		want string
	}{
		{"aggregate_0x0000000000000000000000000000000000000000000000000000000000000000", msg00, "9683b3e6701f9a4b706709577963110043af78a5b41991b998475a3d3fd62abf35ce03b33908418efc95a058494a8ae504354b9f626231f6b3f3c849dfdeaf5017c4780e2aee1850ceaf4b4d9ce70971a3d2cfcd97b7e5ecf6759f8da5f76d31"},
		{"aggregate_0x5656565656565656565656565656565656565656565656565656565656565656", msg56, "ad38fc73846583b08d110d16ab1d026c6ea77ac2071e8ae832f56ac0cbcdeb9f5678ba5ce42bd8dce334cc47b5abcba40a58f7f1f80ab304193eb98836cc14d8183ec14cc77de0f80c4ffd49e168927a968b5cdaa4cf46b9805be84ad7efa77b"},
		{"aggregate_0xabababababababababababababababababababababababababababababababab", msgAB, "9712c3edd73a209c742b8250759db12549b3eaf43b5ca61376d9f30e2747dbcf842d8b2ac0901d2a093713e20284a7670fcf6954e9ab93de991bb9b313e664785a075fc285806fa5224c82bde146561b446ccfc706a64b8579513cfc4ff1d930"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var sigs []*Signature
			for _, s := range signCases {
				if s.msg != c.msg {
					continue
				}
				sig, err := SignatureFromBytes(unhex(t, s.sig))
				if err != nil {
					t.Fatal(err)
				}
				sigs = append(sigs, sig)
			}
			agg, err := Aggregate(sigs)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(agg.Bytes()); got != c.want {
				t.Fatalf("aggregate %s, want %s", got, c.want)
			}
		})
	}
}

func TestKATFastAggregateVerify(t *testing.T) {
	pks := make([]*PublicKey, len(katKeys))
	for i, k := range katKeys {
		pk, err := PublicKeyFromBytes(unhex(t, k.pk))
		if err != nil {
			t.Fatal(err)
		}
		pks[i] = pk
	}
	sig := func(s string) *Signature {
		d, err := SignatureFromBytes(unhex(t, s))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	aggAB := sig("9712c3edd73a209c742b8250759db12549b3eaf43b5ca61376d9f30e2747dbcf842d8b2ac0901d2a093713e20284a7670fcf6954e9ab93de991bb9b313e664785a075fc285806fa5224c82bde146561b446ccfc706a64b8579513cfc4ff1d930")
	agg56 := sig("912c3615f69575407db9392eb21fee18fff797eeb2fbe1816366ca2a08ae574d8824dbfafb4c9eaa1cf61b63c6f9b69911f269b664c42947dd1b53ef1081926c1e82bb2a465f927124b08391a5249036146d6f3f1e17ff5f162f779746d830d1")
	single00 := sig(signCases[6].sig)
	cases := []struct {
		name string
		pks  []*PublicKey
		msg  string
		sig  *Signature
		want bool
	}{
		{"fast_aggregate_verify_valid_3d7576f3c0e3570a", pks, msgAB, aggAB, true},
		{"fast_aggregate_verify_valid_5e745ad0c6199a6c", pks[:1], msg00, single00, true},
		{"fast_aggregate_verify valid, two keys over 0x56..", pks[:2], msg56, agg56, true},
		{"fast_aggregate_verify_extra_pubkey_4f079f946446fabf", pks, msg56, agg56, false},
		{"fast_aggregate_verify_extra_pubkey_5a38e6b4017fe4dd", append(append([]*PublicKey{}, pks...), pks[2]), msgAB, aggAB, false},
		{"fast_aggregate_verify_extra_pubkey_a698ea45b109f303", []*PublicKey{pks[0], pks[2]}, msg00, single00, false},
		{"fast_aggregate_verify_na_pubkeys", nil, msgAB, aggAB, false},
	}
	for _, c := range cases {
		if got := FastAggregateVerify(c.pks, unhex(t, c.msg), c.sig); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// fast_aggregate_verify_tampered_signature_3d7576f3c0e3570a: the
	// tampered bytes are not a point, so they never reach verification.
	if _, err := SignatureFromBytes(unhex(t, "9712c3edd73a209c742b8250759db12549b3eaf43b5ca61376d9f30e2747dbcf842d8b2ac0901d2a093713e20284a7670fcf6954e9ab93de991bb9b313e664785a075fc285806fa5224c82bde146561b446ccfc706a64b8579513cfcffffffff")); err == nil {
		t.Error("tampered signature decoded")
	}
}

// TestKATPopProve: "Chia test vector 3 (PoP)" of Chia-Network/bls-signatures
// (src/test.cpp), whose PopSchemeMPL is this ciphersuite: the key from 32
// bytes of 0x04 (KeyGen of draft-irtf-cfrg-bls-signature-03, blst's
// KeyGenV3) proves possession with these bytes. It pins the PoP tag and that
// the proof signs the compressed public key.
func TestKATPopProve(t *testing.T) {
	sk := &SecretKey{s: blst.KeyGenV3(bytes.Repeat([]byte{0x04}, 32))}
	want := "84f709159435f0dc73b3e8bf6c78d85282d19231555a8ee3b6e2573aaf66872d9203fefa1ef" +
		"700e34e7c3f3fb28210100558c6871c53f1ef6055b9f06b0d1abe22ad584ad3b957f3018a8f5" +
		"8227c6c716b1e15791459850f2289168fa0cf9115"
	pop := sk.PopProve()
	if got := hex.EncodeToString(pop.Bytes()); got != want {
		t.Fatalf("proof of possession %s, want %s", got, want)
	}
	dec, err := SignatureFromBytes(unhex(t, want))
	if err != nil {
		t.Fatal(err)
	}
	if !PopVerify(sk.PublicKey(), dec) {
		t.Fatal("the published proof does not verify")
	}
	if Verify(sk.PublicKey(), sk.PublicKey().Bytes(), dec) {
		t.Fatal("a proof of possession verified as a signature")
	}
}
