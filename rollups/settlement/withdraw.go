package settlement

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb/memorydb"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/trie"

	"github.com/weftnet/weft/contracts"
	"github.com/weftnet/weft/rollups/txmgr"
)

// Withdrawal is a withdrawal initiated on a rollup through WeftL2Bridge.
type Withdrawal struct {
	Nonce *big.Int
	From  common.Address
	To    common.Address
	Value *big.Int
}

// Hash is keccak256(abi.encode(nonce, from, to, value)), the key the bridge
// marks and the inbox proves.
func (w Withdrawal) Hash() common.Hash {
	var buf [128]byte
	w.Nonce.FillBytes(buf[0:32])
	copy(buf[44:64], w.From[:])
	copy(buf[76:96], w.To[:])
	w.Value.FillBytes(buf[96:128])
	return crypto.Keccak256Hash(buf[:])
}

// WithdrawalSlot is the bridge storage slot of sentWithdrawals[hash]:
// keccak256(abi.encode(hash, uint256(0))) by Solidity's mapping layout.
func WithdrawalSlot(withdrawalHash common.Hash) common.Hash {
	return crypto.Keccak256Hash(withdrawalHash[:], contracts.L2BridgeWithdrawalsSlot[:])
}

// StorageProof is one slot of an eth_getProof answer.
type StorageProof struct {
	Key   common.Hash     `json:"key"`
	Value *hexutil.Big    `json:"value"`
	Proof []hexutil.Bytes `json:"proof"`
}

// AccountProof is an eth_getProof answer (EIP-1186), JSON-compatible with
// geth's: a rollup RPC can return it as is.
type AccountProof struct {
	Address      common.Address  `json:"address"`
	AccountProof []hexutil.Bytes `json:"accountProof"`
	Balance      *hexutil.Big    `json:"balance"`
	CodeHash     common.Hash     `json:"codeHash"`
	Nonce        hexutil.Uint64  `json:"nonce"`
	StorageHash  common.Hash     `json:"storageHash"`
	StorageProof []StorageProof  `json:"storageProof"`
}

type proofList []hexutil.Bytes

func (p *proofList) Put(_ []byte, value []byte) error {
	*p = append(*p, bytes.Clone(value))
	return nil
}

func (p *proofList) Delete([]byte) error { return errors.New("proofList: delete not supported") }

// ProofFromState builds the eth_getProof answer for addr and slots in the
// state with the given root, as geth's eth_getProof does
// (internal/ethapi.GetProof): account proof = state trie path to
// keccak(addr), storage proofs = storage trie paths to keccak(slot).
func ProofFromState(db state.Database, root common.Hash, addr common.Address, slots []common.Hash) (*AccountProof, error) {
	sdb, err := state.New(root, db)
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", root, err)
	}
	storageRoot := sdb.GetStorageRoot(addr)
	res := &AccountProof{
		Address:     addr,
		Balance:     (*hexutil.Big)(sdb.GetBalance(addr).ToBig()),
		CodeHash:    sdb.GetCodeHash(addr),
		Nonce:       hexutil.Uint64(sdb.GetNonce(addr)),
		StorageHash: storageRoot,
	}
	if len(slots) > 0 {
		var st state.Trie
		if storageRoot != types.EmptyRootHash && storageRoot != (common.Hash{}) {
			if st, err = db.OpenStorageTrie(root, addr, storageRoot, nil); err != nil {
				return nil, fmt.Errorf("open storage trie of %s: %w", addr, err)
			}
		}
		for _, slot := range slots {
			sp := StorageProof{Key: slot, Value: (*hexutil.Big)(new(big.Int)), Proof: []hexutil.Bytes{}}
			if st != nil {
				var p proofList
				if err := st.Prove(crypto.Keccak256(slot[:]), &p); err != nil {
					return nil, fmt.Errorf("prove slot %s of %s: %w", slot, addr, err)
				}
				sp.Proof = p
				sp.Value = (*hexutil.Big)(sdb.GetState(addr, slot).Big())
			}
			res.StorageProof = append(res.StorageProof, sp)
		}
	}
	tr, err := db.OpenTrie(root)
	if err != nil {
		return nil, fmt.Errorf("open state trie %s: %w", root, err)
	}
	var p proofList
	if err := tr.Prove(crypto.Keccak256(addr[:]), &p); err != nil {
		return nil, fmt.Errorf("prove account %s: %w", addr, err)
	}
	res.AccountProof = p
	return res, sdb.Error()
}

// GetProof calls eth_getProof on an Ethereum JSON-RPC endpoint (the
// rollup's); block nil means latest.
func GetProof(ctx context.Context, c *rpc.Client, addr common.Address, slots []common.Hash, block *big.Int) (*AccountProof, error) {
	blockArg := "latest"
	if block != nil {
		blockArg = hexutil.EncodeBig(block)
	}
	if slots == nil {
		slots = []common.Hash{}
	}
	var res AccountProof
	if err := c.CallContext(ctx, &res, "eth_getProof", addr, slots, blockArg); err != nil {
		return nil, fmt.Errorf("eth_getProof %s: %w", addr, err)
	}
	return &res, nil
}

