package evm

import (
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/weftnet/weft/contracts"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

var relayer = common.HexToAddress("0x00000000000000000000000000000000de9051")

func depositItem(t *testing.T, sender common.Address, ds ...Deposit) *weftv1.RollupItem {
	t.Helper()
	data, err := EncodeDeposits(ds)
	if err != nil {
		t.Fatal(err)
	}
	it := rawItem(data)
	it.Sender = sender.Bytes()
	return it
}

func dep(nonce uint64, to common.Address, wei int64) Deposit {
	return Deposit{Nonce: nonce, From: common.HexToAddress("0x1111"), To: to, Value: big.NewInt(wei)}
}

func TestDeposits(t *testing.T) {
	alice := newAccount("alice")
	bob, carol := common.HexToAddress("0xb0b"), common.HexToAddress("0xca201")
	cfg := testConfig("", fund(alice))
	cfg.DepositRelayer = relayer
	e := newExecutor(t, cfg)

	balance := func(a common.Address) *big.Int {
		st, err := e.StateAt(e.Head().Root)
		if err != nil {
			t.Fatal(err)
		}
		return st.GetBalance(a).ToBig()
	}
	processed := func() uint64 {
		st, err := e.StateAt(e.Head().Root)
		if err != nil {
			t.Fatal(err)
		}
		return DepositsProcessed(st)
	}
	if code := func() []byte { st, _ := e.StateAt(e.Head().Root); return st.GetCode(contracts.L2BridgeAddress) }(); len(code) == 0 {
		t.Fatal("bridge predeploy missing from genesis")
	}

	// Deposits 0 and 1 credit; a tx in the same slice sees the credit.
	mustExecute(t, e, slice(1, depositItem(t, relayer, dep(0, bob, 5), dep(1, carol, 7)), item(t, alice.transfer(t, bob, eth(1)))))
	if got := balance(bob); got.Cmp(new(big.Int).Add(eth(1), big.NewInt(5))) != 0 {
		t.Fatalf("bob %v", got)
	}
	if balance(carol).Int64() != 7 || processed() != 2 {
		t.Fatalf("carol %v processed %d", balance(carol), processed())
	}

	// Refused whole, with a reason, and nothing credited: wrong sender,
	// replayed nonce, skipped nonce, malformed.
	bad := []struct {
		item *weftv1.RollupItem
		want string
	}{
		{depositItem(t, common.HexToAddress("0xbad"), dep(2, bob, 1)), "not the deposit relayer"},
		{depositItem(t, relayer, dep(1, bob, 1), dep(2, bob, 1)), "first nonce 1, want 2"},
		{depositItem(t, relayer, dep(3, bob, 1)), "first nonce 3, want 2"},
		{rawItemFrom(relayer, append(append([]byte{}, DepositMagic...), 0xc3, 1, 2)), "deposit item"},
		{rawItemFrom(relayer, append(append([]byte{}, DepositMagic...), mustRLP(t, nil)...)), "0 deposits"},
	}
	h := int64(2)
	for _, b := range bad {
		before := balance(bob)
		mustExecute(t, e, slice(h, b.item))
		sk := e.Skipped(e.Head().Number.Uint64())
		if len(sk) != 1 || !strings.Contains(sk[0].Reason, b.want) {
			t.Fatalf("height %d: skipped %+v, want reason %q", h, sk, b.want)
		}
		if sk[0].Hash != crypto.Keccak256Hash(b.item.Data) {
			t.Fatalf("skipped hash %s", sk[0].Hash)
		}
		if balance(bob).Cmp(before) != 0 || processed() != 2 {
			t.Fatalf("height %d: refused deposit changed state", h)
		}
		h++
	}
	// The next nonce still works.
	mustExecute(t, e, slice(h, depositItem(t, relayer, dep(2, carol, 1))))
	if balance(carol).Int64() != 8 || processed() != 3 {
		t.Fatalf("carol %v processed %d", balance(carol), processed())
	}

	// Without a relayer, deposits are refused.
	e2 := newExecutor(t, testConfig("", fund(alice)))
	mustExecute(t, e2, slice(1, depositItem(t, relayer, dep(0, bob, 5))))
	if sk := e2.Skipped(1); len(sk) != 1 || !strings.Contains(sk[0].Reason, "no deposit relayer") {
		t.Fatalf("skipped %+v", sk)
	}
}

func rawItemFrom(sender common.Address, data []byte) *weftv1.RollupItem {
	it := rawItem(data)
	it.Sender = sender.Bytes()
	return it
}

func TestDecodeDepositsRejects(t *testing.T) {
	to := common.HexToAddress("0xb0b")
	enc := func(ds []Deposit) []byte {
		b, err := rlp.EncodeToBytes(ds)
		if err != nil {
			t.Fatal(err)
		}
		return append(append([]byte{}, DepositMagic...), b...)
	}
	cases := map[string][]byte{
		"no magic":      []byte("\x00WEFTDP2"),
		"gap":           enc([]Deposit{dep(0, to, 1), dep(2, to, 1)}),
		"zero value":    enc([]Deposit{dep(0, to, 0)}),
		"zero to":       enc([]Deposit{dep(0, common.Address{}, 1)}),
		"trailing":      append(enc([]Deposit{dep(0, to, 1)}), 0),
		"too many":      enc(make([]Deposit, MaxDepositsPerItem+1)),
		"value > 2^256": enc([]Deposit{{Nonce: 0, To: to, Value: new(big.Int).Lsh(big.NewInt(1), 256)}}),
	}
	for name, data := range cases {
		if _, err := DecodeDeposits(data); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	ds := []Deposit{dep(4, to, 1), dep(5, to, 2)}
	data, err := EncodeDeposits(ds)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeDeposits(data)
	if err != nil || len(got) != 2 || got[1].Nonce != 5 || got[1].Value.Int64() != 2 {
		t.Fatalf("round trip: %+v %v", got, err)
	}
}

func TestHeaderAtWeftHeight(t *testing.T) {
	alice := newAccount("alice")
	carol := common.HexToAddress("0xca201")
	e := newExecutor(t, testConfig("", fund(alice)))
	if e.HeaderAtWeftHeight(1) != nil {
		t.Fatal("unexecuted height has a header")
	}
	genesis := e.Head()
	mustExecute(t, e, slice(1), slice(2, item(t, alice.transfer(t, carol, eth(1)))), slice(3), slice(4), slice(5, item(t, alice.transfer(t, carol, eth(1)))), slice(6))
	want := map[int64]uint64{0: 0, 1: 0, 2: 1, 3: 1, 4: 1, 5: 2, 6: 2}
	for h, n := range want {
		hdr := e.HeaderAtWeftHeight(h)
		if hdr == nil || hdr.Number.Uint64() != n {
			t.Fatalf("height %d: header %v, want block %d", h, hdr, n)
		}
	}
	if e.HeaderAtWeftHeight(0).Hash() != genesis.Hash() || e.HeaderAtWeftHeight(7) != nil || e.HeaderAtWeftHeight(-1) != nil {
		t.Fatal("edge heights")
	}
}

// FuzzDecodeDeposits: deposit items come from Weft blocks (and, for a
// verifier, from L1): any bytes decode or fail cleanly, and what decodes
// re-encodes to the same bytes.
func FuzzDecodeDeposits(f *testing.F) {
	good, _ := EncodeDeposits([]Deposit{dep(3, common.HexToAddress("0xb0b"), 7), dep(4, common.HexToAddress("0xca201"), 1)})
	f.Add(good)
	f.Add(append([]byte{}, DepositMagic...))
	f.Add([]byte("\x00WEFTDP1\xc0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := DecodeDeposits(data)
		if err != nil {
			return
		}
		again, err := EncodeDeposits(ds)
		if err != nil {
			t.Fatalf("decoded deposits do not re-encode: %v", err)
		}
		if _, err := DecodeDeposits(again); err != nil {
			t.Fatalf("re-encoded deposits do not decode: %v", err)
		}
	})
}
