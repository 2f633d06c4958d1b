package derive

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/batcher"
	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/settlement"
)

// PostedBatch is one batch as recorded on L1: the inbox header and the
// frames its data commitment was computed over.
type PostedBatch struct {
	Index      uint64
	FromHeight uint64
	ToHeight   uint64
	Commitment common.Hash
	PrevRoot   common.Hash
	StateRoot  common.Hash
	L1Block    uint64
	Frames     []Frame
}

// Frame is one frame of a posted batch as the inbox logged it.
type Frame struct {
	// Hash is what the inbox chained into the batch's commitment:
	// keccak256(Data) for calldata, the versioned hash of the blob for a
	// blob frame.
	Hash common.Hash
	// Blob marks a blob frame: Data is then the whole blob, holding the
	// frame bytes in batcher.EncodeBlob's encoding.
	Blob bool
	Data []byte
}

// CalldataFrame is the Frame of calldata bytes data.
func CalldataFrame(data []byte) Frame {
	return Frame{Hash: crypto.Keccak256Hash(data), Data: data}
}

// bytes checks f's data against its hash and returns the frame bytes
// (decoded from the blob for a blob frame). The error is a fault reason.
func (f Frame) bytes() ([]byte, error) {
	if !f.Blob {
		if h := crypto.Keccak256Hash(f.Data); h != f.Hash {
			return nil, fmt.Errorf("calldata hashes to %s, inbox logged %s", h, f.Hash)
		}
		return f.Data, nil
	}
	var blob kzg4844.Blob
	if len(f.Data) != len(blob) {
		return nil, fmt.Errorf("blob of %d bytes, want %d", len(f.Data), len(blob))
	}
	copy(blob[:], f.Data)
	c, err := kzg4844.BlobToCommitment(&blob)
	if err != nil {
		return nil, fmt.Errorf("blob commitment: %v", err)
	}
	if h := common.Hash(kzg4844.CalcBlobHashV1(sha256.New(), &c)); h != f.Hash {
		return nil, fmt.Errorf("blob has versioned hash %s, inbox logged %s", h, f.Hash)
	}
	data, err := batcher.DecodeBlob(&blob)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %v", f.Hash, err)
	}
	return data, nil
}

// L1Deposit is a DepositInitiated event of the inbox.
type L1Deposit struct {
	Nonce   uint64
	From    common.Address
	To      common.Address
	Value   *big.Int
	L1Block uint64
}

// Fault is the first thing found wrong on L1: batch Index's posted state
// root (or its data) is not what its data derives to.
type Fault struct {
	Index  uint64
	Reason string
	// Posted and Derived are the roots (zero when the data itself is bad).
	Posted, Derived common.Hash
}

func (f *Fault) Error() string {
	if f.Derived != (common.Hash{}) {
		return fmt.Sprintf("batch %d: %s: posted state root %s, derived %s", f.Index, f.Reason, f.Posted, f.Derived)
	}
	return fmt.Sprintf("batch %d: %s", f.Index, f.Reason)
}

// Checked is one verified batch.
type Checked struct {
	Index      uint64
	FromHeight uint64
	ToHeight   uint64
	StateRoot  common.Hash
	// RollupBlock is the rollup block number the root belongs to.
	RollupBlock uint64
	Txs         int // rollup transactions applied in the batch's range
	// Deposits credited in the range; DepositItems counts the deposits
	// carried, re-sent ones that the executor skips included.
	Deposits     int
	DepositItems int
}

// Deriver replays batches into an executor. Not safe for concurrent use.
type Deriver struct {
	exec     *evm.Executor
	rollupID rollups.ID
	maxSize  int
	deposits func(nonce uint64) (L1Deposit, bool)
	next     uint64      // index of the next batch
	root     common.Hash // state root after the last batch
	fault    *Fault
}

// New returns a deriver over a fresh executor (at its genesis; it must not
// have executed anything) whose chain must start from genesisRoot.
// deposits looks up the inbox's deposit events by nonce.
func New(exec *evm.Executor, rollupName string, genesisRoot common.Hash, deposits func(nonce uint64) (L1Deposit, bool)) (*Deriver, error) {
	if exec.LastWeftHeight() != 0 {
		return nil, fmt.Errorf("derive: executor already at Weft height %d", exec.LastWeftHeight())
	}
	if got := exec.Head().Root; got != genesisRoot {
		return nil, fmt.Errorf("derive: rollup genesis state root %s does not match the inbox's %s (wrong rollup config?)", got, genesisRoot)
	}
	return &Deriver{exec: exec, rollupID: rollups.IDFromName(rollupName), maxSize: batcher.DefaultMaxDecompressed, deposits: deposits, root: genesisRoot}, nil
}

// Fault returns the first fault found, if any; after one, Apply refuses.
func (d *Deriver) Fault() *Fault { return d.fault }

