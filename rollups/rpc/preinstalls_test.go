package rpc_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/rollups/rpc"
)

// Arachnid's deterministic deployment proxy: its published pre-EIP-155
// deployment tx and the keyless account it recovers to, from README.md of
// github.com/Arachnid/deterministic-deployment-proxy at
// b3bb19c5aa8af6d9424fd66a234116a1e8adc3bf (gas 100000 at 100 gwei).
var (
	proxyDeployTx = common.FromHex("0xf8a58085174876e800830186a08080b853604580600e600039806000f350fe7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf31ba02222222222222222222222222222222222222222222222222222222222222222a02222222222222222222222222222222222222222222222222222222222222222")
	proxyDeployer = common.HexToAddress("0x3fab184622dc19b6109349b94811493bf2a45362")
)

// multicall3ABI is Multicall3's aggregate3 and getChainId.
const multicall3ABI = `[
 {"type":"function","name":"aggregate3","stateMutability":"payable",
  "inputs":[{"name":"calls","type":"tuple[]","components":[{"name":"target","type":"address"},{"name":"allowFailure","type":"bool"},{"name":"callData","type":"bytes"}]}],
  "outputs":[{"name":"returnData","type":"tuple[]","components":[{"name":"success","type":"bool"},{"name":"returnData","type":"bytes"}]}]},
 {"type":"function","name":"getChainId","stateMutability":"view","inputs":[],"outputs":[{"name":"chainid","type":"uint256"}]}
]`

type call3 struct {
	Target       common.Address
	AllowFailure bool
	CallData     []byte
}

type result3 struct {
	Success    bool
	ReturnData []byte
}

// preinstallRollup is a real executor of chain preinstallChainID (whose
// genesis funds the proxy's deployer and dev) behind two RPC servers, one
// admitting unprotected txs and one not.
type preinstallRollup struct {
	ex        *evm.Executor
	on, off   *recorder
	onC, offC *ethclient.Client
}

// preinstallChainID is the OP Stack devnet's L2 chain id, whose Permit2
// domain separator the OP Stack's tests pin.
const preinstallChainID = 901

