package evm

import (
	"bytes"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups/exec"
)

// nextBaseFee is the EIP-1559 rule written out from the EIP, independent of
// go-ethereum's implementation.
func nextBaseFee(parentBase *big.Int, parentUsed, gasLimit uint64) *big.Int {
	target := new(big.Int).SetUint64(gasLimit / 2)
	used := new(big.Int).SetUint64(parentUsed)
	diff := new(big.Int).Sub(used, target)
	delta := new(big.Int).Mul(parentBase, new(big.Int).Abs(diff))
	delta.Div(delta, target)
	delta.Div(delta, big.NewInt(8))
	switch diff.Sign() {
	case 0:
		return new(big.Int).Set(parentBase)
	case 1:
		if delta.Sign() == 0 {
			delta.SetInt64(1)
		}
		return new(big.Int).Add(parentBase, delta)
	default:
		return new(big.Int).Sub(parentBase, delta)
	}
}

func TestTransfersAndContract(t *testing.T) {
	alice, bob := newAccount("alice"), newAccount("bob")
	carol, dave := common.HexToAddress("0xca201"), common.HexToAddress("0xda7e")
	e := newExecutor(t, testConfig("", fund(alice, bob)))
	events := make(chan *BlockEvent, 8)
	sub := e.SubscribeBlocks(events)
	defer sub.Unsubscribe()
	genesis := e.Head()

	// Height 1: two transfers in one item, a deployment in a second item.
	t1 := alice.transfer(t, carol, eth(1))
	t2 := bob.transfer(t, dave, eth(2))
	deploy := alice.sign(t, nil, big.NewInt(0), 200_000, storeInitcode)
	contract := crypto.CreateAddress(alice.addr, deploy.Nonce())
	mustExecute(t, e, slice(1, item(t, t1, t2), item(t, deploy)))

	// Height 2: a call storing 42 and emitting a log, then another transfer.
	value := common.BigToHash(big.NewInt(42))
	call := alice.sign(t, &contract, big.NewInt(0), 100_000, value[:])
	t3 := alice.transfer(t, carol, eth(3))
	mustExecute(t, e, slice(2, item(t, call, t3)))

	if got := e.LastWeftHeight(); got != 2 {
		t.Fatalf("LastWeftHeight = %d, want 2", got)
	}
	b1, b2 := e.BlockByNumber(1), e.BlockByNumber(2)
	if b1 == nil || b2 == nil || e.Head().Hash() != b2.Hash() {
		t.Fatalf("blocks 1 and 2 not stored as the chain")
	}

	// Header rules.
	for i, b := range []*types.Block{b1, b2} {
		h := int64(i + 1)
		hdr := b.Header()
		if hdr.MixDigest != common.BytesToHash(weftHash(h)) || hdr.ParentBeaconRoot == nil || *hdr.ParentBeaconRoot != common.BytesToHash(weftHash(h)) {
			t.Errorf("block %d: prevrandao/beacon root are not the Weft block hash", h)
		}
		if wh, ok := WeftHeight(hdr); !ok || wh != h {
			t.Errorf("block %d: Weft height in extra = %d, %v", h, wh, ok)
		}
		if want := uint64(weftTime(h) / 1e9); hdr.Time != want {
			t.Errorf("block %d: time %d, want %d", h, hdr.Time, want)
		}
		if hdr.Coinbase != feeRecipient || hdr.GasLimit != DefaultGasLimit || hdr.Difficulty.Sign() != 0 {
			t.Errorf("block %d: coinbase %s gas limit %d difficulty %s", h, hdr.Coinbase, hdr.GasLimit, hdr.Difficulty)
		}
		if hdr.WithdrawalsHash == nil || *hdr.WithdrawalsHash != types.EmptyWithdrawalsHash || hdr.BlobGasUsed == nil || *hdr.BlobGasUsed != 0 || hdr.ExcessBlobGas == nil || *hdr.ExcessBlobGas != 0 {
			t.Errorf("block %d: withdrawals/blob fields not set for Cancun", h)
		}
	}
	if b1.ParentHash() != genesis.Hash() || b2.ParentHash() != b1.Hash() {
		t.Fatal("parent hashes do not link")
	}

	// Base fee progression per EIP-1559.
	if want := nextBaseFee(genesis.BaseFee, genesis.GasUsed, genesis.GasLimit); b1.BaseFee().Cmp(want) != 0 || want.Int64() != 875_000_000 {
		t.Errorf("block 1 base fee %s, want %s", b1.BaseFee(), want)
	}
	if want := nextBaseFee(b1.BaseFee(), b1.GasUsed(), b1.GasLimit()); b2.BaseFee().Cmp(want) != 0 {
		t.Errorf("block 2 base fee %s, want %s", b2.BaseFee(), want)
	}

	// Receipts: gas, cumulative gas, contract address, logs.
	r1, r2 := e.Receipts(b1.Hash()), e.Receipts(b2.Hash())
	if len(r1) != 3 || len(r2) != 2 || len(b1.Transactions()) != 3 || len(b2.Transactions()) != 2 {
		t.Fatalf("receipts %d/%d, txs %d/%d", len(r1), len(r2), len(b1.Transactions()), len(b2.Transactions()))
	}
	var cum uint64
	for i, r := range r1 {
		if r.Status != types.ReceiptStatusSuccessful {
			t.Errorf("block 1 tx %d failed", i)
		}
		cum += r.GasUsed
		if r.CumulativeGasUsed != cum || r.BlockHash != b1.Hash() || r.TransactionIndex != uint(i) || r.TxHash != b1.Transactions()[i].Hash() {
			t.Errorf("block 1 receipt %d: cumulative %d (want %d), block %s, index %d", i, r.CumulativeGasUsed, cum, r.BlockHash, r.TransactionIndex)
		}
	}
	if r1[0].GasUsed != params.TxGas || r1[1].GasUsed != params.TxGas || r1[2].GasUsed <= params.TxGas {
		t.Errorf("gas used %d %d %d", r1[0].GasUsed, r1[1].GasUsed, r1[2].GasUsed)
	}
	if b1.GasUsed() != cum {
		t.Errorf("header gas used %d, receipts sum %d", b1.GasUsed(), cum)
	}
	if r1[2].ContractAddress != contract {
		t.Errorf("contract address %s, want %s", r1[2].ContractAddress, contract)
	}
	if r2[0].Status != types.ReceiptStatusSuccessful || len(r2[0].Logs) != 1 || len(r2[1].Logs) != 0 {
		t.Fatalf("call receipt: status %d, %d logs", r2[0].Status, len(r2[0].Logs))
	}
	lg := r2[0].Logs[0]
	if lg.Address != contract || len(lg.Topics) != 1 || lg.Topics[0] != storeTopic || !bytes.Equal(lg.Data, value[:]) ||
		lg.BlockHash != b2.Hash() || lg.BlockNumber != 2 || lg.TxHash != call.Hash() || lg.TxIndex != 0 || lg.Index != 0 {
		t.Errorf("log %+v", lg)
	}
	if !types.BloomLookup(b2.Bloom(), contract) || !types.BloomLookup(b2.Bloom(), storeTopic) || types.BloomLookup(b1.Bloom(), storeTopic) {
		t.Error("block bloom does not reflect the log")
	}

	// State: code, storage, balances, nonces.
	st, err := e.StateAt(b2.Root())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(st.GetCode(contract), storeRuntime) || st.GetState(contract, common.Hash{}) != value {
		t.Errorf("contract code/storage not as deployed and called")
	}
	if st.GetNonce(alice.addr) != 4 || st.GetNonce(bob.addr) != 1 {
		t.Errorf("nonces alice %d bob %d", st.GetNonce(alice.addr), st.GetNonce(bob.addr))
	}
	if got := st.GetBalance(carol).ToBig(); got.Cmp(eth(4)) != 0 {
		t.Errorf("carol has %s, want 4 ether", got)
	}
	if got := st.GetBalance(dave).ToBig(); got.Cmp(eth(2)) != 0 {
		t.Errorf("dave has %s, want 2 ether", got)
	}
	// Each sender pays value + gas * (base fee + tip); the fee recipient
	// gets gas * tip; the base fee is burnt.
	spent := map[common.Address]*big.Int{alice.addr: eth(4), bob.addr: eth(2)}
	tips := new(big.Int)
	for _, b := range []*types.Block{b1, b2} {
		for i, r := range e.Receipts(b.Hash()) {
			tx := b.Transactions()[i]
			from, _ := types.Sender(testSigner, tx)
			price := new(big.Int).Add(b.BaseFee(), gwei)
			if r.EffectiveGasPrice.Cmp(price) != 0 {
				t.Errorf("effective gas price %s, want %s", r.EffectiveGasPrice, price)
			}
			gas := new(big.Int).SetUint64(r.GasUsed)
			spent[from].Add(spent[from], new(big.Int).Mul(gas, price))
			tips.Add(tips, new(big.Int).Mul(gas, gwei))
		}
	}
	for addr, s := range spent {
		if want := new(big.Int).Sub(eth(100), s); st.GetBalance(addr).ToBig().Cmp(want) != 0 {
			t.Errorf("%s has %s, want %s", addr, st.GetBalance(addr), want)
		}
	}
	if got := st.GetBalance(feeRecipient).ToBig(); got.Cmp(tips) != 0 {
		t.Errorf("fee recipient has %s, want %s", got, tips)
	}

	// EIP-4788: the beacon roots contract holds the Weft block hash under
	// the block time.
	ts := new(big.Int).SetUint64(b2.Time())
	slot := common.BigToHash(new(big.Int).Mod(ts, big.NewInt(8191)))
	rootSlot := common.BigToHash(new(big.Int).Add(slot.Big(), big.NewInt(8191)))
	if st.GetState(params.BeaconRootsAddress, slot) != common.BigToHash(ts) || st.GetState(params.BeaconRootsAddress, rootSlot) != common.BytesToHash(weftHash(2)) {
		t.Error("beacon roots contract does not hold the Weft block hash")
	}

	// Lookups.
	if bh, n, idx, ok := e.TxLookup(call.Hash()); !ok || bh != b2.Hash() || n != 2 || idx != 0 {
		t.Errorf("TxLookup(call) = %s %d %d %v", bh, n, idx, ok)
	}
	if _, _, _, ok := e.TxLookup(common.Hash{1}); ok {
		t.Error("TxLookup found an unknown tx")
	}
	if e.HeaderByHash(b1.Hash()).Number.Uint64() != 1 || e.BlockByHash(b2.Hash()).Hash() != b2.Hash() || e.HeaderByNumber(3) != nil {
		t.Error("header/block lookups")
	}
	if got := e.ChainContext().GetHeaderByNumber(1); got == nil || got.Hash() != b1.Hash() {
		t.Error("ChainContext.GetHeaderByNumber")
	}
	if s := e.Skipped(1); len(s) != 0 {
		t.Errorf("skipped %v", s)
	}

	// Events match what was stored.
	for i, b := range []*types.Block{b1, b2} {
		ev := <-events
		if ev.Block.Hash() != b.Hash() || ev.WeftHeight != int64(i+1) || len(ev.Receipts) != len(b.Transactions()) {
			t.Fatalf("event %d: block %s weft %d", i, ev.Block.Hash(), ev.WeftHeight)
		}
		stored := e.Receipts(b.Hash())
		for j := range stored {
			g, w := ev.Receipts[j], stored[j]
			if g.BlockHash != w.BlockHash || g.TxHash != w.TxHash || g.GasUsed != w.GasUsed || g.EffectiveGasPrice.Cmp(w.EffectiveGasPrice) != 0 || len(g.Logs) != len(w.Logs) {
				t.Errorf("event %d receipt %d differs from stored", i, j)
			}
		}
	}
}

