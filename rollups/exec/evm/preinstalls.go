package evm

// The bytecode is in preinstalls_gen.go, which gen_preinstalls.go copies
// from the OP Stack's Preinstalls.sol (repository, path and commit in its
// header); preinstalls_test.go checks every code hash.

import (
	"encoding/binary"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"github.com/weftnet/weft/contracts"
)

// GenesisRevision numbers what this weft puts in every EVM rollup's genesis
// besides the configured alloc. It changes whenever that changes, and with
// it every rollup's genesis hash: a rollup database (or a devnet) made with
// another revision cannot be resumed. Revision 1 added the OP Stack
// preinstalls (Preinstalls) to the beacon roots contract and the L2 bridge.
const GenesisRevision = 1

// Addresses of the OP Stack preinstalls, as in the OP Stack's
// Preinstalls.sol and specs/protocol/preinstalls.md.
var (
	Multicall3Address                   = common.HexToAddress("0xcA11bde05977b3631167028862bE2a173976CA11")
	Create2DeployerAddress              = common.HexToAddress("0x13b0D85CcB8bf860b6b79AF3029fCA081AE9beF2")
	SafeSingletonFactoryAddress         = common.HexToAddress("0x914d7Fec6aaC8cd542e72Bca78B30650d45643d7")
	DeterministicDeploymentProxyAddress = common.HexToAddress("0x4e59b44847b379578588920cA78FbF26c0B4956C")
	Permit2Address                      = common.HexToAddress("0x000000000022D473030F116dDEE9F6B43aC78BA3")
	SenderCreatorV070Address            = common.HexToAddress("0xEFC2c1444eBCC4Db75e7613d20C6a62fF67A167C")
	EntryPointV070Address               = common.HexToAddress("0x0000000071727De22E5E9d8BAf0edAc6f37da032")
)

// Offsets of Permit2's two immutables in its runtime code (the
// _CACHED_CHAIN_ID and _CACHED_DOMAIN_SEPARATOR words), where
// Preinstalls.getPermit2Code writes the chain's values.
const (
	permit2ChainIDOffset         = 6945
	permit2DomainSeparatorOffset = 6983
)

// Preinstall is a contract every EVM rollup's genesis holds.
type Preinstall struct {
	Name    string
	Address common.Address
	// Code is the runtime code for the chain it was made for.
	Code []byte
}

// Preinstalls returns the contracts every EVM rollup of chain id chainID
// holds at genesis unless its alloc sets the address: the OP Stack's
// preinstalls (with the OP Stack's bytecode, Permit2's patched for
// chainID), go-ethereum's EIP-4788 beacon roots contract and Weft's L2
// bridge. Each has nonce 1, as the OP Stack sets them.
func Preinstalls(chainID uint64) []Preinstall {
	return []Preinstall{
		{"Multicall3", Multicall3Address, common.FromHex(multicall3Code)},
		{"Create2Deployer", Create2DeployerAddress, common.FromHex(create2DeployerCode)},
		{"SafeSingletonFactory", SafeSingletonFactoryAddress, common.FromHex(safeSingletonFactoryCode)},
		{"DeterministicDeploymentProxy", DeterministicDeploymentProxyAddress, common.FromHex(deterministicDeploymentProxyCode)},
		{"Permit2", Permit2Address, Permit2Code(chainID)},
		{"SenderCreator_v070", SenderCreatorV070Address, common.FromHex(senderCreatorV070Code)},
		{"EntryPoint_v070", EntryPointV070Address, common.FromHex(entryPointV070Code)},
		{"BeaconRoots", params.BeaconRootsAddress, params.BeaconRootsCode},
		{"WeftL2Bridge", contracts.L2BridgeAddress, contracts.L2BridgeRuntime()},
	}
}

// Permit2Code is Permit2's runtime code for chain id chainID: Ethereum
// mainnet's, with its cached chain id and EIP-712 domain separator
// replaced as the OP Stack's Preinstalls.getPermit2Code does, so that
// DOMAIN_SEPARATOR() is right without recomputing it on each call.
func Permit2Code(chainID uint64) []byte {
	code := common.FromHex(permit2TemplateCode)
	id := make([]byte, 32)
	binary.BigEndian.PutUint64(id[24:], chainID)
	copy(code[permit2ChainIDOffset:], id)
	ds := Permit2DomainSeparator(chainID)
	copy(code[permit2DomainSeparatorOffset:], ds[:])
	return code
}

// Permit2DomainSeparator is the EIP-712 domain separator of Permit2 on
// chain id chainID: keccak256(abi.encode(typeHash, keccak256("Permit2"),
// chainID, Permit2Address)).
func Permit2DomainSeparator(chainID uint64) common.Hash {
	typeHash := crypto.Keccak256([]byte("EIP712Domain(string name,uint256 chainId,address verifyingContract)"))
	nameHash := crypto.Keccak256([]byte("Permit2"))
	enc := make([]byte, 0, 4*32)
	enc = append(enc, typeHash...)
	enc = append(enc, nameHash...)
	enc = append(enc, common.BigToHash(new(big.Int).SetUint64(chainID)).Bytes()...)
	enc = append(enc, common.BytesToHash(Permit2Address.Bytes()).Bytes()...)
	return crypto.Keccak256Hash(enc)
}

// addPreinstalls adds to alloc each preinstall of chainID whose address it
// does not set.
func addPreinstalls(alloc types.GenesisAlloc, chainID uint64) {
	for _, p := range Preinstalls(chainID) {
		if _, ok := alloc[p.Address]; !ok {
			alloc[p.Address] = types.Account{Nonce: 1, Code: p.Code, Balance: common.Big0}
		}
	}
}
