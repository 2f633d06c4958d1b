package evm

import (
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/rlp"
)

// Keys of our own records. The prefix is spelled out, like go-ethereum's
// "ethereum-config-", so it cannot meet rawdb's one-letter prefixes.
var (
	lastWeftHeightKey = []byte("weft-exec-last-weft-height")
	skippedPrefix     = []byte("weft-exec-skipped-") // + block number (8 bytes BE) -> RLP([]SkippedTx)
)

// SkippedTx is a transaction left out of a block, with why.
type SkippedTx struct {
	// Hash is the transaction hash, or keccak256 of the bytes that did not
	// decode as a transaction (the whole item data when the item itself is
	// not an RLP list).
	Hash common.Hash
	// WeftTx is the hash of the Weft transaction that carried the item.
	WeftTx []byte
	// Reason is the error that excluded it.
	Reason string
}

func skippedKey(number uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), skippedPrefix...), number)
}

func writeSkipped(w ethdb.KeyValueWriter, number uint64, skipped []SkippedTx) error {
	if len(skipped) == 0 {
		return nil
	}
	b, err := rlp.EncodeToBytes(skipped)
	if err != nil {
		return fmt.Errorf("encode skipped txs: %w", err)
	}
	return w.Put(skippedKey(number), b)
}

func readSkipped(r ethdb.KeyValueReader, number uint64) ([]SkippedTx, error) {
	key := skippedKey(number)
	if ok, err := r.Has(key); err != nil || !ok {
		return nil, err // absent: nothing was skipped
	}
	b, err := r.Get(key)
	if err != nil {
		return nil, err
	}
	var out []SkippedTx
	if err := rlp.DecodeBytes(b, &out); err != nil {
		return nil, fmt.Errorf("decode skipped txs of block %d: %w", number, err)
	}
	return out, nil
}

func writeLastWeftHeight(w ethdb.KeyValueWriter, h int64) error {
	return w.Put(lastWeftHeightKey, encodeWeftHeight(h))
}

// readLastWeftHeight returns the stored height and whether one was stored.
func readLastWeftHeight(r ethdb.KeyValueReader) (int64, bool, error) {
	ok, err := r.Has(lastWeftHeightKey)
	if err != nil || !ok {
		return 0, false, err
	}
	b, err := r.Get(lastWeftHeightKey)
	if err != nil {
		return 0, false, err
	}
	if len(b) != weftHeightLen {
		return 0, false, fmt.Errorf("last Weft height record has %d bytes, want %d", len(b), weftHeightLen)
	}
	return int64(binary.BigEndian.Uint64(b)), true, nil
}
