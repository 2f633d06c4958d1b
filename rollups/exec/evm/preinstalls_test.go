package evm

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/weftnet/weft/contracts"
)

// documentedCodeHashes are the keccak256 code hashes the preinstalls must
// have, each as published outside this repository:
//   - Create2Deployer: the OP Stack's own pin (op-chain-ops
//     genesis.Create2DeployerCodeHash, op-geth's Canyon create2deployer
//     upgrade), equal to keccak256 of the code specs/protocol/preinstalls.md
//     lists.
//   - The others: the code hash of the contract's canonical Ethereum
//     mainnet deployment at the same address (extcodehash), as pinned by
//     independent public deployment checks (e.g. agglayer/e2e
//     tests/dapps/dapps.bats, which pins the OP Stack preinstalls of an OP
//     Stack chain by these hashes). The Safe singleton factory and
//     Arachnid's proxy run the same 69 bytes. Permit2's is its chain-1 code,
//     the OP Stack's template (see TestPermit2Code for other chains).
var documentedCodeHashes = map[string]common.Hash{
	"Multicall3":                   common.HexToHash("0xd5c15df687b16f2ff992fc8d767b4216323184a2bbc6ee2f9c398c318e770891"),
	"Create2Deployer":              common.HexToHash("0xb0550b5b431e30d38000efb7107aaa0ade03d48a7198a140edda9d27134468b2"),
	"SafeSingletonFactory":         common.HexToHash("0x2fa86add0aed31f33a762c9d88e807c475bd51d0f52bd0955754b2608f7e4989"),
	"DeterministicDeploymentProxy": common.HexToHash("0x2fa86add0aed31f33a762c9d88e807c475bd51d0f52bd0955754b2608f7e4989"),
	"Permit2":                      common.HexToHash("0xc67d1657868aa5146eaf24fb879fb1fdec3d2d493b3683a61c9c2f4fb2851131"),
	"SenderCreator_v070":           common.HexToHash("0x283c9d14378f5f4c4e24045b87d621d48443fa5b4af7dd7180a599b3756a7689"),
	"EntryPoint_v070":              common.HexToHash("0x8db5ff695839d655407cc8490bb7a5d82337a86a6b39c3f0258aa6c3b582fc58"),
}

// TestPreinstallCodeHashes: each preinstall's code (for chain 1, where
// Permit2's is mainnet's) has its documented hash; the beacon roots
// contract and the bridge are go-ethereum's and Weft's own.
func TestPreinstallCodeHashes(t *testing.T) {
	seen := 0
	for _, p := range Preinstalls(1) {
		switch p.Name {
		case "BeaconRoots":
			if p.Address != params.BeaconRootsAddress || !bytes.Equal(p.Code, params.BeaconRootsCode) {
				t.Errorf("beacon roots preinstall is not go-ethereum's params.BeaconRootsCode at %s", params.BeaconRootsAddress)
			}
			continue
		case "WeftL2Bridge":
			if p.Address != contracts.L2BridgeAddress || !bytes.Equal(p.Code, contracts.L2BridgeRuntime()) {
				t.Errorf("bridge preinstall is not contracts.L2BridgeRuntime at %s", contracts.L2BridgeAddress)
			}
			continue
		}
		want, ok := documentedCodeHashes[p.Name]
		if !ok {
			t.Errorf("preinstall %s has no documented code hash", p.Name)
			continue
		}
		seen++
		if got := crypto.Keccak256Hash(p.Code); got != want {
			t.Errorf("%s at %s: code hash %s, documented %s", p.Name, p.Address, got, want)
		}
	}
	if seen != len(documentedCodeHashes) {
		t.Fatalf("%d preinstalls checked, %d documented", seen, len(documentedCodeHashes))
	}
	// EntryPoint v0.7 creates its SenderCreator in its constructor (nonce
	// 1), and its code embeds that address.
	if got := crypto.CreateAddress(EntryPointV070Address, 1); got != SenderCreatorV070Address {
		t.Fatalf("EntryPoint v0.7's SenderCreator is at %s, preinstalled at %s", got, SenderCreatorV070Address)
	}
}

