package evm

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
)

func codecTxs(t testing.TB) []*types.Transaction {
	a := newAccount("codec")
	to := common.HexToAddress("0x1234")
	legacy, err := types.SignNewTx(a.key, testSigner, &types.LegacyTx{Nonce: 0, GasPrice: gwei, Gas: params.TxGas, To: &to, Value: big.NewInt(1)})
	if err != nil {
		t.Fatal(err)
	}
	accessList, err := types.SignNewTx(a.key, testSigner, &types.AccessListTx{ChainID: big.NewInt(testChainID), Nonce: 1, GasPrice: gwei, Gas: 30_000, To: &to,
		AccessList: types.AccessList{{Address: to, StorageKeys: []common.Hash{{1}}}}})
	if err != nil {
		t.Fatal(err)
	}
	a.nonce = 2
	return []*types.Transaction{legacy, accessList, a.transfer(t, to, big.NewInt(3)), a.sign(t, nil, big.NewInt(0), 100_000, storeInitcode)}
}

func TestEncodeDecodeTxs(t *testing.T) {
	txs := codecTxs(t)
	data, err := EncodeTxs(txs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeTxs(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(txs) {
		t.Fatalf("decoded %d txs, want %d", len(got), len(txs))
	}
	for i := range txs {
		if got[i].Hash() != txs[i].Hash() {
			t.Errorf("tx %d: hash %s, want %s", i, got[i].Hash(), txs[i].Hash())
		}
	}
	// The format is an RLP list of the binary encodings.
	var raw [][]byte
	if err := rlp.DecodeBytes(data, &raw); err != nil || len(raw) != len(txs) {
		t.Fatalf("not an RLP list of %d byte strings: %v", len(txs), err)
	}
	for i := range txs {
		if b, _ := txs[i].MarshalBinary(); !bytes.Equal(raw[i], b) {
			t.Errorf("element %d is not tx.MarshalBinary()", i)
		}
	}
	if empty, err := EncodeTxs(nil); err != nil || !bytes.Equal(empty, []byte{0xc0}) {
		t.Errorf("EncodeTxs(nil) = %x, %v", empty, err)
	}
	for _, bad := range [][]byte{nil, {0xde, 0xad}, append(bytes.Clone(data), 0x00), {0xc2, 0x81, 0x02}} {
		if _, err := DecodeTxs(bad); err == nil {
			t.Errorf("DecodeTxs(%x) accepted garbage", bad)
		}
	}
}

func FuzzDecodeTxs(f *testing.F) {
	data, err := EncodeTxs(codecTxs(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte{0xc0})
	f.Add([]byte{0xc2, 0x81, 0x02})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		txs, err := DecodeTxs(data)
		if err != nil {
			return
		}
		again, err := EncodeTxs(txs)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := DecodeTxs(again)
		if err != nil || len(back) != len(txs) {
			t.Fatalf("re-decode: %v", err)
		}
		for i := range txs {
			if back[i].Hash() != txs[i].Hash() {
				t.Fatalf("tx %d hash changed over a round trip", i)
			}
		}
	})
}

func TestGenesisMismatch(t *testing.T) {
	alice := newAccount("alice")
	dir := t.TempDir()
	cfg := testConfig(dir, fund(alice))
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	genesis := e.Head().Hash()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"alloc":        func(c *Config) { c.Alloc = fund(newAccount("mallory")) },
		"chain id":     func(c *Config) { c.ChainID++ },
		"gas limit":    func(c *Config) { c.GasLimit = 10_000_000 },
		"genesis time": func(c *Config) { c.GenesisTime++ },
	} {
		c := cfg
		mut(&c)
		if e, err := New(c, nil); err == nil {
			e.Close()
			t.Errorf("%s changed: New accepted the existing database", name)
		}
	}
	e = newExecutor(t, cfg)
	if e.Head().Hash() != genesis || e.BlockByNumber(0).Hash() != genesis {
		t.Fatal("reopened genesis differs")
	}
}
