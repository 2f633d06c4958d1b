package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
)

// fakeBeacon serves GET /eth/v1/beacon/blob_sidecars/{block_id} in the
// standard JSON shape for the blocks it knows. It is a fake because no
// beacon node can run here: the embedded L1 is geth's simulated backend,
// whose simulated beacon has no beacon API (and records a zero parent
// beacon root in every header). The execution side is the real embedded L1.
type fakeBeacon struct {
	mu       sync.Mutex
	blocks   map[string][]kzg4844.Blob // block id → blobs
	requests []string
}

// set serves blobs for block id (nil: forget the block).
func (f *fakeBeacon) set(id string, blobs []kzg4844.Blob) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if blobs == nil {
		delete(f.blocks, id)
		return
	}
	f.blocks[id] = blobs
}

func (f *fakeBeacon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.URL.Path)
	id, ok := strings.CutPrefix(r.URL.Path, "/eth/v1/beacon/blob_sidecars/")
	blobs, known := f.blocks[id]
	if r.Method != http.MethodGet || !ok || !known {
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprintf(w, `{"code":404,"message":"NOT_FOUND: beacon block at %s"}`, id)
		return
	}
	type header struct {
		Slot          string `json:"slot"`
		ProposerIndex string `json:"proposer_index"`
		ParentRoot    string `json:"parent_root"`
		StateRoot     string `json:"state_root"`
		BodyRoot      string `json:"body_root"`
	}
	type sidecar struct {
		Index             string        `json:"index"`
		Blob              hexutil.Bytes `json:"blob"`
		KZGCommitment     hexutil.Bytes `json:"kzg_commitment"`
		KZGProof          hexutil.Bytes `json:"kzg_proof"`
		SignedBlockHeader struct {
			Message   header        `json:"message"`
			Signature hexutil.Bytes `json:"signature"`
		} `json:"signed_block_header"`
		InclusionProof []common.Hash `json:"kzg_commitment_inclusion_proof"`
	}
	out := struct {
		Version             string    `json:"version"`
		ExecutionOptimistic bool      `json:"execution_optimistic"`
		Finalized           bool      `json:"finalized"`
		Data                []sidecar `json:"data"`
	}{Version: "deneb"}
	for i := range blobs {
		c, err := kzg4844.BlobToCommitment(&blobs[i])
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		sc := sidecar{Index: fmt.Sprint(i), Blob: blobs[i][:], KZGCommitment: c[:], KZGProof: make([]byte, 48), InclusionProof: make([]common.Hash, 17)}
		sc.SignedBlockHeader.Message = header{Slot: "1", ProposerIndex: "0", ParentRoot: common.Hash{}.Hex(), StateRoot: common.Hash{}.Hex(), BodyRoot: common.Hash{}.Hex()}
		sc.SignedBlockHeader.Signature = make([]byte, 96)
		out.Data = append(out.Data, sc)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func TestBeaconBlobSource(t *testing.T) {
	l1 := newL1(t, L1Config{})
	ctx := context.Background()
	d := deploy(t, l1, testSpec("alpha", 60))
	c := l1.Client()
	in := NewInbox(c, d.Rollups[0].Inbox, WithFromBlock(d.Rollups[0].InboxBlock))
	blobs := testBlobs(2)
	hashes, r := postBlobBatch(t, l1, in, 0, 10, 19, common.HexToHash("0xb10b"), blobs)
	n := r.BlockNumber.Uint64()

	beacon := &fakeBeacon{blocks: map[string][]kzg4844.Blob{}}
	srv := httptest.NewServer(beacon)
	defer srv.Close()
	src := &BeaconBlobSource{URL: srv.URL + "/", HTTP: srv.Client(), L1: c}
	ref := BlobRef{L1Block: n, L1BlockHash: r.BlockHash, TxHash: r.TxHash, VersionedHash: hashes[1]}

	// The blob's block is the head: its beacon root is not known yet.
	if _, err := src.Blob(ctx, ref); err == nil {
		t.Fatal("got a blob for the head block, whose beacon root no header records yet")
	}
	l1.Commit()
	next, err := c.HeaderByNumber(ctx, new(big.Int).SetUint64(n+1))
	if err != nil {
		t.Fatal(err)
	}
	root := next.ParentBeaconRoot.Hex()
	// Another beacon block's blobs are not taken for these.
	beacon.set(common.Hash{1}.Hex(), blobs)
	beacon.set(root, testBlobs(3)[2:])
	if _, err := src.Blob(ctx, ref); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("blob missing from the sidecars: %v, want ErrBlobNotFound", err)
	}
	beacon.set(root, blobs)
	src = &BeaconBlobSource{URL: srv.URL, L1: c} // fresh cache, default HTTP client

	bs, err := in.With(WithBlobSource(src)).Batches(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || len(bs[0].Frames) != 2 {
		t.Fatalf("batches: %+v", bs)
	}
	for i, f := range bs[0].Frames {
		if !f.Blob || f.Hash != hashes[i] || string(f.Data) != string(blobs[i][:]) {
			t.Fatalf("frame %d: blob %v hash %s, %d bytes", i, f.Blob, f.Hash, len(f.Data))
		}
	}
	beacon.mu.Lock()
	reqs := beacon.requests
	beacon.mu.Unlock()
	if want := "/eth/v1/beacon/blob_sidecars/" + root; reqs[len(reqs)-1] != want || len(reqs) != 2 {
		t.Fatalf("beacon requests %q, want the second to be %s (once for both blobs)", reqs, want)
	}

	// A ref to a block the chain no longer has (a reorg) is refused.
	stale := ref
	stale.L1BlockHash[0] ^= 1
	if _, err := src.Blob(ctx, stale); err == nil || !strings.Contains(err.Error(), "reorg") {
		t.Fatalf("stale block hash: %v", err)
	}
	// Errors from the beacon node come back with its message.
	beacon.set(root, nil)
	src = &BeaconBlobSource{URL: srv.URL, L1: c}
	if _, err := src.Blob(ctx, ref); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("beacon 404: %v", err)
	}
}
