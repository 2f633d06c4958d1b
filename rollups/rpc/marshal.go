package rpc

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
)

// marshalHeader renders a header as eth_getBlockBy* does.
func marshalHeader(h *types.Header) map[string]any {
	m := map[string]any{
		"number":           (*hexutil.Big)(h.Number),
		"hash":             h.Hash(),
		"parentHash":       h.ParentHash,
		"nonce":            h.Nonce,
		"mixHash":          h.MixDigest,
		"sha3Uncles":       h.UncleHash,
		"logsBloom":        h.Bloom,
		"stateRoot":        h.Root,
		"miner":            h.Coinbase,
		"difficulty":       (*hexutil.Big)(h.Difficulty),
		"totalDifficulty":  (*hexutil.Big)(new(big.Int)),
		"extraData":        hexutil.Bytes(h.Extra),
		"gasLimit":         hexutil.Uint64(h.GasLimit),
		"gasUsed":          hexutil.Uint64(h.GasUsed),
		"timestamp":        hexutil.Uint64(h.Time),
		"transactionsRoot": h.TxHash,
		"receiptsRoot":     h.ReceiptHash,
	}
	if h.BaseFee != nil {
		m["baseFeePerGas"] = (*hexutil.Big)(h.BaseFee)
	}
	if h.WithdrawalsHash != nil {
		m["withdrawalsRoot"] = h.WithdrawalsHash
	}
	if h.BlobGasUsed != nil {
		m["blobGasUsed"] = hexutil.Uint64(*h.BlobGasUsed)
	}
	if h.ExcessBlobGas != nil {
		m["excessBlobGas"] = hexutil.Uint64(*h.ExcessBlobGas)
	}
	if h.ParentBeaconRoot != nil {
		m["parentBeaconBlockRoot"] = h.ParentBeaconRoot
	}
	return m
}

// marshalBlock renders a block; txs as hashes or full objects.
func marshalBlock(b *types.Block, full bool, cfg *params.ChainConfig) map[string]any {
	m := marshalHeader(b.Header())
	m["size"] = hexutil.Uint64(b.Size())
	m["uncles"] = []common.Hash{}
	txs := b.Transactions()
	out := make([]any, len(txs))
	for i, tx := range txs {
		if full {
			out[i] = marshalTx(tx, b.Hash(), b.NumberU64(), b.Time(), uint64(i), b.BaseFee(), cfg)
		} else {
			out[i] = tx.Hash()
		}
	}
	m["transactions"] = out
	if b.Withdrawals() != nil {
		m["withdrawals"] = b.Withdrawals()
	}
	return m
}

// rpcTx is the JSON form of a transaction.
type rpcTx struct {
	BlockHash           *common.Hash      `json:"blockHash"`
	BlockNumber         *hexutil.Big      `json:"blockNumber"`
	From                common.Address    `json:"from"`
	Gas                 hexutil.Uint64    `json:"gas"`
	GasPrice            *hexutil.Big      `json:"gasPrice"`
	GasFeeCap           *hexutil.Big      `json:"maxFeePerGas,omitempty"`
	GasTipCap           *hexutil.Big      `json:"maxPriorityFeePerGas,omitempty"`
	Hash                common.Hash       `json:"hash"`
	Input               hexutil.Bytes     `json:"input"`
	Nonce               hexutil.Uint64    `json:"nonce"`
	To                  *common.Address   `json:"to"`
	TransactionIndex    *hexutil.Uint64   `json:"transactionIndex"`
	Value               *hexutil.Big      `json:"value"`
	Type                hexutil.Uint64    `json:"type"`
	Accesses            *types.AccessList `json:"accessList,omitempty"`
	ChainID             *hexutil.Big      `json:"chainId,omitempty"`
	V                   *hexutil.Big      `json:"v"`
	R                   *hexutil.Big      `json:"r"`
	S                   *hexutil.Big      `json:"s"`
	YParity             *hexutil.Uint64   `json:"yParity,omitempty"`
	BlobVersionedHashes []common.Hash     `json:"blobVersionedHashes,omitempty"`
}