// Apply verifies the next batch. It returns a *Fault when the batch is
// wrong; other errors are the verifier's own (the executor failed).
//
// The frames are checked against the inbox's commitment over their hashes,
// and each frame's data against its hash (keccak256 of calldata, the KZG
// versioned hash of a blob), so Apply trusts no L1 reader to have done so;
// blob frames are then decoded with batcher.DecodeBlob, and a blob that
// does not decode is the batch's fault.
func (d *Deriver) Apply(b PostedBatch) (*Checked, error) {
	if d.fault != nil {
		return nil, d.fault
	}
	if b.Index != d.next {
		return nil, fmt.Errorf("derive: got batch %d, want %d", b.Index, d.next)
	}
	data, err := d.decodeBatch(b)
	if err != nil {
		return nil, err
	}
	out := &Checked{Index: b.Index, FromHeight: b.FromHeight, ToHeight: b.ToHeight, StateRoot: b.StateRoot}
	// Deposits are checked against L1 before they are replayed: the
	// executor trusts the relayer's signature, the verifier trusts L1.
	if out.DepositItems, err = d.checkDeposits(b, data); err != nil {
		return nil, err
	}
	before, err := d.depositsProcessed()
	if err != nil {
		return nil, err
	}
	if err := d.replay(data, out); err != nil {
		return nil, err
	}
	after, err := d.depositsProcessed()
	if err != nil {
		return nil, err
	}
	out.Deposits = int(after - before)
	hdr := d.exec.HeaderAtWeftHeight(int64(b.ToHeight))
	if hdr == nil {
		return nil, fmt.Errorf("derive: executor has no header at Weft height %d", b.ToHeight)
	}
	out.RollupBlock = hdr.Number.Uint64()
	if hdr.Root != b.StateRoot {
		d.fault = &Fault{Index: b.Index, Reason: "state root mismatch", Posted: b.StateRoot, Derived: hdr.Root}
		return nil, d.fault
	}
	d.root = hdr.Root
	d.next++
	return out, nil
}

// faultf records batch b's fault, its reason formatted from format and
// args, and returns it.
func (d *Deriver) faultf(b PostedBatch, format string, args ...any) error {
	d.fault = &Fault{Index: b.Index, Reason: fmt.Sprintf(format, args...), Posted: b.StateRoot}
	return d.fault
}

// decodeBatch checks batch b's frames against its commitment and its
// previous root against the derived chain's, then decodes its data and
// checks the data's rollup and heights. Every error is the batch's fault.
func (d *Deriver) decodeBatch(b PostedBatch) (*weftv1.BatchData, error) {
	hashes := make([]common.Hash, len(b.Frames))
	for i, f := range b.Frames {
		hashes[i] = f.Hash
	}
	if got := settlement.Commitment(hashes); got != b.Commitment {
		return nil, d.faultf(b, "frames hash to commitment %s, inbox recorded %s", got, b.Commitment)
	}
	if b.PrevRoot != d.root {
		return nil, d.faultf(b, "previous root %s, derived chain is at %s", b.PrevRoot, d.root)
	}
	frames := make([][]byte, len(b.Frames))
	for i, f := range b.Frames {
		fb, err := f.bytes()
		if err != nil {
			return nil, d.faultf(b, "frame %d: %v", i, err)
		}
		frames[i] = fb
	}
	data, err := batcher.DecodeBatch(batcher.JoinFrames(frames), d.maxSize)
	if err != nil {
		return nil, d.faultf(b, "undecodable data: %v", err)
	}
	if !bytes.Equal(data.RollupId, d.rollupID[:]) {
		return nil, d.faultf(b, "data is for rollup %x", data.RollupId)
	}
	if uint64(data.FromHeight) != b.FromHeight || uint64(data.ToHeight) != b.ToHeight {
		return nil, d.faultf(b, "data covers heights %d..%d, header says %d..%d", data.FromHeight, data.ToHeight, b.FromHeight, b.ToHeight)
	}
	if last := d.exec.LastWeftHeight(); b.FromHeight != uint64(last)+1 {
		return nil, d.faultf(b, "starts at Weft height %d, derived chain is at %d", b.FromHeight, last)
	}
	return data, nil
}

// checkDeposits checks every deposit that batch b's data credits against
// the deposit L1 recorded under its nonce, and returns how many deposits
// the data carries. Every error is the batch's fault.
func (d *Deriver) checkDeposits(b PostedBatch, data *weftv1.BatchData) (int, error) {
	items := 0
	for _, blk := range data.Blocks {
		for _, it := range blk.Items {
			if !evm.IsDepositItem(it.Data) {
				continue
			}
			ds, err := evm.DecodeDeposits(it.Data)
			if err != nil {
				continue // the executor skips it too
			}
			for _, dep := range ds {
				l1, ok := d.deposits(dep.Nonce)
				if !ok {
					return 0, d.faultf(b, "Weft height %d credits deposit %d, which L1 has not recorded", blk.Height, dep.Nonce)
				}
				if l1.From != dep.From || l1.To != dep.To || l1.Value.Cmp(dep.Value) != 0 {
					return 0, d.faultf(b, "Weft height %d credits deposit %d as %s→%s %s wei, L1 recorded %s→%s %s wei",
						blk.Height, dep.Nonce, dep.From, dep.To, dep.Value, l1.From, l1.To, l1.Value)
				}
			}
			items += len(ds)
		}
	}
	return items, nil
}

func (d *Deriver) depositsProcessed() (uint64, error) {
	st, err := d.exec.StateAt(d.exec.Head().Root)
	if err != nil {
		return 0, fmt.Errorf("derive: open head state: %w", err)
	}
	return evm.DepositsProcessed(st), nil
}

// replay executes every height of the batch, empty ones included.
func (d *Deriver) replay(data *weftv1.BatchData, out *Checked) error {
	blocks := data.Blocks
	for h := data.FromHeight; h <= data.ToHeight; h++ {
		s := &weftv1.RollupSlice{Height: h, RollupId: d.rollupID[:]}
		if len(blocks) > 0 && blocks[0].Height == h {
			b := blocks[0]
			blocks = blocks[1:]
			s.TimeUnixNano, s.BlockHash, s.Items = b.TimeUnixNano, b.BlockHash, b.Items
		}
		before := d.exec.Head().Number.Uint64()
		if err := d.exec.Execute(s); err != nil {
			return fmt.Errorf("derive: execute Weft height %d: %w", h, err)
		}
		if head := d.exec.Head(); head.Number.Uint64() != before {
			if blk := d.exec.BlockByHash(head.Hash()); blk != nil {
				out.Txs += len(blk.Transactions())
			}
		}
	}
	return nil
}
