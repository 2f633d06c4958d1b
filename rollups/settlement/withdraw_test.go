package settlement

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/triedb"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/contracts"
	"github.com/weftnet/weft/rollups/txmgr"
)

// rollupState builds a real go-ethereum state holding the bridge with the
// given withdrawals marked sent, plus enough other accounts and slots for
// the tries to have depth.
func rollupState(t *testing.T, ws []Withdrawal) (state.Database, common.Hash) {
	t.Helper()
	db := state.NewDatabase(triedb.NewDatabase(rawdb.NewMemoryDatabase(), nil), nil)
	sdb, err := state.New(types.EmptyRootHash, db)
	if err != nil {
		t.Fatal(err)
	}
	bridge := contracts.L2BridgeAddress
	sdb.SetCode(bridge, contracts.L2BridgeRuntime(), tracing.CodeChangeUnspecified)
	sdb.SetBalance(bridge, uint256.NewInt(1e18), tracing.BalanceChangeUnspecified)
	one := common.BigToHash(common.Big1)
	for _, w := range ws {
		sdb.SetState(bridge, WithdrawalSlot(w.Hash()), one)
	}
	for i := 0; i < 40; i++ { // other withdrawals, so the storage trie is deep
		sdb.SetState(bridge, crypto.Keccak256Hash([]byte{byte(i)}), one)
	}
	sdb.SetState(bridge, common.BigToHash(common.Big1), common.BigToHash(big.NewInt(int64(len(ws)+40))))
	sdb.SetState(bridge, contracts.L2BridgeDepositsSlot, common.BigToHash(big.NewInt(7)))
	for i := 0; i < 300; i++ {
		a := common.BigToAddress(big.NewInt(int64(1000 + i)))
		sdb.SetBalance(a, uint256.NewInt(uint64(i+1)), tracing.BalanceChangeUnspecified)
		sdb.SetNonce(a, uint64(i), tracing.NonceChangeUnspecified)
		if i%10 == 0 {
			sdb.SetState(a, common.BigToHash(big.NewInt(int64(i))), one)
		}
	}
	root, err := sdb.Commit(params.TestChainConfig.Rules(big.NewInt(1), true, 0), 1)
	if err != nil {
		t.Fatal(err)
	}
	return db, root
}

// proofService serves eth_getProof from a state, as the rollup RPC will.
type proofService struct {
	db   state.Database
	root common.Hash
}

func (s *proofService) GetProof(ctx context.Context, a common.Address, keys []common.Hash, block string) (*AccountProof, error) {
	return ProofFromState(s.db, s.root, a, keys)
}

