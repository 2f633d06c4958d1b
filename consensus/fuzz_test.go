package consensus_test

import (
	"bytes"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/consensus"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

func FuzzDecodeTx(f *testing.F) {
	k := newKey(f)
	lim := consensus.Limits{ChainID: testChainID, MaxTxBytes: maxTxBytes, MaxActions: maxActions}
	valid := tx(f, k, 3, 5000, data("alpha", []byte("hello")), transfer(common.Address{1}, 9), register("new-one", 7))
	f.Add(valid)
	f.Add(tx(f, k, 0, 100, transfer(common.Address{2}, 1)))
	f.Add(valid[:len(valid)-1])
	f.Add(valid[:len(valid)/2])
	f.Add([]byte{})
	f.Add([]byte("garbage"))
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(rollups.EncodeCommitment(&weftv1.BlockCommitment{}))
	f.Add(resign(f, valid, func(s []byte) []byte { s[64] = 1 - s[64]; return s }))
	f.Add(append(append([]byte(nil), valid...), 0x18, 0x01))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, rej := consensus.DecodeTx(raw, lim)
		if rej != nil {
			if got != nil {
				t.Fatal("both a tx and a rejection")
			}
			if txcodec.CodeName(rej.Code) == "unknown" || rej.Code == txcodec.CodeOK || rej.Log == "" {
				t.Fatalf("rejection with code %d log %q", rej.Code, rej.Log)
			}
			return
		}
		// An accepted tx re-verifies: its signature over its body recovers
		// its sender, and decoding it again gives the same tx.
		var stx weftv1.SignedTx
		if err := proto.Unmarshal(raw, &stx); err != nil {
			t.Fatal(err)
		}
		pub, err := crypto.SigToPub(txcodec.SigningHash(stx.Body), stx.Signature)
		if err != nil || crypto.PubkeyToAddress(*pub) != got.Sender {
			t.Fatalf("sender %s not recovered: %v", got.Sender, err)
		}
		again, rej := consensus.DecodeTx(got.Raw, lim)
		if rej != nil || again.Sender != got.Sender || again.Hash != got.Hash || !proto.Equal(again.Body, got.Body) {
			t.Fatalf("re-decoding: %v", rej)
		}
		if got.Hash != txcodec.TxHash(raw) || !bytes.Equal(got.Raw, raw) {
			t.Fatal("hash or raw bytes differ")
		}
		// Only the canonical encoding is accepted: the tx's bytes, and so its
		// hash, are fixed by its body and signature.
		if canon, err := proto.Marshal(&weftv1.SignedTx{Body: stx.Body, Signature: stx.Signature}); err != nil || !bytes.Equal(canon, raw) {
			t.Fatal("accepted a non-canonical encoding")
		}
		if got.Body.ChainId != testChainID || len(got.Body.Actions) == 0 || len(got.Body.Actions) > maxActions {
			t.Fatal("accepted a tx outside the limits")
		}
		// The derived amounts agree with the actions.
		sum, n := new(uint256.Int), 0
		for _, a := range got.Body.Actions {
			switch {
			case a.GetTransfer() != nil:
				sum.Add(sum, new(uint256.Int).SetBytes(a.GetTransfer().Amount))
			case a.GetRollupData() != nil:
				n += len(a.GetRollupData().Data)
			}
		}
		if !sum.Eq(got.Transferred) || n != got.DataBytes {
			t.Fatalf("transferred %s data %d, actions say %s %d", got.Transferred, got.DataBytes, sum, n)
		}
		if got.Cost().Lt(got.FeeLimit) {
			t.Fatal("cost below fee limit")
		}
	})
}

// FuzzDecodeTxBody fuzzes the signed body itself: the fuzzer's bytes are
// signed properly, so every check past the signature is reached.
func FuzzDecodeTxBody(f *testing.F) {
	k := newKey(f)
	lim := consensus.Limits{ChainID: testChainID, MaxTxBytes: maxTxBytes, MaxActions: maxActions}
	for _, acts := range [][]*weftv1.Action{
		{data("alpha", []byte("hello")), transfer(common.Address{1}, 9)},
		{register("new-one", 7)},
		{&weftv1.Action{}},
		{},
	} {
		b, err := proto.Marshal(&weftv1.TxBody{ChainId: testChainID, Nonce: 1, FeeLimit: []byte{1, 0}, Actions: acts})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sig, err := crypto.Sign(txcodec.SigningHash(body), k.priv)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := proto.Marshal(&weftv1.SignedTx{Body: body, Signature: sig})
		if err != nil {
			t.Fatal(err)
		}
		got, rej := consensus.DecodeTx(raw, lim)
		if rej != nil {
			if txcodec.CodeName(rej.Code) == "unknown" || rej.Code == txcodec.CodeOK || rej.Code == txcodec.CodeBadSignature {
				t.Fatalf("properly signed tx rejected with code %d: %s", rej.Code, rej.Log)
			}
			return
		}
		if got.Sender != k.addr {
			t.Fatalf("sender %s, signed by %s", got.Sender, k.addr)
		}
		_ = got.Cost()
	})
}
