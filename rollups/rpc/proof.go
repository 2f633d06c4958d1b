package rpc

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
)

// maxGetProofKeys is geth's bound on storage keys per eth_getProof.
const maxGetProofKeys = 1024

// AccountResult is eth_getProof's result (EIP-1186), as geth returns it.
type AccountResult struct {
	Address      common.Address  `json:"address"`
	AccountProof []string        `json:"accountProof"`
	Balance      *hexutil.Big    `json:"balance"`
	CodeHash     common.Hash     `json:"codeHash"`
	Nonce        hexutil.Uint64  `json:"nonce"`
	StorageHash  common.Hash     `json:"storageHash"`
	StorageProof []StorageResult `json:"storageProof"`
}

// StorageResult is one storage slot's proof.
type StorageResult struct {
	Key   string       `json:"key"`
	Value *hexutil.Big `json:"value"`
	Proof []string     `json:"proof"`
}

// proofList collects trie proof nodes as hex strings (an ethdb.KeyValueWriter).
type proofList []string

func (n *proofList) Put(key []byte, value []byte) error {
	*n = append(*n, hexutil.Encode(value))
	return nil
}

func (n *proofList) Delete(key []byte) error { panic("not supported") }

// GetProof is eth_getProof: the account and storage proofs of addr at a
// block, against its state root. Withdrawals to L1 are proved with it.
func (a *ethAPI) GetProof(addr common.Address, storageKeys []string, bnh rpc.BlockNumberOrHash) (*AccountResult, error) {
	if len(storageKeys) > maxGetProofKeys {
		return nil, fmt.Errorf("too many storage keys requested (max %d, got %d)", maxGetProofKeys, len(storageKeys))
	}
	keys := make([]common.Hash, len(storageKeys))
	for i, k := range storageKeys {
		h, err := decodeStorageKey(k)
		if err != nil {
			return nil, fmt.Errorf("%v: %q", err, k)
		}
		keys[i] = h
	}
	st, header, err := a.stateAt(bnh)
	if err != nil {
		return nil, err
	}
	return accountProof(st, header.Root, addr, keys)
}

func accountProof(st *state.StateDB, root common.Hash, addr common.Address, keys []common.Hash) (*AccountResult, error) {
	storageRoot := st.GetStorageRoot(addr)
	results := make([]StorageResult, len(keys))
	var storageTrie state.Trie
	if len(keys) > 0 && storageRoot != types.EmptyRootHash && storageRoot != (common.Hash{}) {
		tr, err := st.Database().OpenStorageTrie(root, addr, storageRoot, nil)
		if err != nil {
			return nil, err
		}
		storageTrie = tr
	}
	for i, k := range keys {
		res := StorageResult{Key: hexutil.Encode(k[:]), Value: (*hexutil.Big)(st.GetState(addr, k).Big()), Proof: []string{}}
		if storageTrie != nil {
			var proof proofList
			if err := storageTrie.Prove(crypto.Keccak256(k.Bytes()), &proof); err != nil {
				return nil, err
			}
			res.Proof = proof
		}
		results[i] = res
	}
	tr, err := st.Database().OpenTrie(root)
	if err != nil {
		return nil, err
	}
	var proof proofList
	if err := tr.Prove(crypto.Keccak256(addr.Bytes()), &proof); err != nil {
		return nil, err
	}
	return &AccountResult{
		Address:      addr,
		AccountProof: proof,
		Balance:      (*hexutil.Big)(st.GetBalance(addr).ToBig()),
		CodeHash:     st.GetCodeHash(addr),
		Nonce:        hexutil.Uint64(st.GetNonce(addr)),
		StorageHash:  storageRoot,
		StorageProof: results,
	}, st.Error()
}
