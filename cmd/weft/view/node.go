package view

import (
	"fmt"
	"time"

	"github.com/weftnet/weft/format"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/txcodec"
)

// Account is `weft query account`.
type Account struct {
	Address      string `json:"address"`
	Balance      string `json:"balance"`
	Nonce        uint64 `json:"nonce"`
	PendingNonce uint64 `json:"pending_nonce"`
	Height       int64  `json:"height"`
}

// NewAccount is the view of a GetAccount answer.
func NewAccount(r *weftv1.GetAccountResponse, a Amounts) Account {
	return Account{
		Address: format.Address(r.Address), Balance: a.Of(r.GetAccount().GetBalance()),
		Nonce: r.GetAccount().GetNonce(), PendingNonce: r.PendingNonce, Height: r.Height,
	}
}

// WriteText implements Viewer.
func (v Account) WriteText(t *TextWriter) {
	t.Field("address", v.Address)
	t.Field("balance", v.Balance)
	t.Field("nonce", v.Nonce)
	t.Field("pending nonce", v.PendingNonce)
	t.Field("height", v.Height)
}

// Rollup is `weft query rollup`.
type Rollup struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	VM         string `json:"vm"`
	EVMChainID uint64 `json:"evm_chain_id"`
	// Owner registered the rollup; null for a genesis rollup.
	Owner *string `json:"owner"`
	// RegisteredHeight is 0 for a genesis rollup.
	RegisteredHeight int64  `json:"registered_height"`
	BlockWeight      uint32 `json:"block_weight"`
}

// NewRollup is the view of a registered rollup.
func NewRollup(r *weftv1.Rollup) Rollup {
	v := Rollup{
		Name: r.Name, ID: format.Hex(r.Id), VM: r.Vm, EVMChainID: r.EvmChainId,
		RegisteredHeight: r.RegisteredHeight, BlockWeight: max(r.BlockWeight, 1),
	}
	if len(r.Owner) > 0 {
		o := format.Address(r.Owner)
		v.Owner = &o
	}
	return v
}

// owner is the text of Owner.
func (v Rollup) owner() string {
	if v.Owner == nil {
		return "none (genesis rollup)"
	}
	return *v.Owner
}

// registered is the text of RegisteredHeight.
func (v Rollup) registered() string {
	if v.RegisteredHeight == 0 {
		return "genesis"
	}
	return fmt.Sprintf("height %d", v.RegisteredHeight)
}

// WriteText implements Viewer.
func (v Rollup) WriteText(t *TextWriter) {
	t.Field("name", v.Name)
	t.Field("id", v.ID)
	t.Field("vm", v.VM)
	t.Field("evm chain id", v.EVMChainID)
	t.Field("owner", v.owner())
	t.Field("registered", v.registered())
	t.Field("block weight", v.BlockWeight)
}

// Rollups is `weft query rollups`.
type Rollups struct {
	Rollups []Rollup `json:"rollups"`
}

// NewRollups is the view of a ListRollups answer.
func NewRollups(r *weftv1.ListRollupsResponse) Rollups {
	v := Rollups{Rollups: []Rollup{}}
	for _, x := range r.Rollups {
		v.Rollups = append(v.Rollups, NewRollup(x))
	}
	return v
}

// WriteText implements Viewer.
func (v Rollups) WriteText(t *TextWriter) {
	var rows [][]string
	for _, r := range v.Rollups {
		owner := "genesis"
		if r.Owner != nil {
			owner = *r.Owner
		}
		rows = append(rows, []string{r.Name, r.VM, fmt.Sprint(r.EVMChainID), r.ID, owner, r.registered()})
	}
	t.Table([]string{"name", "vm", "evm chain id", "id", "owner", "registered"}, rows, "no rollups registered")
}

// Block is `weft query block`.
type Block struct {
	Height   int64  `json:"height"`
	Hash     string `json:"hash"`
	Time     string `json:"time"`
	Proposer string `json:"proposer"`
	// AppHash is the header's: the state after the previous block.
	AppHash    string      `json:"app_hash"`
	TxCount    int64       `json:"tx_count"`
	Commitment *Commitment `json:"commitment"`
	TxHashes   []string    `json:"tx_hashes"`
}

// Commitment is a block's commitment item: its rollups and their roots.
type Commitment struct {
	Height  int64        `json:"height"`
	Rollups []RollupRoot `json:"rollups"`
}

// RollupRoot is one rollup's part of a commitment item.
type RollupRoot struct {
	ID string `json:"id"`
	// Name is the rollup's, when it is registered ("" otherwise).
	Name  string `json:"name"`
	Items uint32 `json:"items"`
	Root  string `json:"root"`
}

