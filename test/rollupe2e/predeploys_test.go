package rollupe2e

import (
	"bytes"
	"encoding/json"
	"math/big"
	"os/exec"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/test/e2e/nettest"
)

// checkEthersPredeploys has ethers.js (node at nodeJS, package in dir) use
// alpha's genesis predeploys on node0 of n, which admits unprotected txs
// (weft testnet --allow-unprotected-txs): Multicall3's aggregate3,
// Permit2's DOMAIN_SEPARATOR(), the deterministic deployment proxy's
// published pre-EIP-155 deployment tx (included, failing on the
// preinstalled proxy), a CREATE2 deployment through the proxy, the
// EntryPoint v0.7's code.
func checkEthersPredeploys(t *testing.T, n *network, nodeJS, dir string) {
	t.Helper()
	ctx := ctxFor(t, 2*time.Minute)
	key := nettest.DevKey(t, 7)
	cmd := exec.CommandContext(ctx, nodeJS, "predeploys.mjs", n.rollupRPC["node0/alpha"], hexutil.Encode(crypto.FromECDSA(key)))
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node predeploys.mjs: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}
	var res struct {
		Multicall []struct {
			Success    bool          `json:"success"`
			ReturnData hexutil.Bytes `json:"returnData"`
		} `json:"multicall"`
		DomainSeparator    common.Hash    `json:"domainSeparator"`
		DeployHash         common.Hash    `json:"deployHash"`
		DeployFrom         common.Address `json:"deployFrom"`
		DeployStatus       int            `json:"deployStatus"`
		Create2Status      int            `json:"create2Status"`
		Predicted          common.Address `json:"predicted"`
		PredictedCode      hexutil.Bytes  `json:"predictedCode"`
		EntryPointCodeHash common.Hash    `json:"entryPointCodeHash"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &res); err != nil {
		t.Fatalf("predeploys.mjs output %q: %v", out, err)
	}
	t.Logf("ethers.js: %s", bytes.TrimSpace(out))
	wantDS := evm.Permit2DomainSeparator(alphaChainID.Uint64())
	m := res.Multicall
	if len(m) != 3 || !m[0].Success || !m[1].Success || m[2].Success ||
		new(big.Int).SetBytes(m[0].ReturnData).Cmp(alphaChainID) != 0 || common.BytesToHash(m[1].ReturnData) != wantDS {
		t.Fatalf("aggregate3 through ethers: %+v; want chain id %s, domain separator %s, one allowed failure", m, alphaChainID, wantDS)
	}
	if res.DomainSeparator != wantDS {
		t.Fatalf("Permit2 DOMAIN_SEPARATOR() %s, want %s", res.DomainSeparator, wantDS)
	}
	if res.DeployFrom != common.HexToAddress("0x3fab184622dc19b6109349b94811493bf2a45362") || res.DeployStatus != 0 {
		t.Fatalf("proxy deployment tx from %s, status %d; want Arachnid's deployer, failed on the preinstalled proxy", res.DeployFrom, res.DeployStatus)
	}
	if res.Create2Status != 1 || !bytes.Equal(res.PredictedCode, common.FromHex("602a60005260206000f3")) {
		t.Fatalf("CREATE2 through the proxy: status %d, code at %s %x", res.Create2Status, res.Predicted, res.PredictedCode)
	}
	if res.EntryPointCodeHash != common.HexToHash("0x8db5ff695839d655407cc8490bb7a5d82337a86a6b39c3f0258aa6c3b582fc58") {
		t.Fatalf("EntryPoint v0.7 code hash %s", res.EntryPointCodeHash)
	}
	// What ethers saw is what the chain holds.
	alpha := n.eth("node0/alpha")
	if r, err := alpha.TransactionReceipt(ctx, res.DeployHash); err != nil || r.Status != 0 {
		t.Fatalf("receipt of the proxy deployment tx: %+v, %v", r, err)
	}
}
