package derive

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/batcher"
	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/settlement"
)

const rollupName = "alpha"

var (
	relayer = common.HexToAddress("0x00000000000000000000000000000000de9051")
	userKey = mustKey("user")
	user    = crypto.PubkeyToAddress(userKey.PublicKey)
	signer  = types.LatestSignerForChainID(big.NewInt(901))
)

func mustKey(seed string) *ecdsa.PrivateKey {
	sum := sha256.Sum256([]byte(seed))
	k, err := crypto.ToECDSA(sum[:])
	if err != nil {
		panic(err)
	}
	return k
}

func cfg() evm.Config {
	return evm.Config{
		Name: rollupName, ChainID: 901, GenesisTime: 1_700_000_000, DepositRelayer: relayer,
		Alloc: types.GenesisAlloc{user: {Balance: new(big.Int).Mul(big.NewInt(100), big.NewInt(params.Ether))}},
	}
}

func newExec(t *testing.T) *evm.Executor {
	t.Helper()
	e, err := evm.New(cfg(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// chain is what a sequencer-side executor ran: slices of heights 1..n.
type chain struct {
	slices []*weftv1.RollupSlice
	nonce  uint64
}

func (c *chain) add(t *testing.T, items ...*weftv1.RollupItem) {
	h := int64(len(c.slices) + 1)
	id := rollups.IDFromName(rollupName)
	bh := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(h)))
	c.slices = append(c.slices, &weftv1.RollupSlice{Height: h, TimeUnixNano: (1_700_000_000 + 2*h) * 1e9, BlockHash: bh[:], RollupId: id[:], Items: items})
}

func (c *chain) transfer(t *testing.T, to common.Address, wei int64) *weftv1.RollupItem {
	t.Helper()
	tx, err := types.SignNewTx(userKey, signer, &types.DynamicFeeTx{
		ChainID: big.NewInt(901), Nonce: c.nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(params.GWei),
		Gas: 21000, To: &to, Value: big.NewInt(wei),
	})
	if err != nil {
		t.Fatal(err)
	}
	c.nonce++
	data, err := evm.EncodeTxs([]*types.Transaction{tx})
	if err != nil {
		t.Fatal(err)
	}
	return &weftv1.RollupItem{TxHash: tx.Hash().Bytes(), Sender: user.Bytes(), Data: data}
}

func deposit(t *testing.T, ds ...evm.Deposit) *weftv1.RollupItem {
	t.Helper()
	data, err := evm.EncodeDeposits(ds)
	if err != nil {
		t.Fatal(err)
	}
	return &weftv1.RollupItem{TxHash: crypto.Keccak256(data), Sender: relayer.Bytes(), Data: data}
}

// post runs the chain through a reference executor and cuts it into
// batches at the given last heights, as an honest batcher would.
func (c *chain) post(t *testing.T, ends ...int64) ([]PostedBatch, *evm.Executor) {
	t.Helper()
	ref := newExec(t)
	id := rollups.IDFromName(rollupName)
	var out []PostedBatch
	prev, from := ref.Head().Root, int64(1)
	for i, end := range ends {
		data := &weftv1.BatchData{Version: batcher.BatchVersion, RollupId: id[:], FromHeight: from, ToHeight: end, PrevStateRoot: prev.Bytes()}
		for _, s := range c.slices[from-1 : end] {
			if err := ref.Execute(s); err != nil {
				t.Fatal(err)
			}
			if len(s.Items) > 0 {
				data.Blocks = append(data.Blocks, &weftv1.BatchBlock{Height: s.Height, TimeUnixNano: s.TimeUnixNano, BlockHash: s.BlockHash, Items: s.Items})
			}
		}
		root := ref.HeaderAtWeftHeight(end).Root
		data.StateRoot = root.Bytes()
		payload, err := batcher.EncodeBatch(data, batcher.AlgoZstd)
		if err != nil {
			t.Fatal(err)
		}
		var frames []Frame
		for _, f := range batcher.SplitFrames(payload, 200) {
			frames = append(frames, CalldataFrame(f))
		}
		out = append(out, PostedBatch{Index: uint64(i), FromHeight: uint64(from), ToHeight: uint64(end), Commitment: commitment(frames),
			PrevRoot: prev, StateRoot: root, Frames: frames})
		prev, from = root, end+1
	}
	return out, ref
}

func commitment(frames []Frame) common.Hash {
	var hs []common.Hash
	for _, f := range frames {
		hs = append(hs, f.Hash)
	}
	return settlement.Commitment(hs)
}

func l1Deposits(ds ...evm.Deposit) func(uint64) (L1Deposit, bool) {
	return func(n uint64) (L1Deposit, bool) {
		for _, d := range ds {
			if d.Nonce == n {
				return L1Deposit{Nonce: d.Nonce, From: d.From, To: d.To, Value: d.Value}, true
			}
		}
		return L1Deposit{}, false
	}
}

func TestDeriveReproducesRoots(t *testing.T) {
	bob := common.HexToAddress("0xb0b")
	d0 := evm.Deposit{Nonce: 0, From: common.HexToAddress("0xaa"), To: bob, Value: big.NewInt(1e9)}
	d1 := evm.Deposit{Nonce: 1, From: common.HexToAddress("0xaa"), To: user, Value: big.NewInt(2e9)}
	var c chain
	c.add(t, c.transfer(t, bob, 1))
	c.add(t)
	c.add(t, deposit(t, d0), c.transfer(t, bob, 2), c.transfer(t, bob, 3))
	c.add(t)
	c.add(t)
	c.add(t, deposit(t, d1))
	c.add(t, c.transfer(t, bob, 4))
	c.add(t)
	batches, ref := c.post(t, 2, 5, 8)

	v := newExec(t)
	d, err := New(v, rollupName, v.Head().Root, l1Deposits(d0, d1))
	if err != nil {
		t.Fatal(err)
	}
	txs, deps := 0, 0
	for _, b := range batches {
		ch, err := d.Apply(b)
		if err != nil {
			t.Fatalf("batch %d: %v", b.Index, err)
		}
		txs += ch.Txs
		deps += ch.Deposits
	}
	if txs != 4 || deps != 2 {
		t.Fatalf("txs %d deposits %d", txs, deps)
	}
	if v.Head().Hash() != ref.Head().Hash() {
		t.Fatalf("derived head %s, sequencer head %s", v.Head().Hash(), ref.Head().Hash())
	}
}

func TestDeriveFaults(t *testing.T) {
	bob := common.HexToAddress("0xb0b")
	d0 := evm.Deposit{Nonce: 0, From: common.HexToAddress("0xaa"), To: bob, Value: big.NewInt(1e9)}
	var c chain
	c.add(t, c.transfer(t, bob, 1))
	c.add(t, deposit(t, d0))
	c.add(t, c.transfer(t, bob, 2))
	honest, _ := c.post(t, 1, 2, 3)

	cases := []struct {
		name   string
		tamper func([]PostedBatch, *[]evm.Deposit)
		index  uint64
		want   string
	}{
		{"state root", func(b []PostedBatch, _ *[]evm.Deposit) { b[2].StateRoot[0] ^= 1 }, 2, "state root mismatch"},
		{"frame bytes", func(b []PostedBatch, _ *[]evm.Deposit) {
			b[1].Frames[0].Data = append([]byte{}, b[1].Frames[0].Data...)
			b[1].Frames[0].Data[5] ^= 1
		}, 1, "frame 0: calldata hashes to"},
		{"frame hash", func(b []PostedBatch, _ *[]evm.Deposit) { b[1].Frames[0].Hash[5] ^= 1 }, 1, "commitment"},
		{"deposit not on L1", func(_ []PostedBatch, l1 *[]evm.Deposit) { *l1 = nil }, 1, "L1 has not recorded"},
		{"deposit value", func(_ []PostedBatch, l1 *[]evm.Deposit) { (*l1)[0].Value = big.NewInt(1) }, 1, "L1 recorded"},
		{"prev root", func(b []PostedBatch, _ *[]evm.Deposit) { b[1].PrevRoot[3] ^= 1 }, 1, "previous root"},
		{"heights", func(b []PostedBatch, _ *[]evm.Deposit) { b[1].ToHeight = 3 }, 1, "covers heights"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bs := make([]PostedBatch, len(honest))
			copy(bs, honest)
			for i := range bs {
				bs[i].Frames = append([]Frame{}, honest[i].Frames...)
			}
			l1 := []evm.Deposit{{Nonce: d0.Nonce, From: d0.From, To: d0.To, Value: new(big.Int).Set(d0.Value)}}
			tc.tamper(bs, &l1)
			v := newExec(t)
			d, err := New(v, rollupName, v.Head().Root, l1Deposits(l1...))
			if err != nil {
				t.Fatal(err)
			}
			var fault *Fault
			for _, b := range bs {
				if _, err = d.Apply(b); err != nil {
					break
				}
			}
			if !errors.As(err, &fault) || fault.Index != tc.index || !strings.Contains(fault.Error(), tc.want) {
				t.Fatalf("got %v, want fault at batch %d containing %q", err, tc.index, tc.want)
			}
			if d.Fault() != fault {
				t.Fatal("Fault() does not report it")
			}
		})
	}
}

