package rollupe2e

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/weftnet/weft/contracts/bindings"
	"github.com/weftnet/weft/devnet"
	"github.com/weftnet/weft/keys"
	"github.com/weftnet/weft/rollups/exec/evm"
	"github.com/weftnet/weft/test/e2e/nettest"
)

// devBalance is every dev account's balance on each rollup at genesis.
var devBalance, _ = new(big.Int).SetString(devnet.DevRollupBalance, 10)

// TestERC20OnRollupA deploys and uses an ERC-20 on rollup alpha through
// go-ethereum's ethclient and an abigen v2 binding, checks what the standard
// JSON-RPC methods say about it (HTTP and WebSocket), and that rollup beta,
// ordered by the same Weft chain, saw none of it.
func TestERC20OnRollupA(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, netConfig{})
	alpha, beta := n.eth("node0/alpha"), n.eth("node0/beta")
	ws := n.ethWS("node0/alpha")
	ctx := ctxFor(t, 3*time.Minute)

	ownerKey := nettest.DevKey(t, 0)
	owner, recipient := nettest.AddrOf(ownerKey), nettest.AddrOf(nettest.DevKey(t, 1))
	token := bindings.NewTestToken()
	tokenAddr := crypto.CreateAddress(owner, 0) // the owner's first tx on alpha
	transferID := token.GetABI().Events["Transfer"].ID
	bin := common.FromHex(bindings.TestTokenMetaData.Bin)
	supply := new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(params.Ether))
	amount := new(big.Int).Mul(big.NewInt(1234), big.NewInt(params.Ether))

	// Identity of the endpoint.
	if id, err := alpha.ChainID(ctx); err != nil || id.Cmp(alphaChainID) != 0 {
		t.Fatalf("eth_chainId = %v, %v; want %v", id, err, alphaChainID)
	}
	var netVersion, clientVersion string
	if err := alpha.Client().CallContext(ctx, &netVersion, "net_version"); err != nil || netVersion != "901" {
		t.Fatalf("net_version = %q, %v; want \"901\"", netVersion, err)
	}
	if err := alpha.Client().CallContext(ctx, &clientVersion, "web3_clientVersion"); err != nil || !strings.HasPrefix(clientVersion, "Weft/") {
		t.Fatalf("web3_clientVersion = %q, %v; want Weft/...", clientVersion, err)
	}

	// Subscriptions first, so they see every block from the deployment on.
	heads := make(chan *types.Header, 256)
	headSub, err := ws.SubscribeNewHead(ctx, heads)
	if err != nil {
		t.Fatalf("eth_subscribe newHeads: %v", err)
	}
	defer headSub.Unsubscribe()
	logs := make(chan types.Log, 256)
	logSub, err := ws.SubscribeFilterLogs(ctx, ethereum.FilterQuery{Addresses: []common.Address{tokenAddr}, Topics: [][]common.Hash{{transferID}}}, logs)
	if err != nil {
		t.Fatalf("eth_subscribe logs: %v", err)
	}
	defer logSub.Unsubscribe()

	// Deploy.
	auth := bind.NewKeyedTransactor(ownerKey, alphaChainID)
	auth.Context = ctx
	addr, deployTx, err := bind.DeployContract(auth, bin, alpha, token.PackConstructor("Weft Test Token", "WTT", supply))
	if err != nil {
		t.Fatalf("deploy TestToken: %v", err)
	}
	if addr != tokenAddr {
		t.Fatalf("deploy address %s, want %s", addr, tokenAddr)
	}
	deployRcpt := n.waitReceipt(alpha, deployTx.Hash(), time.Minute)
	if deployRcpt.Status != types.ReceiptStatusSuccessful || deployRcpt.ContractAddress != tokenAddr {
		t.Fatalf("deploy receipt: status %d, contractAddress %s; want 1, %s", deployRcpt.Status, deployRcpt.ContractAddress, tokenAddr)
	}
	code, err := alpha.CodeAt(ctx, tokenAddr, nil)
	if err != nil || len(code) == 0 || !bytes.Contains(bin, code) {
		t.Fatalf("eth_getCode: %d bytes (err %v); want the runtime part of the creation code", len(code), err)
	}
	if before, err := alpha.CodeAt(ctx, tokenAddr, new(big.Int).Sub(deployRcpt.BlockNumber, common.Big1)); err != nil || len(before) != 0 {
		t.Fatalf("eth_getCode before the deploy block: %d bytes, %v; want none", len(before), err)
	}
	// Storage: totalSupply in slot 2, balanceOf a mapping at slot 3.
	balanceSlot := func(a common.Address) common.Hash {
		return crypto.Keccak256Hash(common.LeftPadBytes(a.Bytes(), 32), common.LeftPadBytes([]byte{3}, 32))
	}
	if v, err := alpha.StorageAt(ctx, tokenAddr, common.BigToHash(big.NewInt(2)), nil); err != nil || new(big.Int).SetBytes(v).Cmp(supply) != 0 {
		t.Fatalf("eth_getStorageAt(totalSupply slot) = %x, %v; want %v", v, err, supply)
	}
	if v, err := alpha.StorageAt(ctx, tokenAddr, balanceSlot(owner), nil); err != nil || new(big.Int).SetBytes(v).Cmp(supply) != 0 {
		t.Fatalf("eth_getStorageAt(balanceOf[owner]) = %x, %v; want %v", v, err, supply)
	}

	// Transfer, with the gas limit eth_estimateGas gives.
	inst := token.Instance(alpha, tokenAddr)
	callData := token.PackTransfer(recipient, amount)
	est, err := alpha.EstimateGas(ctx, ethereum.CallMsg{From: owner, To: &tokenAddr, Data: callData})
	if err != nil {
		t.Fatalf("eth_estimateGas(transfer): %v", err)
	}
	auth.GasLimit = est
	tx, err := bind.Transact(inst, auth, callData)
	auth.GasLimit = 0
	if err != nil {
		t.Fatalf("transfer: %v", err)
	}
	rcpt := n.waitReceipt(alpha, tx.Hash(), time.Minute)
	if rcpt.Status != types.ReceiptStatusSuccessful || rcpt.TxHash != tx.Hash() || rcpt.ContractAddress != (common.Address{}) {
		t.Fatalf("transfer receipt: status %d, tx %s, contractAddress %s", rcpt.Status, rcpt.TxHash, rcpt.ContractAddress)
	}
	if rcpt.GasUsed > est || est > rcpt.GasUsed*105/100 {
		t.Fatalf("eth_estimateGas = %d, transfer used %d: want an estimate within 5%% above", est, rcpt.GasUsed)
	}
	if len(rcpt.Logs) != 1 {
		t.Fatalf("transfer receipt has %d logs, want 1", len(rcpt.Logs))
	}
	wantLog := rcpt.Logs[0]
	wantTopics := []common.Hash{transferID, common.BytesToHash(owner.Bytes()), common.BytesToHash(recipient.Bytes())}
	if wantLog.Address != tokenAddr || !slices.Equal(wantLog.Topics, wantTopics) ||
		new(big.Int).SetBytes(wantLog.Data).Cmp(amount) != 0 || wantLog.TxHash != tx.Hash() ||
		wantLog.BlockHash != rcpt.BlockHash || wantLog.BlockNumber != rcpt.BlockNumber.Uint64() || wantLog.TxIndex != rcpt.TransactionIndex {
		t.Fatalf("Transfer log in the receipt is wrong: %+v", wantLog)
	}
	sameLog := func(a, b *types.Log) bool {
		return a.Address == b.Address && slices.Equal(a.Topics, b.Topics) && bytes.Equal(a.Data, b.Data) &&
			a.TxHash == b.TxHash && a.BlockHash == b.BlockHash && a.BlockNumber == b.BlockNumber && a.Index == b.Index && a.TxIndex == b.TxIndex
	}

	// eth_getLogs: address + topic filter, then the binding's FilterEvents.
	got, err := alpha.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: big.NewInt(0), Addresses: []common.Address{tokenAddr},
		Topics: [][]common.Hash{{transferID}, nil, {common.BytesToHash(recipient.Bytes())}},
	})
	if err != nil || len(got) != 1 || !sameLog(&got[0], wantLog) {
		t.Fatalf("eth_getLogs(token, Transfer to recipient) = %d logs, %v; want exactly the receipt's log", len(got), err)
	}
	if none, err := alpha.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: big.NewInt(0), Addresses: []common.Address{tokenAddr}, Topics: [][]common.Hash{{token.GetABI().Events["Approval"].ID}}}); err != nil || len(none) != 0 {
		t.Fatalf("eth_getLogs(Approval) = %d logs, %v; want none", len(none), err)
	}
	it, err := bind.FilterEvents(inst, &bind.FilterOpts{Start: 0, Context: ctx}, token.UnpackTransferEvent)
	if err != nil {
		t.Fatalf("FilterEvents(Transfer): %v", err)
	}
	var events []*bindings.TestTokenTransfer
	for it.Next() {
		events = append(events, it.Value())
	}
	if err := it.Error(); err != nil {
		t.Fatalf("FilterEvents(Transfer): %v", err)
	}
	it.Close()
	if len(events) != 2 ||
		events[0].From != (common.Address{}) || events[0].To != owner || events[0].Value.Cmp(supply) != 0 || events[0].Raw.TxHash != deployTx.Hash() ||
		events[1].From != owner || events[1].To != recipient || events[1].Value.Cmp(amount) != 0 || !sameLog(events[1].Raw, wantLog) {
		t.Fatalf("FilterEvents(Transfer) gave %d events; want the mint then the transfer", len(events))
	}

	// balanceOf through eth_call, now and at the deploy block.
	balanceOf := func(a common.Address, at *big.Int) *big.Int {
		t.Helper()
		v, err := bind.Call(inst, &bind.CallOpts{Context: ctx, BlockNumber: at}, token.PackBalanceOf(a), token.UnpackBalanceOf)
		if err != nil {
			t.Fatalf("eth_call balanceOf(%s) at %v: %v", a, at, err)
		}
		return v
	}
	if b := balanceOf(recipient, nil); b.Cmp(amount) != 0 {
		t.Fatalf("balanceOf(recipient) = %v, want %v", b, amount)
	}
	if b := balanceOf(owner, nil); b.Cmp(new(big.Int).Sub(supply, amount)) != 0 {
		t.Fatalf("balanceOf(owner) = %v, want %v", b, new(big.Int).Sub(supply, amount))
	}
	if b := balanceOf(recipient, deployRcpt.BlockNumber); b.Sign() != 0 {
		t.Fatalf("balanceOf(recipient) at the deploy block = %v, want 0", b)
	}
	if v, err := alpha.StorageAt(ctx, tokenAddr, balanceSlot(recipient), nil); err != nil || new(big.Int).SetBytes(v).Cmp(amount) != 0 {
		t.Fatalf("eth_getStorageAt(balanceOf[recipient]) = %x, %v; want %v", v, err, amount)
	}
	// A transfer beyond the balance reverts with the contract's custom error.
	tooMuch := token.PackTransfer(owner, new(big.Int).Add(amount, common.Big1))
	_, err = alpha.CallContract(ctx, ethereum.CallMsg{From: recipient, To: &tokenAddr, Data: tooMuch}, nil)
	var dataErr gethrpc.DataError
	if !errors.As(err, &dataErr) || !strings.Contains(err.Error(), "execution reverted") {
		t.Fatalf("eth_call of an over-balance transfer: %v; want a revert with data", err)
	}
	if s, ok := dataErr.ErrorData().(string); !ok {
		t.Fatalf("revert data %v is not a hex string", dataErr.ErrorData())
	} else if e, err := token.UnpackError(common.FromHex(s)); err != nil {
		t.Fatalf("unpack revert data %s: %v", s, err)
	} else if ib, ok := e.(*bindings.TestTokenInsufficientBalance); !ok || ib.Have.Cmp(amount) != 0 {
		t.Fatalf("revert error %#v; want InsufficientBalance{have: %v}", e, amount)
	}
	if _, err := alpha.EstimateGas(ctx, ethereum.CallMsg{From: recipient, To: &tokenAddr, Data: tooMuch}); err == nil || !strings.Contains(err.Error(), "execution reverted") {
		t.Fatalf("eth_estimateGas of an over-balance transfer: %v; want execution reverted", err)
	}

	// Fees.
	head, err := alpha.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatalf("eth_getBlockByNumber(latest): %v", err)
	}
	gasPrice, err := alpha.SuggestGasPrice(ctx)
	if err != nil {
		t.Fatalf("eth_gasPrice: %v", err)
	}
	tip, err := alpha.SuggestGasTipCap(ctx)
	if err != nil {
		t.Fatalf("eth_maxPriorityFeePerGas: %v", err)
	}
	if head.BaseFee == nil || head.BaseFee.Sign() <= 0 || tip.Sign() <= 0 || gasPrice.Cmp(new(big.Int).Add(head.BaseFee, tip)) < 0 {
		t.Fatalf("eth_gasPrice %v, eth_maxPriorityFeePerGas %v, head base fee %v: want gas price >= base fee + tip > 0", gasPrice, tip, head.BaseFee)
	}
	fh, err := alpha.FeeHistory(ctx, 4, nil, []float64{25, 75})
	if err != nil {
		t.Fatalf("eth_feeHistory: %v", err)
	}
	count := min(uint64(4), head.Number.Uint64()+1)
	if fh.OldestBlock.Uint64() != head.Number.Uint64()+1-count || uint64(len(fh.BaseFee)) != count+1 || uint64(len(fh.GasUsedRatio)) != count || uint64(len(fh.Reward)) != count {
		t.Fatalf("eth_feeHistory(4, latest=%d): oldest %v, %d base fees, %d ratios, %d rewards", head.Number, fh.OldestBlock, len(fh.BaseFee), len(fh.GasUsedRatio), len(fh.Reward))
	}
	for i := uint64(0); i < count; i++ {
		h, err := alpha.HeaderByNumber(ctx, new(big.Int).SetUint64(fh.OldestBlock.Uint64()+i))
		if err != nil {
			t.Fatalf("header %d: %v", fh.OldestBlock.Uint64()+i, err)
		}
		ratio := float64(h.GasUsed) / float64(h.GasLimit)
		if fh.BaseFee[i].Cmp(h.BaseFee) != 0 || fh.GasUsedRatio[i] != ratio || len(fh.Reward[i]) != 2 {
			t.Fatalf("eth_feeHistory block %d: base fee %v ratio %v (%d rewards); header says %v, %v", h.Number, fh.BaseFee[i], fh.GasUsedRatio[i], len(fh.Reward[i]), h.BaseFee, ratio)
		}
		if h.Number.Cmp(rcpt.BlockNumber) == 0 && fh.Reward[i][0].Sign() <= 0 {
			t.Fatalf("eth_feeHistory: reward of the transfer block is %v, want > 0", fh.Reward[i][0])
		}
	}
	if fh.BaseFee[count].Sign() <= 0 {
		t.Fatalf("eth_feeHistory: next base fee %v", fh.BaseFee[count])
	}

	// Blocks: by number and by hash agree, with each other, with the
	// receipts, with the parent links and with the client's own hashing.
	for _, r := range []*types.Receipt{deployRcpt, rcpt} {
		byNum, err := alpha.BlockByNumber(ctx, r.BlockNumber)
		if err != nil {
			t.Fatalf("eth_getBlockByNumber(%v): %v", r.BlockNumber, err)
		}
		byHash, err := alpha.BlockByHash(ctx, r.BlockHash)
		if err != nil {
			t.Fatalf("eth_getBlockByHash(%s): %v", r.BlockHash, err)
		}
		if byNum.Hash() != r.BlockHash || byHash.Hash() != r.BlockHash || byHash.NumberU64() != r.BlockNumber.Uint64() {
			t.Fatalf("block %v: by number hashes to %s, by hash to %s, receipt says %s", r.BlockNumber, byNum.Hash(), byHash.Hash(), r.BlockHash)
		}
		if txs := byNum.Transactions(); int(r.TransactionIndex) >= len(txs) || txs[r.TransactionIndex].Hash() != r.TxHash {
			t.Fatalf("block %v does not hold tx %s at index %d", r.BlockNumber, r.TxHash, r.TransactionIndex)
		}
		parent, err := alpha.HeaderByNumber(ctx, new(big.Int).Sub(r.BlockNumber, common.Big1))
		if err != nil || parent.Hash() != byNum.ParentHash() {
			t.Fatalf("block %v: parent hash %s, block %v hashes to %v (%v)", r.BlockNumber, byNum.ParentHash(), r.BlockNumber.Int64()-1, parent, err)
		}
		if wh, ok := evm.WeftHeight(byNum.Header()); !ok || wh < 1 {
			t.Fatalf("block %v: extraData %x is not a Weft height", r.BlockNumber, byNum.Extra())
		}
		var rawNum, rawHash map[string]any
		if err := alpha.Client().CallContext(ctx, &rawNum, "eth_getBlockByNumber", hexutil.EncodeBig(r.BlockNumber), true); err != nil {
			t.Fatal(err)
		}
		if err := alpha.Client().CallContext(ctx, &rawHash, "eth_getBlockByHash", r.BlockHash, true); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rawNum, rawHash) {
			t.Fatalf("block %v: eth_getBlockByNumber and eth_getBlockByHash return different JSON", r.BlockNumber)
		}
	}

	// eth_getTransactionByHash.
	gotTx, pending, err := alpha.TransactionByHash(ctx, tx.Hash())
	if err != nil || pending || gotTx.Hash() != tx.Hash() || gotTx.Nonce() != 1 || *gotTx.To() != tokenAddr || !bytes.Equal(gotTx.Data(), callData) {
		t.Fatalf("eth_getTransactionByHash(transfer): %v, pending %v, %v", gotTx, pending, err)
	}
	if from, err := alpha.TransactionSender(ctx, gotTx, rcpt.BlockHash, rcpt.TransactionIndex); err != nil || from != owner {
		t.Fatalf("transfer sender %s, %v; want %s", from, err, owner)
	}

	// WebSocket: the heads of both blocks, and the Transfer event.
	wantHeads := map[uint64]common.Hash{deployRcpt.BlockNumber.Uint64(): deployRcpt.BlockHash, rcpt.BlockNumber.Uint64(): rcpt.BlockHash}
	var sawMint, sawTransfer bool
	deadline := time.After(30 * time.Second)
	for len(wantHeads) > 0 || !sawMint || !sawTransfer {
		select {
		case h := <-heads:
			if want, ok := wantHeads[h.Number.Uint64()]; ok {
				if h.Hash() != want {
					t.Fatalf("newHeads: block %v hashes to %s, want %s", h.Number, h.Hash(), want)
				}
				delete(wantHeads, h.Number.Uint64())
			}
		case l := <-logs:
			switch l.TxHash {
			case deployTx.Hash():
				sawMint = true
			case tx.Hash():
				if !sameLog(&l, wantLog) {
					t.Fatalf("logs subscription: Transfer log %+v differs from the receipt's %+v", l, wantLog)
				}
				sawTransfer = true
			default:
				t.Fatalf("logs subscription: unexpected log of tx %s", l.TxHash)
			}
		case err := <-headSub.Err():
			t.Fatalf("newHeads subscription ended: %v", err)
		case err := <-logSub.Err():
			t.Fatalf("logs subscription ended: %v", err)
		case <-deadline:
			t.Fatalf("WebSocket: heads still missing %v, mint log %v, transfer log %v", wantHeads, sawMint, sawTransfer)
		}
	}

	// Rollup beta saw none of this.
	if bn, err := beta.BlockNumber(ctx); err != nil || bn != 0 {
		t.Fatalf("beta eth_blockNumber = %d, %v; want 0", bn, err)
	}
	if nonce, err := beta.PendingNonceAt(ctx, owner); err != nil || nonce != 0 {
		t.Fatalf("beta nonce of the deployer = %d, %v; want 0", nonce, err)
	}
	if bal, err := beta.BalanceAt(ctx, owner, nil); err != nil || bal.Cmp(devBalance) != 0 {
		t.Fatalf("beta balance of the deployer = %v, %v; want %v", bal, err, devBalance)
	}
	if c, err := beta.CodeAt(ctx, tokenAddr, nil); err != nil || len(c) != 0 {
		t.Fatalf("beta has %d bytes of code at %s (%v); want none", len(c), tokenAddr, err)
	}
	if _, _, err := beta.TransactionByHash(ctx, deployTx.Hash()); !notFound(err) {
		t.Fatalf("beta eth_getTransactionByHash(deploy) = %v; want not found", err)
	}
	if bal, err := alpha.BalanceAt(ctx, owner, nil); err != nil || bal.Cmp(devBalance) >= 0 {
		t.Fatalf("alpha balance of the deployer = %v, %v; want below %v (it paid gas)", bal, err, devBalance)
	}
}