func newPreinstallRollup(t *testing.T, ctx context.Context, dev common.Address) *preinstallRollup {
	t.Helper()
	ex, err := evm.New(evm.Config{Name: "alpha", ChainID: preinstallChainID, GenesisTime: 1_700_000_000,
		Alloc: types.GenesisAlloc{
			proxyDeployer: {Balance: big.NewInt(params.Ether)},
			dev:           {Balance: big.NewInt(params.Ether)},
		}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	r := &preinstallRollup{ex: ex, on: &recorder{}, off: &recorder{}}
	r.onC = serve(t, ctx, ex, r.on, true)
	r.offC = serve(t, ctx, ex, r.off, false)
	return r
}

// serve starts an RPC server over ex handing txs to sub and returns a
// client of it.
func serve(t *testing.T, ctx context.Context, ex *evm.Executor, sub rpc.TxSubmitter, allowUnprotected bool) *ethclient.Client {
	t.Helper()
	srv, err := rpc.NewServer(rpc.Config{Name: "alpha", ListenAddr: "127.0.0.1:0", AllowUnprotectedTxs: allowUnprotected}, backend{ex}, sub, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	c, err := ethclient.DialContext(ctx, "http://"+srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// executeSubmitted runs everything the admitting server handed to Weft as
// the rollup's slice of Weft height 1.
func (r *preinstallRollup) executeSubmitted(t *testing.T) {
	t.Helper()
	r.on.mu.Lock()
	raws := append([][]byte(nil), r.on.txs...)
	r.on.mu.Unlock()
	var txs []*types.Transaction
	for _, raw := range raws {
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(raw); err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	data, err := evm.EncodeTxs(txs)
	if err != nil {
		t.Fatal(err)
	}
	id := rollups.IDFromName("alpha")
	itemHash := sha256.Sum256(data)
	blockHash := sha256.Sum256([]byte("weft block 1"))
	s := &weftv1.RollupSlice{Height: 1, TimeUnixNano: (1_700_000_000 + 2) * 1e9, BlockHash: blockHash[:], RollupId: id[:],
		Items: []*weftv1.RollupItem{{TxHash: itemHash[:], Sender: make([]byte, 20), Data: data}}}
	if err := r.ex.Execute(s); err != nil {
		t.Fatal(err)
	}
}

func sendRaw(ctx context.Context, c *ethclient.Client, raw []byte) error {
	var h common.Hash
	return c.Client().CallContext(ctx, &h, "eth_sendRawTransaction", hexutil.Bytes(raw))
}

// TestUnprotectedDeploymentAndCreate2: the deterministic deployment proxy's
// published pre-EIP-155 deployment tx is refused with go-ethereum's error
// where unprotected txs are not allowed and handed to Weft where they are;
// executed, it is included (and fails on the preinstalled proxy, as on an
// OP Stack chain). A CREATE2 deployment through the preinstalled proxy
// lands at the address CREATE2 predicts.
func TestUnprotectedDeploymentAndCreate2(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	r := newPreinstallRollup(t, ctx, crypto.PubkeyToAddress(k.PublicKey))

	err = sendRaw(ctx, r.offC, proxyDeployTx)
	if err == nil || !strings.Contains(err.Error(), "only replay-protected (EIP-155) transactions allowed over RPC") {
		t.Fatalf("unprotected tx without allow_unprotected_txs: %v; want go-ethereum's refusal", err)
	}
	if r.off.count() != 0 {
		t.Fatal("a refused tx was handed to Weft")
	}
	if err := sendRaw(ctx, r.onC, proxyDeployTx); err != nil {
		t.Fatalf("unprotected tx with allow_unprotected_txs: %v", err)
	}

	// runtime returns 42; initcode returns the runtime.
	runtime := common.FromHex("602a60005260206000f3")
	initcode := append(common.FromHex("69"), runtime...)
	initcode = append(initcode, common.FromHex("600052600a6016f3")...)
	salt := common.HexToHash("0x5745465400000000000000000000000000000000000000000000000000000001")
	proxy := evm.DeterministicDeploymentProxyAddress
	tx, err := types.SignNewTx(k, types.LatestSignerForChainID(big.NewInt(preinstallChainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(preinstallChainID), GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(params.GWei), Gas: 200_000,
		To: &proxy, Data: append(salt.Bytes(), initcode...)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.onC.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	r.executeSubmitted(t)

	deploy := new(types.Transaction)
	if err := deploy.UnmarshalBinary(proxyDeployTx); err != nil {
		t.Fatal(err)
	}
	rc, err := r.onC.TransactionReceipt(ctx, deploy.Hash())
	if err != nil {
		t.Fatalf("receipt of the proxy's deployment tx: %v (skipped: %+v)", err, r.ex.Skipped(1))
	}
	if rc.Status != types.ReceiptStatusFailed {
		t.Fatalf("the proxy's deployment tx succeeded over the preinstalled proxy")
	}
	if n, err := r.onC.NonceAt(ctx, proxyDeployer, nil); err != nil || n != 1 {
		t.Fatalf("deployer nonce %d (%v), want 1", n, err)
	}
	if rc, err := r.onC.TransactionReceipt(ctx, tx.Hash()); err != nil || rc.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("CREATE2 through the proxy: receipt %+v, %v", rc, err)
	}
	want := crypto.CreateAddress2(proxy, salt, crypto.Keccak256(initcode))
	if code, err := r.onC.CodeAt(ctx, want, nil); err != nil || !bytes.Equal(code, runtime) {
		t.Fatalf("code at the predicted address %s: %x (%v), want %x", want, code, err, runtime)
	}
	// The proxy returns the new address (20 bytes) to an eth_call.
	out, err := r.onC.CallContract(ctx, ethereum.CallMsg{To: &proxy, Data: append(common.Hash{1}.Bytes(), initcode...)}, nil)
	if err != nil || common.BytesToAddress(out) != crypto.CreateAddress2(proxy, common.Hash{1}, crypto.Keccak256(initcode)) {
		t.Fatalf("eth_call of the proxy: %x, %v", out, err)
	}
}

// TestPreinstallsOverRPC: Multicall3's aggregate3 works through eth_call
// (reading its own getChainId and Permit2's DOMAIN_SEPARATOR, and allowing
// a failing call); Permit2's domain separator is the EIP-712 one of the
// rollup's chain id; the EntryPoint v0.7 and its SenderCreator are there
// with their published code hashes.
func TestPreinstallsOverRPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := newPreinstallRollup(t, ctx, common.Address{7})
	c := r.offC

	// keccak256(abi.encode(EIP712Domain typehash, keccak256("Permit2"), 901,
	// Permit2)), as the OP Stack's Preinstalls.t.sol pins it for chain 901.
	wantDS := common.HexToHash("0x48deb34b39fb4b41f5c195008940d5ef510cdd7853eba5807b2fa08dfd586475")
	permit2 := evm.Permit2Address
	dsSel := crypto.Keccak256([]byte("DOMAIN_SEPARATOR()"))[:4]
	if out, err := c.CallContract(ctx, ethereum.CallMsg{To: &permit2, Data: dsSel}, nil); err != nil || common.BytesToHash(out) != wantDS {
		t.Fatalf("Permit2 DOMAIN_SEPARATOR(): %x, %v; want %s", out, err, wantDS)
	}

	mabi, err := abi.JSON(strings.NewReader(multicall3ABI))
	if err != nil {
		t.Fatal(err)
	}
	mc := evm.Multicall3Address
	calls := []call3{
		{Target: mc, CallData: mabi.Methods["getChainId"].ID},
		{Target: permit2, CallData: dsSel},
		{Target: evm.EntryPointV070Address, AllowFailure: true, CallData: common.FromHex("0xdeadbeef")},
	}
	data, err := mabi.Pack("aggregate3", calls)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.CallContract(ctx, ethereum.CallMsg{To: &mc, Data: data}, nil)
	if err != nil {
		t.Fatalf("aggregate3: %v", err)
	}
	vals, err := mabi.Unpack("aggregate3", out)
	if err != nil {
		t.Fatal(err)
	}
	res := *abi.ConvertType(vals[0], new([]result3)).(*[]result3)
	if len(res) != 3 || !res[0].Success || !res[1].Success || res[2].Success {
		t.Fatalf("aggregate3 results %+v: want two successes and one allowed failure", res)
	}
	if id := new(big.Int).SetBytes(res[0].ReturnData); id.Uint64() != preinstallChainID {
		t.Fatalf("Multicall3 getChainId through aggregate3: %d", id)
	}
	if common.BytesToHash(res[1].ReturnData) != wantDS {
		t.Fatalf("DOMAIN_SEPARATOR through aggregate3: %x", res[1].ReturnData)
	}

	for addr, want := range map[common.Address]string{
		evm.EntryPointV070Address:    "0x8db5ff695839d655407cc8490bb7a5d82337a86a6b39c3f0258aa6c3b582fc58",
		evm.SenderCreatorV070Address: "0x283c9d14378f5f4c4e24045b87d621d48443fa5b4af7dd7180a599b3756a7689",
	} {
		code, err := c.CodeAt(ctx, addr, nil)
		if err != nil || crypto.Keccak256Hash(code) != common.HexToHash(want) {
			t.Fatalf("code at %s: %d bytes, hash %s (%v); want hash %s", addr, len(code), crypto.Keccak256Hash(code), err, want)
		}
	}
}