func TestWithdrawal(t *testing.T) {
	l1 := newL1(t, L1Config{})
	ctx := context.Background()
	const window = 300
	d := deploy(t, l1, testSpec("alpha", window))
	in := NewInbox(l1.Client(), d.Rollups[0].Inbox, WithFromBlock(d.Rollups[0].InboxBlock))

	recipient := common.HexToAddress("0x00000000000000000000000000000000000fee01")
	w := Withdrawal{Nonce: big.NewInt(3), From: common.HexToAddress("0xabc"), To: recipient, Value: big.NewInt(123456789)}
	other := Withdrawal{Nonce: big.NewInt(4), From: common.HexToAddress("0xabc"), To: recipient, Value: big.NewInt(5)}
	db, root := rollupState(t, []Withdrawal{w, other})

	// The inbox holds deposited ETH to pay withdrawals out of.
	if _, err := send(t, l1, userKey, in.Address(), PackDeposit(addr(userKey)), ether); err != nil {
		t.Fatal(err)
	}
	postCalldataBatch(t, l1, in, 10, 19, root, [][]byte{{0xba, 0x7c}})

	// The proof through a JSON-RPC eth_getProof served from the state.
	srv := rpc.NewServer()
	if err := srv.RegisterName("eth", &proofService{db: db, root: root}); err != nil {
		t.Fatal(err)
	}
	rc := rpc.DialInProc(srv)
	defer rc.Close()
	p, err := ProveWithdrawal(ctx, rc, 0, big.NewInt(1), root, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("proof: %d account nodes, %d storage nodes", len(p.AccountProof), len(p.StorageProof))
	if len(p.AccountProof) < 3 || len(p.StorageProof) < 2 {
		t.Fatalf("tries too shallow: %d/%d", len(p.AccountProof), len(p.StorageProof))
	}
	// A withdrawal that was never sent does not prove locally.
	fake := w
	fake.Value = big.NewInt(999)
	if _, err := ProveWithdrawal(ctx, rc, 0, big.NewInt(1), root, fake); err == nil {
		t.Fatal("unsent withdrawal proved")
	}

	sender := &txmgr.Sender{L1: l1.Client(), Key: userKey, Policy: txmgr.DefaultPolicy, Poll: 5 * time.Millisecond}
	finalize := func(p *WithdrawalProof) error {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			out, err := FinalizeWithdrawal(wctx, sender, in.Address(), p)
			if err == nil {
				t.Logf("finalizeWithdrawal gas used: %d", out.Receipt.GasUsed)
			}
			done <- err
		}()
		// Seal blocks until the sender has its receipt (or gave up).
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case err := <-done:
				return err
			case <-tick.C:
				l1.Commit()
			}
		}
	}
	// Inside the window: not final.
	if err := finalize(p); !IsContractError(err, "BatchNotFinal") {
		t.Fatalf("before window: %v", err)
	}
	if err := l1.AdjustTime(window * time.Second); err != nil {
		t.Fatal(err)
	}
	// Tampered value: the slot differs, the storage proof does not hold it.
	tv := *p
	tv.Withdrawal.Value = big.NewInt(999)
	err = finalize(&tv)
	if err == nil {
		t.Fatal("tampered value paid out")
	}
	t.Logf("tampered value: %v", err)
	// Tampered proof node.
	tp := *p
	tp.StorageProof = append([][]byte(nil), p.StorageProof...)
	last := append([]byte(nil), tp.StorageProof[len(tp.StorageProof)-1]...)
	last[len(last)-1] ^= 1
	tp.StorageProof[len(tp.StorageProof)-1] = last
	err = finalize(&tp)
	if err == nil {
		t.Fatal("tampered proof paid out")
	}
	t.Logf("tampered storage proof: %v", err)
	ta := *p
	ta.AccountProof = append([][]byte(nil), p.AccountProof...)
	ta.AccountProof[0] = append([]byte(nil), p.AccountProof[0]...)
	ta.AccountProof[0][5] ^= 1
	if err := finalize(&ta); err == nil {
		t.Fatal("tampered account proof paid out")
	} else {
		t.Logf("tampered account proof: %v", err)
	}

	before, err := l1.Client().BalanceAt(ctx, recipient, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := finalize(p); err != nil {
		t.Fatal(err)
	}
	after, _ := l1.Client().BalanceAt(ctx, recipient, nil)
	if diff := new(big.Int).Sub(after, before); diff.Cmp(w.Value) != 0 {
		t.Fatalf("recipient got %v, want %v", diff, w.Value)
	}
	if ok, _ := in.WithdrawalFinalized(ctx, w.Hash()); !ok {
		t.Fatal("not marked finalized")
	}
	if err := finalize(p); !IsContractError(err, "WithdrawalAlreadyFinalized") {
		t.Fatalf("second finalize: %v", err)
	}
	// The other withdrawal in the same root is still payable.
	p2, err := ProveWithdrawal(ctx, rc, 0, nil, root, other)
	if err != nil {
		t.Fatal(err)
	}
	if err := finalize(p2); err != nil {
		t.Fatal(err)
	}
}