// WithdrawalProof is everything WeftInbox.finalizeWithdrawal takes.
type WithdrawalProof struct {
	BatchIndex   uint64
	StateRoot    common.Hash
	Withdrawal   Withdrawal
	AccountProof [][]byte
	StorageProof [][]byte
}

// ProveWithdrawal fetches the bridge's proof for w from the rollup's
// eth_getProof at the rollup block whose state root is stateRoot (the root
// of final batch batchIndex) and checks it locally, so a wrong block or an
// unknown withdrawal fails here rather than as an L1 revert.
func ProveWithdrawal(ctx context.Context, rollup *rpc.Client, batchIndex uint64, block *big.Int, stateRoot common.Hash, w Withdrawal) (*WithdrawalProof, error) {
	ap, err := GetProof(ctx, rollup, contracts.L2BridgeAddress, []common.Hash{WithdrawalSlot(w.Hash())}, block)
	if err != nil {
		return nil, err
	}
	return NewWithdrawalProof(batchIndex, stateRoot, w, ap)
}

// NewWithdrawalProof packages an eth_getProof answer for the bridge as a
// WithdrawalProof after verifying it against stateRoot.
func NewWithdrawalProof(batchIndex uint64, stateRoot common.Hash, w Withdrawal, ap *AccountProof) (*WithdrawalProof, error) {
	slot := WithdrawalSlot(w.Hash())
	if ap.Address != contracts.L2BridgeAddress {
		return nil, fmt.Errorf("proof is for %s, not the bridge %s", ap.Address, contracts.L2BridgeAddress)
	}
	if len(ap.StorageProof) != 1 || ap.StorageProof[0].Key != slot {
		return nil, fmt.Errorf("proof does not cover withdrawal slot %s", slot)
	}
	p := &WithdrawalProof{
		BatchIndex:   batchIndex,
		StateRoot:    stateRoot,
		Withdrawal:   w,
		AccountProof: toBytes(ap.AccountProof),
		StorageProof: toBytes(ap.StorageProof[0].Proof),
	}
	if err := p.Verify(); err != nil {
		return nil, err
	}
	return p, nil
}

func toBytes(in []hexutil.Bytes) [][]byte {
	out := make([][]byte, len(in))
	for i, b := range in {
		out[i] = b
	}
	return out
}

func proofDB(nodes [][]byte) *memorydb.Database {
	db := memorydb.New()
	for _, n := range nodes {
		db.Put(crypto.Keccak256(n), n)
	}
	return db
}

// Verify checks the proof as the inbox will: the bridge account is in the
// state trie under StateRoot and its storage holds 1 at the withdrawal slot.
func (p *WithdrawalProof) Verify() error {
	acc, err := trie.VerifyProof(p.StateRoot, crypto.Keccak256(contracts.L2BridgeAddress[:]), proofDB(p.AccountProof))
	if err != nil {
		return fmt.Errorf("bridge account proof: %w", err)
	}
	if len(acc) == 0 {
		return fmt.Errorf("bridge account not in state %s", p.StateRoot)
	}
	var account types.StateAccount
	if err := rlp.DecodeBytes(acc, &account); err != nil {
		return fmt.Errorf("bridge account: %w", err)
	}
	h := p.Withdrawal.Hash()
	val, err := trie.VerifyProof(account.Root, crypto.Keccak256(WithdrawalSlot(h).Bytes()), proofDB(p.StorageProof))
	if err != nil {
		return fmt.Errorf("withdrawal %s storage proof: %w", h, err)
	}
	var v big.Int
	if len(val) > 0 {
		var content []byte
		if err := rlp.DecodeBytes(val, &content); err != nil {
			return fmt.Errorf("withdrawal %s slot value: %w", h, err)
		}
		v.SetBytes(content)
	}
	if v.Cmp(common.Big1) != 0 {
		return fmt.Errorf("withdrawal %s not sent in state %s (slot value %v)", h, p.StateRoot, &v)
	}
	return nil
}

// PackFinalizeWithdrawal is the calldata of inbox.finalizeWithdrawal for p.
func PackFinalizeWithdrawal(p *WithdrawalProof) []byte {
	w := p.Withdrawal
	return inboxABI.PackFinalizeWithdrawal(p.BatchIndex, w.Nonce, w.From, w.To, w.Value, p.AccountProof, p.StorageProof)
}

// FinalizeWithdrawal sends inbox.finalizeWithdrawal(p) with s and waits
// until it is mined (fee bumps while it waits). Reverts found by gas
// estimation come back as *ContractError (BatchNotFinal,
// WithdrawalAlreadyFinalized, …) before anything is sent; a mined tx that
// reverted is an error too.
func FinalizeWithdrawal(ctx context.Context, s *txmgr.Sender, inbox common.Address, p *WithdrawalProof) (*txmgr.Sent, error) {
	out, err := s.Send(ctx, txmgr.Call{To: inbox, Data: PackFinalizeWithdrawal(p)})
	if err != nil {
		return nil, fmt.Errorf("finalize withdrawal %s: %w", p.Withdrawal.Hash(), DecodeRevert(err))
	}
	if out.Receipt.Status != types.ReceiptStatusSuccessful {
		return out, fmt.Errorf("finalizeWithdrawal tx %s reverted in L1 block %d", out.Tx.Hash(), out.Receipt.BlockNumber)
	}
	return out, nil
}
