package settlement

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
)

// BeaconBlobSource fetches blobs from a consensus client's standard beacon
// API, GET /eth/v1/beacon/blob_sidecars/{block_id}.
//
// A BlobRef names an execution-layer block (number and hash), which is not
// a beacon block id. The beacon block that carries EL block n is found
// through the next EL block: since Cancun (EIP-4788) header n+1 records in
// ParentBeaconRoot the root of the beacon block whose payload is block n.
// So Blob reads header n+1 from L1, checks that its ParentHash is the
// ref's L1BlockHash (else block n was reorged out, or n+1 is not built yet,
// and Blob fails), and asks the beacon node for that root's sidecars. The
// sidecar whose KZG commitment has the ref's versioned hash is the blob
// (Inbox checks it again). Beacon nodes keep blobs for about 18 days
// (4096 epochs); older batches need an archive that serves the same API.
//
// Beacon nodes from Fulu (Osaka) on deprecate blob_sidecars in favour of
// /eth/v1/beacon/blobs/{block_id}; this source uses blob_sidecars only.
type BeaconBlobSource struct {
	// URL is the beacon API's base URL, e.g. http://127.0.0.1:5052.
	URL string
	// HTTP is the client to use (nil: http.DefaultClient).
	HTTP *http.Client
	// L1 gives the EL headers that map a block to its beacon block root.
	L1 HeaderReader

	mu       sync.Mutex
	lastRoot common.Hash
	last     map[common.Hash]*kzg4844.Blob // blobs of lastRoot by versioned hash
}

var _ BlobSource = (*BeaconBlobSource)(nil)

// ErrBlobNotFound is returned (wrapped) when the beacon block holds no blob
// with the versioned hash asked for.
var ErrBlobNotFound = errors.New("blob not found in the beacon block's sidecars")

// beaconSidecar is the part of a BlobSidecar (beacon API JSON) used here.
type beaconSidecar struct {
	Index         string        `json:"index"`
	Blob          hexutil.Bytes `json:"blob"`
	KZGCommitment hexutil.Bytes `json:"kzg_commitment"`
}

// Blob returns the blob ref names.
func (s *BeaconBlobSource) Blob(ctx context.Context, ref BlobRef) (*kzg4844.Blob, error) {
	if s.L1 == nil {
		return nil, errors.New("beacon blob source: no L1 header reader")
	}
	next, err := s.L1.HeaderByNumber(ctx, new(big.Int).SetUint64(ref.L1Block+1))
	if err != nil {
		return nil, fmt.Errorf("L1 header %d (to find block %d's beacon root): %w", ref.L1Block+1, ref.L1Block, err)
	}
	if next.ParentHash != ref.L1BlockHash {
		return nil, fmt.Errorf("L1 block %d is no longer %s (reorg): header %d has parent %s", ref.L1Block, ref.L1BlockHash, ref.L1Block+1, next.ParentHash)
	}
	if next.ParentBeaconRoot == nil {
		return nil, fmt.Errorf("L1 header %d has no parent beacon root (pre-Cancun)", ref.L1Block+1)
	}
	root := *next.ParentBeaconRoot

	s.mu.Lock()
	if s.lastRoot == root && s.last != nil {
		b, ok := s.last[ref.VersionedHash]
		s.mu.Unlock()
		if ok {
			return b, nil
		}
		return nil, fmt.Errorf("%w: versioned hash %s, beacon block %s (L1 block %d)", ErrBlobNotFound, ref.VersionedHash, root, ref.L1Block)
	}
	s.mu.Unlock()

	blobs, err := s.sidecars(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("blob sidecars of beacon block %s (L1 block %d): %w", root, ref.L1Block, err)
	}
	s.mu.Lock()
	s.lastRoot, s.last = root, blobs
	s.mu.Unlock()
	if b, ok := blobs[ref.VersionedHash]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%w: versioned hash %s, beacon block %s (L1 block %d)", ErrBlobNotFound, ref.VersionedHash, root, ref.L1Block)
}

// sidecars fetches the blobs of beacon block root, by versioned hash.
func (s *BeaconBlobSource) sidecars(ctx context.Context, root common.Hash) (map[common.Hash]*kzg4844.Blob, error) {
	url := strings.TrimRight(s.URL, "/") + "/eth/v1/beacon/blob_sidecars/" + root.Hex()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	hc := s.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	// A block holds at most a few dozen blobs of 128 KiB, hex-encoded.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body[:min(len(body), 300)])))
	}
	var out struct {
		Data []beaconSidecar `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("GET %s: decode: %w", url, err)
	}
	blobs := make(map[common.Hash]*kzg4844.Blob, len(out.Data))
	for _, sc := range out.Data {
		var (
			blob kzg4844.Blob
			c    kzg4844.Commitment
		)
		if len(sc.Blob) != len(blob) || len(sc.KZGCommitment) != len(c) {
			return nil, fmt.Errorf("GET %s: sidecar %s: blob of %d bytes, commitment of %d", url, sc.Index, len(sc.Blob), len(sc.KZGCommitment))
		}
		copy(blob[:], sc.Blob)
		copy(c[:], sc.KZGCommitment)
		blobs[kzg4844.CalcBlobHashV1(sha256.New(), &c)] = &blob
	}
	return blobs, nil
}