func TestWithdrawalHashMatchesBridge(t *testing.T) {
	// keccak256(abi.encode(nonce, from, to, value)) through the ABI packer.
	w := Withdrawal{Nonce: big.NewInt(7), From: common.HexToAddress("0x1234"), To: common.HexToAddress("0x5678"), Value: big.NewInt(1e18)}
	args := inboxDef.Events["WithdrawalFinalized"].Inputs.NonIndexed()
	enc, err := args.Pack(w.Nonce, w.From, w.To, w.Value)
	if err != nil {
		t.Fatal(err)
	}
	if crypto.Keccak256Hash(enc) != w.Hash() {
		t.Fatal("withdrawal hash differs from abi.encode")
	}
}

// TestPostBatchGas bounds the L1 gas of posting calldata frames: per byte
// (what a rollup pays for its data) and per batch.
func TestPostBatchGas(t *testing.T) {
	l1 := newL1(t, L1Config{})
	d := deploy(t, l1, testSpec("alpha", 60))
	in := NewInbox(l1.Client(), d.Rollups[0].Inbox)
	sizes := []int{100, 1_000, 100_000}
	gas := make([]uint64, len(sizes))
	for i, size := range sizes {
		r := postCalldataBatch(t, l1, in, 10+uint64(i), 10+uint64(i), common.BigToHash(big.NewInt(int64(i+1))), [][]byte{frameBytes("gas", size)})
		gas[i] = r.GasUsed
		t.Logf("postBatch, one %d-byte calldata frame: %d L1 gas", size, r.GasUsed)
	}
	r := mustSend(t, l1, batcherKey, in.Address(), PackAppendFrame(3, frameBytes("gas", 100_000)))
	t.Logf("appendFrame, one 100000-byte calldata frame: %d L1 gas", r.GasUsed)

	// A frame's bytes cost what calldata costs and no more: at most
	// EIP-7623's floor of 40 gas per non-zero byte (+5%), so the inbox does
	// no work per byte beyond hashing it. The fixed part of posting a batch
	// (storage of the batch record, events) stays under maxBatchOverhead.
	const maxGasPerByte, maxBatchOverhead = 42, 250_000
	perByte := float64(gas[2]-gas[1]) / float64(sizes[2]-sizes[1])
	if perByte > maxGasPerByte || perByte < 16 {
		t.Errorf("a calldata frame costs %.1f L1 gas per byte, want 16..%d", perByte, maxGasPerByte)
	}
	if gas[0] > maxBatchOverhead {
		t.Errorf("posting a batch with a 100-byte frame costs %d L1 gas, want at most %d", gas[0], maxBatchOverhead)
	}
	if r.GasUsed > gas[2] {
		t.Errorf("appendFrame of 100000 bytes costs %d L1 gas, more than postBatch with the same frame (%d)", r.GasUsed, gas[2])
	}
}

// staticBlobs is a BlobSource over blobs the test posted.
type staticBlobs map[common.Hash]*kzg4844.Blob

func (s staticBlobs) Blob(_ context.Context, ref BlobRef) (*kzg4844.Blob, error) {
	if b, ok := s[ref.VersionedHash]; ok {
		return b, nil
	}
	return nil, errors.New("unknown blob")
}

// testBlobs returns n blobs of distinct content (31 bytes per field
// element, top byte 0).
func testBlobs(n int) []kzg4844.Blob {
	blobs := make([]kzg4844.Blob, n)
	for i := range blobs {
		content := frameBytes(string(rune('a'+i)), 4096*31)
		for fe := 0; fe < 4096; fe++ {
			copy(blobs[i][fe*32+1:fe*32+32], content[fe*31:])
		}
	}
	return blobs
}

