package evm

import (
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// EncodeTxs packs transactions into one Weft RollupData item: an RLP list of
// their canonical binary encodings (tx.MarshalBinary).
func EncodeTxs(txs []*types.Transaction) ([]byte, error) {
	raw := make([][]byte, len(txs))
	for i, tx := range txs {
		b, err := tx.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("encode tx %d: %w", i, err)
		}
		raw[i] = b
	}
	return rlp.EncodeToBytes(raw)
}

// DecodeTxs is the inverse of EncodeTxs. It fails on the first element that
// does not decode; the executor instead skips such elements one by one.
func DecodeTxs(data []byte) ([]*types.Transaction, error) {
	raw, err := splitItem(data)
	if err != nil {
		return nil, err
	}
	txs := make([]*types.Transaction, len(raw))
	for i, b := range raw {
		if txs[i], err = decodeTx(b); err != nil {
			return nil, fmt.Errorf("tx %d: %w", i, err)
		}
	}
	return txs, nil
}

// splitItem returns the raw transaction encodings held by an item.
func splitItem(data []byte) ([][]byte, error) {
	var raw [][]byte
	if err := rlp.DecodeBytes(data, &raw); err != nil {
		return nil, fmt.Errorf("item is not an RLP list of byte strings: %w", err)
	}
	return raw, nil
}

func decodeTx(b []byte) (*types.Transaction, error) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return tx, nil
}

// weftHeightLen is the size of the Weft height in a header's Extra.
const weftHeightLen = 8

func encodeWeftHeight(h int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(h))
}

// WeftHeight returns the Weft height a rollup header was built from, read
// from its Extra field.
func WeftHeight(h *types.Header) (int64, bool) {
	if len(h.Extra) != weftHeightLen {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(h.Extra)), true
}