func TestDeriveRejectsWrongGenesis(t *testing.T) {
	v := newExec(t)
	if _, err := New(v, rollupName, common.Hash{1}, l1Deposits()); err == nil || !strings.Contains(err.Error(), "genesis state root") {
		t.Fatalf("got %v", err)
	}
}

// blobFrame is the inbox's view of a blob carrying blob (a versioned hash).
func blobFrame(t *testing.T, blob *kzg4844.Blob) Frame {
	t.Helper()
	c, err := kzg4844.BlobToCommitment(blob)
	if err != nil {
		t.Fatal(err)
	}
	return Frame{Hash: kzg4844.CalcBlobHashV1(sha256.New(), &c), Blob: true, Data: bytes.Clone(blob[:])}
}

// TestDeriveBlobFrames posts a batch as blob frames (one frame each, in
// batcher.EncodeBlob's encoding): it derives, and the commitment is over
// versioned hashes; a wrong blob or a blob that does not decode is the
// batch's fault.
func TestDeriveBlobFrames(t *testing.T) {
	bob := common.HexToAddress("0xb0b")
	var c chain
	c.add(t, c.transfer(t, bob, 1), c.transfer(t, bob, 2))
	c.add(t, c.transfer(t, bob, 3))
	honest, ref := c.post(t, 2)
	b := honest[0]
	if len(b.Frames) < 2 {
		t.Fatalf("want a multi-frame batch, got %d frames", len(b.Frames))
	}
	var blobs []Frame
	for _, f := range b.Frames {
		blob, err := batcher.EncodeBlob(f.Data)
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, blobFrame(t, blob))
	}
	b.Frames, b.Commitment = blobs, commitment(blobs)

	apply := func(b PostedBatch) error {
		v := newExec(t)
		d, err := New(v, rollupName, v.Head().Root, l1Deposits())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Apply(b); err != nil {
			return err
		}
		if v.Head().Hash() != ref.Head().Hash() {
			t.Fatalf("derived head %s, sequencer head %s", v.Head().Hash(), ref.Head().Hash())
		}
		return nil
	}
	if err := apply(b); err != nil {
		t.Fatalf("blob batch: %v", err)
	}

	// A blob that decodes strictly to nothing valid, under a matching hash.
	var bad kzg4844.Blob
	bad[0] = 1
	malformed := blobFrame(t, &bad)
	for _, tc := range []struct {
		name   string
		tamper func(*PostedBatch)
		want   string
	}{
		{"keccak commitment", func(b *PostedBatch) {
			var fs [][]byte
			for _, f := range b.Frames {
				fs = append(fs, f.Data)
			}
			b.Commitment = batcher.FrameCommitment(fs)
		}, "commitment"},
		{"blob bytes", func(b *PostedBatch) {
			b.Frames[1].Data = bytes.Clone(b.Frames[1].Data)
			b.Frames[1].Data[100] ^= 1
		}, "frame 1: blob has versioned hash"},
		{"short blob", func(b *PostedBatch) { b.Frames[0].Data = b.Frames[0].Data[:1000] }, "frame 0: blob of 1000 bytes"},
		{"undecodable blob", func(b *PostedBatch) {
			b.Frames[0] = malformed
			b.Commitment = commitment(b.Frames)
		}, "frame 0: blob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bb := b
			bb.Frames = append([]Frame{}, b.Frames...)
			tc.tamper(&bb)
			var fault *Fault
			if err := apply(bb); !errors.As(err, &fault) || !strings.Contains(fault.Error(), tc.want) {
				t.Fatalf("got %v, want a fault containing %q", err, tc.want)
			}
		})
	}
}