// postBlobBatch posts batch `index` over heights from..to with blobs as its
// frames (one type-3 tx, empty calldata data) and seals a block.
func postBlobBatch(t *testing.T, l1 *L1, in *Inbox, index, from, to uint64, newRoot common.Hash, blobs []kzg4844.Blob) ([]common.Hash, *types.Receipt) {
	t.Helper()
	ctx := context.Background()
	c := l1.Client()
	var commits []kzg4844.Commitment
	var proofs []kzg4844.Proof
	for i := range blobs {
		cm, err := kzg4844.BlobToCommitment(&blobs[i])
		if err != nil {
			t.Fatal(err)
		}
		ps, err := kzg4844.ComputeCellProofs(&blobs[i])
		if err != nil {
			t.Fatal(err)
		}
		commits = append(commits, cm)
		proofs = append(proofs, ps...)
	}
	sidecar := types.NewBlobTxSidecar(types.BlobSidecarVersion1, blobs, commits, proofs)
	hashes := sidecar.BlobHashes()

	prev, _ := in.LastStateRoot(ctx)
	data := PackPostBatch(index, from, to, prev, newRoot, nil)
	gas, err := c.EstimateGas(ctx, ethereum.CallMsg{From: addr(batcherKey), To: ptr(in.Address()), Data: data, BlobHashes: hashes, BlobGasFeeCap: big.NewInt(params.GWei)})
	if err != nil {
		t.Fatal(DecodeRevert(err))
	}
	nonce, err := c.PendingNonceAt(ctx, addr(batcherKey))
	if err != nil {
		t.Fatal(err)
	}
	head, _ := c.HeaderByNumber(ctx, nil)
	tip := big.NewInt(params.GWei)
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	tx := types.MustSignNewTx(batcherKey, types.LatestSignerForChainID(l1.ChainID()), &types.BlobTx{
		ChainID:    uint256.NewInt(L1ChainID),
		Nonce:      nonce,
		GasTipCap:  uint256.MustFromBig(tip),
		GasFeeCap:  uint256.MustFromBig(feeCap),
		Gas:        gas * 2,
		To:         in.Address(),
		Value:      new(uint256.Int),
		Data:       data,
		BlobFeeCap: uint256.NewInt(params.GWei),
		BlobHashes: hashes,
		Sidecar:    sidecar,
	})
	if err := c.SendTransaction(ctx, tx); err != nil {
		t.Fatalf("blob tx rejected: %v", err)
	}
	l1.Commit()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := WaitReceipt(wctx, c, tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	return hashes, r
}

func TestBlobBatch(t *testing.T) {
	l1 := newL1(t, L1Config{})
	ctx := context.Background()
	d := deploy(t, l1, testSpec("alpha", 60))
	in := NewInbox(l1.Client(), d.Rollups[0].Inbox, WithFromBlock(d.Rollups[0].InboxBlock))
	c := l1.Client()

	blobs := testBlobs(2)
	hashes, r := postBlobBatch(t, l1, in, 0, 10, 19, common.HexToHash("0xb10b"), blobs)
	t.Logf("postBatch with 2 blob frames: %d L1 gas, blob gas %d", r.GasUsed, r.BlobGasUsed)

	bs, err := in.Batches(ctx, 0)
	if !errors.Is(err, ErrNoBlobSource) || len(bs) != 1 {
		t.Fatalf("without blob source: %v, %d batches", err, len(bs))
	}
	t.Logf("without blob source: %v", err)
	if len(bs[0].Frames) != 2 || !bs[0].Frames[0].Blob || bs[0].Frames[1].Hash != hashes[1] || bs[0].Commitment != Commitment(hashes) {
		t.Fatalf("blob batch: %+v", bs[0])
	}
	src := staticBlobs{hashes[0]: &blobs[0], hashes[1]: &blobs[1]}
	bs, err = NewInbox(c, in.Address(), WithBlobSource(src)).Batches(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(bs[0].Frames[1].Data) != string(blobs[1][:]) {
		t.Fatal("blob data")
	}
	// A source answering with the wrong blob is caught.
	bad := staticBlobs{hashes[0]: &blobs[1], hashes[1]: &blobs[1]}
	if _, err := NewInbox(c, in.Address(), WithBlobSource(bad)).Batches(ctx, 0); !errors.Is(err, ErrFrameMismatch) {
		t.Fatalf("wrong blob: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