// NewBlock is the view of a GetBlock answer; names maps rollup ids (as
// format.Hex) to rollup names.
func NewBlock(r *weftv1.GetBlockResponse, names map[string]string) Block {
	v := Block{
		Height: r.Height, Hash: format.Hex(r.Hash), Time: format.Time(time.Unix(0, r.TimeUnixNano)),
		Proposer: format.Address(r.Proposer), AppHash: format.Hex(r.AppHash), TxCount: r.TxCount, TxHashes: []string{},
	}
	if c := r.Commitment; c != nil {
		v.Commitment = &Commitment{Height: c.Height, Rollups: []RollupRoot{}}
		for _, rr := range c.Rollups {
			id := format.Hex(rr.RollupId)
			v.Commitment.Rollups = append(v.Commitment.Rollups, RollupRoot{ID: id, Name: names[id], Items: rr.ItemCount, Root: format.Hex(rr.Root)})
		}
	}
	for _, h := range r.TxHashes {
		v.TxHashes = append(v.TxHashes, format.Hex(h))
	}
	return v
}

// WriteText implements Viewer.
func (v Block) WriteText(t *TextWriter) {
	t.Field("height", v.Height)
	t.Field("hash", v.Hash)
	t.Field("time", v.Time)
	t.Field("proposer", v.Proposer)
	t.Field("app hash", v.AppHash)
	t.Field("txs", v.TxCount)
	var roots []string
	if v.Commitment != nil {
		for _, r := range v.Commitment.Rollups {
			name := r.Name
			if name == "" {
				name = r.ID
			}
			roots = append(roots, fmt.Sprintf("%s: %d items, root %s", name, r.Items, r.Root))
		}
	}
	t.List("rollups", roots, "none")
	t.List("tx hashes", v.TxHashes, "none")
}

// Tx is `weft query tx` and what `weft tx` prints once a tx is in.
type Tx struct {
	Hash string `json:"hash"`
	// Status is pending, committed, dropped or unknown.
	Status string `json:"status"`
	// Result is the committed tx's outcome; null unless committed.
	Result *TxResult `json:"result"`
	// Reason says why a dropped tx was dropped.
	Reason string `json:"reason,omitempty"`
}

// TxResult is a committed tx's outcome.
type TxResult struct {
	Height   int64  `json:"height"`
	Index    uint32 `json:"index"`
	Code     uint32 `json:"code"`
	CodeName string `json:"code_name"`
	Log      string `json:"log"`
	Fee      string `json:"fee"`
	Sender   string `json:"sender"`
}

// txStatus names the node API's tx statuses.
var txStatus = map[weftv1.TxStatus]string{
	weftv1.TxStatus_TX_STATUS_UNKNOWN:   "unknown",
	weftv1.TxStatus_TX_STATUS_PENDING:   "pending",
	weftv1.TxStatus_TX_STATUS_COMMITTED: "committed",
	weftv1.TxStatus_TX_STATUS_DROPPED:   "dropped",
}

// NewTx is the view of a GetTx answer for the tx with hash.
func NewTx(hash []byte, r *weftv1.GetTxResponse, a Amounts) Tx {
	v := Tx{Hash: format.Hex(hash), Status: txStatus[r.Status], Reason: r.Log}
	if res := r.Result; res != nil {
		v.Result = &TxResult{
			Height: res.Height, Index: res.Index, Code: res.Code, CodeName: txcodec.CodeName(res.Code),
			Log: res.Log, Fee: a.Of(res.Fee), Sender: format.Address(res.Sender),
		}
	}
	return v
}

// WriteText implements Viewer.
func (v Tx) WriteText(t *TextWriter) {
	t.Field("hash", v.Hash)
	t.Field("status", v.Status)
	if v.Reason != "" {
		t.Field("reason", v.Reason)
	}
	if r := v.Result; r != nil {
		t.Field("height", r.Height)
		t.Field("index", r.Index)
		t.Field("result", fmt.Sprintf("%d (%s)", r.Code, r.CodeName))
		if r.Log != "" {
			t.Field("log", r.Log)
		}
		t.Field("fee", r.Fee)
		t.Field("sender", r.Sender)
	}
}

// Status is `weft query status`.
type Status struct {
	ChainID    string `json:"chain_id"`
	Height     int64  `json:"height"`
	AppHash    string `json:"app_hash"`
	MempoolTxs int64  `json:"mempool_txs"`
	NodeID     string `json:"node_id"`
}

// NewStatus is the view of a GetStatus answer.
func NewStatus(r *weftv1.GetStatusResponse) Status {
	return Status{ChainID: r.ChainId, Height: r.Height, AppHash: format.Hex(r.AppHash), MempoolTxs: r.MempoolTxs, NodeID: r.NodeId}
}

// WriteText implements Viewer.
func (v Status) WriteText(t *TextWriter) {
	t.Field("chain id", v.ChainID)
	t.Field("height", v.Height)
	t.Field("app hash", v.AppHash)
	t.Field("mempool txs", v.MempoolTxs)
	t.Field("node id", v.NodeID)
}