// TestPermit2Code checks the patching against the OP Stack's own vectors
// (packages/contracts-bedrock/test/L2/Preinstalls.t.sol) and against an
// EIP-712 domain separator computed by go-ethereum's typed-data hashing.
func TestPermit2Code(t *testing.T) {
	if !bytes.Equal(Permit2Code(1), common.FromHex(permit2TemplateCode)) {
		t.Fatal("Permit2Code(1) differs from the template (mainnet's code)")
	}
	vectors := map[uint64]string{
		1:    "0x866a5aba21966af95d6c7ab78eb2b2fc913915c28be3b9aa07cc04ff903e3f28",
		901:  "0x48deb34b39fb4b41f5c195008940d5ef510cdd7853eba5807b2fa08dfd586475",
		1234: "0x6cda538cafce36292a6ef27740629597f85f6716f5694d26d5c59fc1d07cfd95",
	}
	for id, want := range vectors {
		code := Permit2Code(id)
		if got := new(big.Int).SetBytes(code[permit2ChainIDOffset : permit2ChainIDOffset+32]); got.Uint64() != id {
			t.Errorf("chain %d: cached chain id %d", id, got)
		}
		if got := common.BytesToHash(code[permit2DomainSeparatorOffset : permit2DomainSeparatorOffset+32]); got != common.HexToHash(want) {
			t.Errorf("chain %d: cached domain separator %s, OP Stack vector %s", id, got, want)
		}
		if got := eip712Domain(t, id); got != common.HexToHash(want) {
			t.Errorf("chain %d: EIP-712 domain separator %s, OP Stack vector %s", id, got, want)
		}
		if len(code) != len(common.FromHex(permit2TemplateCode)) {
			t.Errorf("chain %d: code length changed", id)
		}
	}
}

// eip712Domain is Permit2's EIP-712 domain separator on chainID, hashed by
// go-ethereum's signer.
func eip712Domain(t testing.TB, chainID uint64) common.Hash {
	t.Helper()
	td := apitypes.TypedData{
		Types: apitypes.Types{"EIP712Domain": {
			{Name: "name", Type: "string"}, {Name: "chainId", Type: "uint256"}, {Name: "verifyingContract", Type: "address"},
		}},
		Domain: apitypes.TypedDataDomain{Name: "Permit2", ChainId: math.NewHexOrDecimal256(int64(chainID)), VerifyingContract: Permit2Address.Hex()},
	}
	h, err := td.HashStruct("EIP712Domain", td.Domain.Map())
	if err != nil {
		t.Fatal(err)
	}
	return common.BytesToHash(h)
}