// marshalTx renders tx; blockHash zero means not yet in a block.
func marshalTx(tx *types.Transaction, blockHash common.Hash, number, blockTime, index uint64, baseFee *big.Int, cfg *params.ChainConfig) *rpcTx {
	signer := types.MakeSigner(cfg, new(big.Int).SetUint64(number), blockTime)
	from, _ := types.Sender(signer, tx)
	v, r, s := tx.RawSignatureValues()
	out := &rpcTx{
		From: from, Gas: hexutil.Uint64(tx.Gas()), GasPrice: (*hexutil.Big)(tx.GasPrice()),
		Hash: tx.Hash(), Input: tx.Data(), Nonce: hexutil.Uint64(tx.Nonce()), To: tx.To(),
		Value: (*hexutil.Big)(tx.Value()), Type: hexutil.Uint64(tx.Type()),
		V: (*hexutil.Big)(v), R: (*hexutil.Big)(r), S: (*hexutil.Big)(s),
	}
	if blockHash != (common.Hash{}) {
		out.BlockHash = &blockHash
		out.BlockNumber = (*hexutil.Big)(new(big.Int).SetUint64(number))
		idx := hexutil.Uint64(index)
		out.TransactionIndex = &idx
	}
	if tx.Type() != types.LegacyTxType {
		al := tx.AccessList()
		out.Accesses = &al
		out.ChainID = (*hexutil.Big)(tx.ChainId())
		yp := hexutil.Uint64(v.Uint64())
		out.YParity = &yp
	} else if tx.Protected() {
		out.ChainID = (*hexutil.Big)(tx.ChainId())
	}
	if tx.Type() >= types.DynamicFeeTxType {
		out.GasFeeCap = (*hexutil.Big)(tx.GasFeeCap())
		out.GasTipCap = (*hexutil.Big)(tx.GasTipCap())
		if baseFee != nil && blockHash != (common.Hash{}) {
			out.GasPrice = (*hexutil.Big)(effectiveGasPrice(tx, baseFee))
		} else {
			out.GasPrice = (*hexutil.Big)(tx.GasFeeCap())
		}
	}
	out.BlobVersionedHashes = tx.BlobHashes()
	return out
}

func effectiveGasPrice(tx *types.Transaction, baseFee *big.Int) *big.Int {
	if baseFee == nil {
		return tx.GasPrice()
	}
	tip := tx.EffectiveGasTipValue(baseFee)
	return new(big.Int).Add(tip, baseFee)
}

// marshalReceipt renders a receipt of tx (index i of its block).
func marshalReceipt(r *types.Receipt, tx *types.Transaction, from common.Address, baseFee *big.Int) map[string]any {
	m := map[string]any{
		"blockHash":         r.BlockHash,
		"blockNumber":       hexutil.Uint64(r.BlockNumber.Uint64()),
		"transactionHash":   r.TxHash,
		"transactionIndex":  hexutil.Uint64(r.TransactionIndex),
		"from":              from,
		"to":                tx.To(),
		"gasUsed":           hexutil.Uint64(r.GasUsed),
		"cumulativeGasUsed": hexutil.Uint64(r.CumulativeGasUsed),
		"contractAddress":   nil,
		"logs":              r.Logs,
		"logsBloom":         r.Bloom,
		"type":              hexutil.Uint(tx.Type()),
		"status":            hexutil.Uint(r.Status),
		"effectiveGasPrice": (*hexutil.Big)(r.EffectiveGasPrice),
	}
	if r.EffectiveGasPrice == nil {
		m["effectiveGasPrice"] = (*hexutil.Big)(effectiveGasPrice(tx, baseFee))
	}
	if r.Logs == nil {
		m["logs"] = []*types.Log{}
	}
	if r.ContractAddress != (common.Address{}) {
		m["contractAddress"] = r.ContractAddress
	}
	return m
}