func TestInvalidTxsSkipped(t *testing.T) {
	alice, bob, poor, frank := newAccount("alice"), newAccount("bob"), newAccount("poor"), newAccount("frank")
	carol := common.HexToAddress("0xca201")
	alloc := fund(alice, bob, frank)
	e := newExecutor(t, testConfig("", alloc))

	good1 := alice.transfer(t, carol, eth(1))
	otherChain := types.LatestSignerForChainID(big.NewInt(999))
	wrongChain := bob.signWith(t, otherChain, 999, 0, &carol, eth(1), params.TxGas, nil)
	nonceGap := alice.signWith(t, testSigner, testChainID, 5, &carol, eth(1), params.TxGas, nil)
	broke := poor.transfer(t, carol, eth(1))
	good2 := alice.transfer(t, carol, eth(1))
	lowGas := frank.sign(t, &carol, eth(1), 20_000, nil) // below intrinsic gas: buys gas, then fails
	good3 := frank.signWith(t, testSigner, testChainID, 0, &carol, eth(1), params.TxGas, nil)
	blob, err := types.SignNewTx(bob.key, testSigner, &types.BlobTx{
		ChainID: uint256.NewInt(testChainID), Nonce: 0, GasTipCap: uint256.NewInt(params.GWei), GasFeeCap: uint256.NewInt(10 * params.GWei),
		Gas: params.TxGas, To: carol, Value: uint256.NewInt(0), BlobFeeCap: uint256.NewInt(params.GWei), BlobHashes: []common.Hash{{0x01}},
	})
	if err != nil {
		t.Fatal(err)
	}
	setCode, err := types.SignNewTx(bob.key, testSigner, &types.SetCodeTx{
		ChainID: uint256.NewInt(testChainID), Nonce: 0, GasTipCap: uint256.NewInt(params.GWei), GasFeeCap: uint256.NewInt(10 * params.GWei),
		Gas: 100_000, To: carol, Value: uint256.NewInt(0), AuthList: []types.SetCodeAuthorization{{ChainID: *uint256.NewInt(testChainID), Address: carol}},
	})
	if err != nil {
		t.Fatal(err)
	}
	garbageItem := rawItem([]byte{0xde, 0xad, 0xbe, 0xef})
	mixed := rawItem(mustRLP(t, [][]byte{{0x02, 0x01}, mustBinary(t, good3)}))

	mustExecute(t, e, slice(1,
		item(t, good1, wrongChain, nonceGap, broke, blob, setCode, good2, lowGas),
		garbageItem,
		mixed,
	))

	b := e.BlockByNumber(1)
	if b == nil {
		t.Fatal("no block for a height with items")
	}
	var got []common.Hash
	for _, tx := range b.Transactions() {
		got = append(got, tx.Hash())
	}
	want := []common.Hash{good1.Hash(), good2.Hash(), good3.Hash()}
	if len(got) != len(want) {
		t.Fatalf("block txs %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("block tx %d = %s, want %s", i, got[i], want[i])
		}
	}
	skipped := e.Skipped(1)
	wantSkipped := []struct {
		hash   common.Hash
		weftTx []byte
		reason string
	}{
		{wrongChain.Hash(), nil, "invalid chain id"},
		{nonceGap.Hash(), nil, "nonce too high"},
		{broke.Hash(), nil, "insufficient funds"},
		{blob.Hash(), nil, "blob transactions are not allowed"},
		{setCode.Hash(), nil, "transaction type not supported"}, // Prague, not active
		{lowGas.Hash(), nil, "intrinsic gas too low"},
		{crypto.Keccak256Hash(garbageItem.Data), garbageItem.TxHash, "not an RLP list"},
		{crypto.Keccak256Hash([]byte{0x02, 0x01}), mixed.TxHash, "decode:"},
	}
	if len(skipped) != len(wantSkipped) {
		t.Fatalf("skipped %d txs, want %d: %+v", len(skipped), len(wantSkipped), skipped)
	}
	for i, w := range wantSkipped {
		s := skipped[i]
		if s.Hash != w.hash || !strings.Contains(s.Reason, w.reason) || (w.weftTx != nil && !bytes.Equal(s.WeftTx, w.weftTx)) || len(s.WeftTx) != 32 {
			t.Errorf("skipped[%d] = %x %q (weft tx %x), want %x containing %q", i, s.Hash, s.Reason, s.WeftTx, w.hash, w.reason)
		}
	}

	// The rest of the block applied; the failed txs left no trace.
	st, err := e.StateAt(b.Root())
	if err != nil {
		t.Fatal(err)
	}
	if st.GetNonce(alice.addr) != 2 || st.GetNonce(bob.addr) != 0 || st.GetNonce(frank.addr) != 1 || st.GetNonce(poor.addr) != 0 {
		t.Errorf("nonces alice %d bob %d frank %d poor %d", st.GetNonce(alice.addr), st.GetNonce(bob.addr), st.GetNonce(frank.addr), st.GetNonce(poor.addr))
	}
	if st.GetBalance(bob.addr).ToBig().Cmp(eth(100)) != 0 {
		t.Errorf("bob paid for skipped txs: %s", st.GetBalance(bob.addr))
	}
	if got := st.GetBalance(carol).ToBig(); got.Cmp(eth(3)) != 0 {
		t.Errorf("carol has %s, want 3 ether", got)
	}
	// lowGas bought its gas before failing the intrinsic gas check: that
	// purchase must be undone, so frank paid for good3 only.
	price := new(big.Int).Add(b.BaseFee(), gwei)
	frankWant := new(big.Int).Sub(eth(99), new(big.Int).Mul(price, big.NewInt(int64(params.TxGas))))
	if got := st.GetBalance(frank.addr).ToBig(); got.Cmp(frankWant) != 0 {
		t.Errorf("frank has %s, want %s", got, frankWant)
	}
	if b.GasUsed() != 3*params.TxGas {
		t.Errorf("block gas used %d", b.GasUsed())
	}
	if r := e.Receipts(b.Hash()); len(r) != 3 || r[2].CumulativeGasUsed != 3*params.TxGas {
		t.Errorf("receipts after skips: %d, cumulative %d", len(r), r[len(r)-1].CumulativeGasUsed)
	}
	// A block with nothing but skipped txs still exists (one block per
	// height with items).
	mustExecute(t, e, slice(2, garbageItem))
	if b2 := e.BlockByNumber(2); b2 == nil || len(b2.Transactions()) != 0 || len(e.Skipped(2)) != 1 {
		t.Fatal("height with only bad items did not make an empty block")
	}
}

