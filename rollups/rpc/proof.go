package rpc

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/weftnet/weft/rollups/settlement"
)

// maxGetProofKeys is geth's bound on storage keys per eth_getProof.
const maxGetProofKeys = 1024

// GetProof is eth_getProof (EIP-1186): the account and storage proofs of
// addr at a block, against its state root, in geth's format. Withdrawals
// to L1 are proved with it.
func (a *ethAPI) GetProof(addr common.Address, storageKeys []string, bnh rpc.BlockNumberOrHash) (*settlement.AccountProof, error) {
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
	return settlement.ProofFromState(st.Database(), header.Root, addr, keys)
}