// TestGenesisHoldsPreinstalls: the genesis state has every preinstall, with
// nonce 1, Permit2 patched for the rollup's chain id, unless the alloc sets
// the address, in which case the alloc's account is kept.
func TestGenesisHoldsPreinstalls(t *testing.T) {
	mine := types.Account{Code: storeRuntime, Balance: eth(1)}
	e := newExecutor(t, testConfig("", types.GenesisAlloc{Multicall3Address: mine}))
	st, err := e.StateAt(e.Head().Root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Preinstalls(testChainID) {
		code, nonce := st.GetCode(p.Address), st.GetNonce(p.Address)
		if p.Address == Multicall3Address {
			if !bytes.Equal(code, storeRuntime) || st.GetBalance(p.Address).ToBig().Cmp(eth(1)) != 0 {
				t.Errorf("alloc's account at %s replaced by the preinstall", p.Address)
			}
			continue
		}
		if !bytes.Equal(code, p.Code) || nonce != 1 {
			t.Errorf("%s at %s: %d bytes of code, nonce %d; want the preinstall's %d bytes, nonce 1", p.Name, p.Address, len(code), nonce, len(p.Code))
		}
	}
	if !bytes.Equal(st.GetCode(Permit2Address), Permit2Code(testChainID)) {
		t.Fatalf("Permit2 is not patched for chain %d", testChainID)
	}
}

// Arachnid's deterministic deployment proxy: its published pre-EIP-155
// deployment tx (keyless: r = s = 0x22…22) and the account it recovers to,
// from README.md of github.com/Arachnid/deterministic-deployment-proxy at
// b3bb19c5aa8af6d9424fd66a234116a1e8adc3bf. Gas 100000 at 100 gwei.
var (
	proxyDeployTx = common.FromHex("0xf8a58085174876e800830186a08080b853604580600e600039806000f350fe7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf31ba02222222222222222222222222222222222222222222222222222222222222222a02222222222222222222222222222222222222222222222222222222222222222")
	proxyDeployer = common.HexToAddress("0x3fab184622dc19b6109349b94811493bf2a45362")
)

// TestUnprotectedTxExecutes: the proxy's unprotected deployment tx is
// executed (sender recovered without a chain id) and every executor
// derives the same chain from it, on disk or in memory. On a rollup whose
// alloc leaves the proxy's address empty it deploys exactly the
// preinstalled code; with the preinstall there it is still included, and
// fails on the address collision as on an OP Stack chain, leaving the
// preinstall as it was.
func TestUnprotectedTxExecutes(t *testing.T) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(proxyDeployTx); err != nil {
		t.Fatal(err)
	}
	if tx.Protected() {
		t.Fatal("the proxy's deployment tx is replay-protected")
	}
	for _, preinstalled := range []bool{false, true} {
		alloc := types.GenesisAlloc{proxyDeployer: {Balance: new(big.Int).Div(ether, big.NewInt(100))}}
		if !preinstalled {
			alloc[DeterministicDeploymentProxyAddress] = types.Account{Balance: common.Big0}
		}
		disk := newExecutor(t, testConfig(t.TempDir(), alloc))
		mem := newExecutor(t, testConfig("", alloc))
		for _, e := range []*Executor{disk, mem} {
			mustExecute(t, e, slice(1, item(t, tx)))
		}
		sameChain(t, disk, mem)

		b := mem.BlockByNumber(1)
		if b == nil || b.Transactions().Len() != 1 {
			t.Fatalf("preinstalled=%v: the unprotected tx was left out: skipped %+v", preinstalled, mem.Skipped(1))
		}
		from, err := types.Sender(types.MakeSigner(mem.ChainConfig(), b.Number(), b.Time()), b.Transactions()[0])
		if err != nil || from != proxyDeployer {
			t.Fatalf("preinstalled=%v: sender %s (%v), want %s", preinstalled, from, err, proxyDeployer)
		}
		r := mem.Receipts(b.Hash())[0]
		st, err := mem.StateAt(b.Root())
		if err != nil {
			t.Fatal(err)
		}
		if st.GetNonce(proxyDeployer) != 1 {
			t.Fatalf("preinstalled=%v: deployer nonce %d, want 1", preinstalled, st.GetNonce(proxyDeployer))
		}
		code := st.GetCode(DeterministicDeploymentProxyAddress)
		if !bytes.Equal(code, common.FromHex(deterministicDeploymentProxyCode)) {
			t.Fatalf("preinstalled=%v: code at the proxy's address %x differs from the preinstall", preinstalled, code)
		}
		wantStatus := types.ReceiptStatusSuccessful
		if preinstalled {
			wantStatus = types.ReceiptStatusFailed
		}
		if r.Status != wantStatus || r.ContractAddress != DeterministicDeploymentProxyAddress {
			t.Fatalf("preinstalled=%v: receipt status %d, contract %s; want %d at %s", preinstalled, r.Status, r.ContractAddress, wantStatus, DeterministicDeploymentProxyAddress)
		}
	}
}