// bundlePart and bundleResult are weft_sendBundle's JSON, written out here
// so the test checks the wire format rather than the server's Go types.
type bundlePart struct {
	Rollup string          `json:"rollup"`
	Txs    []hexutil.Bytes `json:"txs"`
}

type bundleResult struct {
	WeftTx common.Hash              `json:"weftTx"`
	Txs    map[string][]common.Hash `json:"txs"`
}

// TestBundleLandsAtOneWeftHeight sends a tx for alpha and one for beta as a
// cross-rollup bundle, through weft_sendBundle and through the CLI, and
// checks that both land in rollup blocks built from the same Weft height; a
// bundle with an invalid part is refused whole.
func TestBundleLandsAtOneWeftHeight(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, netConfig{})
	alpha, beta := n.eth("node0/alpha"), n.eth("node0/beta")
	api := n.api(0)
	ctx := ctxFor(t, 3*time.Minute)
	value := big.NewInt(params.Ether)

	// landedTogether waits for both receipts and returns the common Weft
	// height of their blocks.
	landedTogether := func(ta, tb *types.Transaction) int64 {
		t.Helper()
		ra, rb := n.waitReceipt(alpha, ta.Hash(), time.Minute), n.waitReceipt(beta, tb.Hash(), time.Minute)
		if ra.Status != types.ReceiptStatusSuccessful || rb.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("bundle receipts: alpha status %d, beta status %d", ra.Status, rb.Status)
		}
		ha, err := alpha.HeaderByHash(ctx, ra.BlockHash)
		if err != nil {
			t.Fatal(err)
		}
		hb, err := beta.HeaderByHash(ctx, rb.BlockHash)
		if err != nil {
			t.Fatal(err)
		}
		wa, oka := evm.WeftHeight(ha)
		wb, okb := evm.WeftHeight(hb)
		if !oka || !okb || wa != wb {
			t.Fatalf("bundle landed at Weft height %d (alpha block %v) and %d (beta block %v); want one height", wa, ha.Number, wb, hb.Number)
		}
		return wa
	}

	// weft_sendBundle on alpha's RPC.
	k := nettest.DevKey(t, 2)
	ta := transferTx(t, k, alphaChainID, 0, nettest.AddrOf(nettest.DevKey(t, 3)), value, 21000, nil)
	tb := transferTx(t, k, betaChainID, 0, nettest.AddrOf(nettest.DevKey(t, 3)), value, 21000, nil)
	var res bundleResult
	err := alpha.Client().CallContext(ctx, &res, "weft_sendBundle", []bundlePart{
		{Rollup: "alpha", Txs: []hexutil.Bytes{rawOf(t, ta)}},
		{Rollup: "beta", Txs: []hexutil.Bytes{rawOf(t, tb)}},
	})
	if err != nil {
		t.Fatalf("weft_sendBundle: %v", err)
	}
	if !slices.Equal(res.Txs["alpha"], []common.Hash{ta.Hash()}) || !slices.Equal(res.Txs["beta"], []common.Hash{tb.Hash()}) || res.WeftTx == (common.Hash{}) {
		t.Fatalf("weft_sendBundle result %+v does not name the bundle's txs", res)
	}
	h := landedTogether(ta, tb)
	weftRes, err := api.WaitTx(ctx, res.WeftTx)
	if err != nil {
		t.Fatalf("Weft tx %s of the bundle: %v", res.WeftTx, err)
	}
	if weftRes.Result.Height != h {
		t.Fatalf("the bundle's Weft tx committed at height %d, its rollup blocks say %d", weftRes.Result.Height, h)
	}
	t.Logf("weft_sendBundle: Weft tx %s, both rollup txs at Weft height %d", res.WeftTx, h)

	// The CLI: weft tx bundle --eth-tx, signed by a dev account (funded on
	// Weft) from a key file.
	k2 := nettest.DevKey(t, 4)
	keyDir := t.TempDir()
	if _, err := keys.Dir(keyDir).Add("dev4", k2); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(keyDir, "dev4.json")
	ta2 := transferTx(t, k2, alphaChainID, 0, nettest.AddrOf(nettest.DevKey(t, 3)), value, 21000, nil)
	tb2 := transferTx(t, k2, betaChainID, 0, nettest.AddrOf(nettest.DevKey(t, 3)), value, 21000, nil)
	out, err := weftCLI(ctx, "tx", "bundle", "--output", "json", "--key-file", keyFile, "--node", n.m.Nodes[0].API,
		"--eth-tx", "alpha="+hexutil.Encode(rawOf(t, ta2)), "--eth-tx", "beta="+hexutil.Encode(rawOf(t, tb2)))
	if err != nil {
		t.Fatalf("weft tx bundle: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`"status": "committed",\s+"result": \{\s+"height": (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("weft tx bundle printed no committed height:\n%s", out)
	}
	cliHeight, _ := strconv.ParseInt(m[1], 10, 64)
	if h2 := landedTogether(ta2, tb2); h2 != cliHeight {
		t.Fatalf("CLI bundle committed at Weft height %d, its rollup blocks say %d", cliHeight, h2)
	}
	t.Logf("weft tx bundle: both rollup txs at Weft height %d", cliHeight)

	// A bundle whose beta tx is signed for alpha's chain is refused whole.
	k3 := nettest.DevKey(t, 5)
	good := transferTx(t, k3, alphaChainID, 0, nettest.AddrOf(nettest.DevKey(t, 3)), value, 21000, nil)
	bad := transferTx(t, k3, alphaChainID, 0, nettest.AddrOf(nettest.DevKey(t, 6)), value, 21000, nil) // meant for beta
	err = alpha.Client().CallContext(ctx, &res, "weft_sendBundle", []bundlePart{
		{Rollup: "alpha", Txs: []hexutil.Bytes{rawOf(t, good)}},
		{Rollup: "beta", Txs: []hexutil.Bytes{rawOf(t, bad)}},
	})
	if err == nil || !strings.Contains(err.Error(), `rollup "beta" tx 0`) || !strings.Contains(err.Error(), "invalid chain id for signer") {
		t.Fatalf("weft_sendBundle with a beta tx for chain 901: %v; want a clear invalid chain id error naming beta's tx", err)
	}
	t.Logf("invalid bundle refused: %v", err)
	// The same through the CLI.
	out, err = weftCLI(ctx, "tx", "bundle", "--key-file", keyFile, "--node", n.m.Nodes[0].API,
		"--eth-tx", "alpha="+hexutil.Encode(rawOf(t, good)), "--eth-tx", "beta="+hexutil.Encode(rawOf(t, bad)))
	if err == nil || !strings.Contains(out, "invalid chain id for signer") {
		t.Fatalf("weft tx bundle with a beta tx for chain 901: %v\n%s\nwant a refusal naming the invalid chain id", err, out)
	}
	t.Logf("invalid CLI bundle refused: %s", strings.TrimSpace(out))

	// Neither part ever lands: after a later tx on each rollup has landed,
	// alpha and beta still know nothing of them.
	k4 := nettest.DevKey(t, 7)
	la := transferTx(t, k4, alphaChainID, 0, nettest.AddrOf(k4), value, 21000, nil)
	lb := transferTx(t, k4, betaChainID, 0, nettest.AddrOf(k4), value, 21000, nil)
	send(t, alpha, la)
	send(t, beta, lb)
	n.waitReceipt(alpha, la.Hash(), time.Minute)
	n.waitReceipt(beta, lb.Hash(), time.Minute)
	for _, c := range []struct {
		name string
		ec   *ethclient.Client
	}{{"alpha", alpha}, {"beta", beta}} {
		for _, tx := range []*types.Transaction{good, bad} {
			if _, _, err := c.ec.TransactionByHash(ctx, tx.Hash()); !notFound(err) {
				t.Fatalf("%s eth_getTransactionByHash(%s) of the refused bundle: %v; want not found", c.name, tx.Hash(), err)
			}
		}
		if nonce, err := c.ec.PendingNonceAt(ctx, nettest.AddrOf(k3)); err != nil || nonce != 0 {
			t.Fatalf("%s pending nonce of the refused bundle's signer = %d, %v; want 0", c.name, nonce, err)
		}
	}
	// The refused bundle released its nonce reservation: the alpha tx alone
	// is accepted and lands.
	send(t, alpha, good)
	if r := n.waitReceipt(alpha, good.Hash(), time.Minute); r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("alpha tx of the refused bundle, sent alone: status %d", r.Status)
	}
}

// weftCLI runs the weft binary and returns its combined output.
func weftCLI(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, weftBin, args...).CombinedOutput()
	return string(out), err
}