func TestBlockGasLimitSkips(t *testing.T) {
	alice, bob, dave := newAccount("alice"), newAccount("bob"), newAccount("dave")
	carol := common.HexToAddress("0xca201")
	cfg := testConfig("", fund(alice, bob, dave))
	cfg.GasLimit = 50_000
	e := newExecutor(t, cfg)

	t1 := alice.transfer(t, carol, eth(1))
	heavy := bob.sign(t, &carol, eth(1), 40_000, nil) // 21000 + 40000 > 50000
	t3 := dave.transfer(t, carol, eth(1))             // 42000 fits
	mustExecute(t, e, slice(1, item(t, t1, heavy, t3)))

	b := e.BlockByNumber(1)
	if len(b.Transactions()) != 2 || b.Transactions()[1].Hash() != t3.Hash() || b.GasUsed() != 2*params.TxGas {
		t.Fatalf("block: %d txs, gas %d", len(b.Transactions()), b.GasUsed())
	}
	if s := e.Skipped(1); len(s) != 1 || s[0].Hash != heavy.Hash() || !strings.Contains(s[0].Reason, "gas limit reached") {
		t.Fatalf("skipped %+v", s)
	}
}

func TestHeights(t *testing.T) {
	alice := newAccount("alice")
	carol := common.HexToAddress("0xca201")
	e := newExecutor(t, testConfig("", fund(alice)))
	events := make(chan *BlockEvent, 8)
	defer e.SubscribeBlocks(events).Unsubscribe()

	// Empty heights: no block, but progress.
	mustExecute(t, e, slice(1), slice(2))
	if e.LastWeftHeight() != 2 || e.Head().Number.Uint64() != 0 {
		t.Fatalf("after empty heights: weft %d head %d", e.LastWeftHeight(), e.Head().Number)
	}
	mustExecute(t, e, slice(3, item(t, alice.transfer(t, carol, eth(1)))))
	head := e.Head()
	if head.Number.Uint64() != 1 || e.LastWeftHeight() != 3 {
		t.Fatalf("after height 3: weft %d head %d", e.LastWeftHeight(), head.Number)
	}
	if wh, _ := WeftHeight(head); wh != 3 {
		t.Fatalf("block 1 built at Weft height %d", wh)
	}
	<-events

	// Already executed heights are no-ops, even with other content.
	mustExecute(t, e, slice(3, item(t, alice.transfer(t, carol, eth(1)))), slice(1, item(t, alice.transfer(t, carol, eth(1)))))
	if e.Head().Hash() != head.Hash() || e.LastWeftHeight() != 3 || len(events) != 0 {
		t.Fatal("re-executing a height changed the chain")
	}

	// Gaps are refused and change nothing.
	if err := e.Execute(slice(5)); !errors.Is(err, exec.ErrHeightGap) {
		t.Fatalf("gap: %v, want ErrHeightGap", err)
	}
	if e.LastWeftHeight() != 3 {
		t.Fatal("a refused gap moved LastWeftHeight")
	}

	// Malformed slices are refused.
	other := slice(4)
	other.RollupId = bytes.Repeat([]byte{7}, 32)
	noHash := slice(4, item(t, alice.transfer(t, carol, eth(1))))
	noHash.BlockHash = nil
	shortHash := slice(4)
	shortHash.BlockHash = []byte{1}
	for name, s := range map[string]*weftv1.RollupSlice{"other rollup": other, "no block hash": noHash, "short block hash": shortHash, "nil": nil} {
		if err := e.Execute(s); !errors.Is(err, exec.ErrInvalidSlice) {
			t.Errorf("%s: %v, want ErrInvalidSlice", name, err)
		}
	}

	// A Weft time earlier than the parent's is raised to it.
	early := slice(4, item(t, alice.transfer(t, carol, eth(1))))
	early.TimeUnixNano = 5
	mustExecute(t, e, early)
	if e.Head().Time != head.Time {
		t.Fatalf("time %d, want parent's %d", e.Head().Time, head.Time)
	}
	<-events
	if e.LastWeftHeight() != 4 {
		t.Fatalf("LastWeftHeight %d", e.LastWeftHeight())
	}

	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Execute(slice(5)); !errors.Is(err, exec.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestConfigCheck(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"bad name":     func(c *Config) { c.Name = "Bad Name" },
		"zero chainid": func(c *Config) { c.ChainID = 0 },
		"tiny gas":     func(c *Config) { c.GasLimit = 100 },
	} {
		cfg := testConfig("", nil)
		mut(&cfg)
		if _, err := New(cfg, nil); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// TestConcurrentReads runs the read API against Execute (meaningful under
// -race).
func TestConcurrentReads(t *testing.T) {
	alice := newAccount("alice")
	carol := common.HexToAddress("0xca201")
	e := newExecutor(t, testConfig("", fund(alice)))
	var slices []*weftv1.RollupSlice
	var hashes []common.Hash
	for h := int64(1); h <= 20; h++ {
		tx := alice.transfer(t, carol, big.NewInt(h))
		hashes = append(hashes, tx.Hash())
		slices = append(slices, slice(h, item(t, tx)))
	}
	events := make(chan *BlockEvent)
	sub := e.SubscribeBlocks(events)
	defer sub.Unsubscribe()

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // reader
		for {
			select {
			case <-done:
				return
			default:
			}
			head := e.Head()
			n := head.Number.Uint64()
			if b := e.BlockByNumber(n); b == nil || b.Hash() != head.Hash() {
				t.Errorf("BlockByNumber(%d) disagrees with Head", n)
				return
			}
			if n > 0 {
				if r := e.Receipts(head.Hash()); len(r) != 1 {
					t.Errorf("receipts of %d: %d", n, len(r))
					return
				}
				if _, num, _, ok := e.TxLookup(hashes[n-1]); !ok || num != n {
					t.Errorf("TxLookup of block %d tx", n)
					return
				}
			}
			st, err := e.StateAt(head.Root)
			if err != nil {
				t.Errorf("StateAt(%d): %v", n, err)
				return
			}
			if got := st.GetNonce(alice.addr); got != n {
				t.Errorf("nonce at %d = %d", n, got)
				return
			}
		}
	})
	var got []int64
	wg.Go(func() { // subscriber
		for len(got) < len(slices) {
			select {
			case ev := <-events:
				got = append(got, ev.WeftHeight)
			case <-time.After(10 * time.Second):
				t.Error("timed out waiting for block events")
				return
			}
		}
	})
	mustExecute(t, e, slices...)
	close(done)
	wg.Wait()
	for i, h := range got {
		if h != int64(i+1) {
			t.Fatalf("events out of order: %v", got)
		}
	}
}

func mustRLP(t testing.TB, v [][]byte) []byte {
	t.Helper()
	b, err := rlp.EncodeToBytes(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustBinary(t testing.TB, tx *types.Transaction) []byte {
	t.Helper()
	b, err := tx.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCloseWithStuckSubscriber: a subscriber that stops reading must not
// keep Close waiting behind an Execute blocked in event delivery.
func TestCloseWithStuckSubscriber(t *testing.T) {
	alice := newAccount("alice")
	e := newExecutor(t, testConfig("", fund(alice)))
	e.SubscribeBlocks(make(chan *BlockEvent)) // never read
	executed := make(chan error, 1)
	go func() { executed <- e.Execute(slice(1, item(t, alice.transfer(t, common.Address{1}, big.NewInt(1))))) }()
	// Wait until the block is committed: Execute is then in event delivery.
	for deadline := time.Now().Add(10 * time.Second); e.Head().Number.Uint64() != 1; {
		if time.Now().After(deadline) {
			t.Fatal("block 1 never committed")
		}
		time.Sleep(time.Millisecond)
	}
	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	for name, ch := range map[string]chan error{"Execute": executed, "Close": closed} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s is stuck behind a subscriber that does not read", name)
		}
	}
	sub := e.SubscribeBlocks(make(chan *BlockEvent))
	select {
	case <-sub.Err():
	case <-time.After(10 * time.Second):
		t.Fatal("a subscription made after Close has not ended")
	}
}
