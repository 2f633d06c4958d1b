package rpc

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gmath "github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/eth/gasestimator"
	"github.com/ethereum/go-ethereum/event"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/holiman/uint256"
)

// Backend is what the RPC layer reads from the rollup's executor.
type Backend interface {
	ChainConfig() *params.ChainConfig
	Head() *types.Header
	HeaderByNumber(n uint64) *types.Header
	HeaderByHash(h common.Hash) *types.Header
	BlockByNumber(n uint64) *types.Block
	BlockByHash(h common.Hash) *types.Block
	Receipts(blockHash common.Hash) types.Receipts
	TxLookup(h common.Hash) (blockHash common.Hash, number uint64, index uint64, found bool)
	StateAt(root common.Hash) (*state.StateDB, error)
	ChainContext() core.ChainContext
	SubscribeBlocks(ch chan<- *BlockEvent) event.Subscription
}

// BlockEvent is an executed rollup block.
type BlockEvent struct {
	Block    *types.Block
	Receipts types.Receipts
	Logs     []*types.Log
	// Skipped lists txs of the block's slice that were not applied.
	Skipped []common.Hash
}

// Limits of eth_sendRawTransaction and queries.
const (
	maxTxSize     = 128 << 10 // geth's txpool limit
	maxLogRange   = 10_000
	rpcGasCap     = 50_000_000
	suggestedTip  = 1_000_000 // wei; blocks are rarely full, so a tiny tip suffices
	maxFeeHistory = 1024
)

// ethAPI implements the eth namespace.
type ethAPI struct{ s *Server }

// ChainId is eth_chainId.
func (a *ethAPI) ChainId() *hexutil.Big { return (*hexutil.Big)(a.s.backend.ChainConfig().ChainID) }

// BlockNumber is eth_blockNumber.
func (a *ethAPI) BlockNumber() hexutil.Uint64 {
	return hexutil.Uint64(a.s.backend.Head().Number.Uint64())
}

// Syncing is eth_syncing: false while the rollup follows Weft live;
// while it catches up (more than SyncSlack heights behind), geth's progress
// object: the current head, and as highestBlock the head plus the Weft
// heights still to execute (an upper bound: empty heights make no block).
func (a *ethAPI) Syncing() any {
	executed, chain, behind := a.s.syncing()
	if !behind {
		return false
	}
	head := a.s.backend.Head().Number.Uint64()
	return map[string]hexutil.Uint64{
		"startingBlock": 0,
		"currentBlock":  hexutil.Uint64(head),
		"highestBlock":  hexutil.Uint64(head + uint64(chain-executed)),
	}
}

// Accounts is eth_accounts: the node holds no user keys.
func (a *ethAPI) Accounts() []common.Address { return []common.Address{} }

func (a *ethAPI) headerOf(bn rpc.BlockNumber) (*types.Header, error) {
	b := a.s.backend
	switch bn {
	case rpc.LatestBlockNumber, rpc.PendingBlockNumber:
		return b.Head(), nil
	case rpc.EarliestBlockNumber:
		return b.HeaderByNumber(0), nil
	case rpc.SafeBlockNumber, rpc.FinalizedBlockNumber:
		var n uint64
		if st := a.s.cfg.Settlement; st != nil {
			if bn == rpc.SafeBlockNumber {
				n = st.SafeBlock()
			} else {
				n = st.FinalizedBlock()
			}
		}
		n = min(n, b.Head().Number.Uint64())
		return b.HeaderByNumber(n), nil
	}
	if bn < 0 {
		return nil, fmt.Errorf("unsupported block tag %d", bn)
	}
	h := b.HeaderByNumber(uint64(bn))
	if h == nil {
		return nil, nil
	}
	return h, nil
}

func (a *ethAPI) header(bnh rpc.BlockNumberOrHash) (*types.Header, error) {
	if n, ok := bnh.Number(); ok {
		h, err := a.headerOf(n)
		if err == nil && h == nil {
			err = fmt.Errorf("header for number %d not found", n)
		}
		return h, err
	}
	if hash, ok := bnh.Hash(); ok {
		h := a.s.backend.HeaderByHash(hash)
		if h == nil {
			return nil, fmt.Errorf("header for hash %s not found", hash.Hex())
		}
		return h, nil
	}
	return nil, errors.New("invalid block number or hash")
}

func (a *ethAPI) stateAt(bnh rpc.BlockNumberOrHash) (*state.StateDB, *types.Header, error) {
	h, err := a.header(bnh)
	if err != nil {
		return nil, nil, err
	}
	st, err := a.s.backend.StateAt(h.Root)
	return st, h, err
}

// GetBlockByNumber is eth_getBlockByNumber.
func (a *ethAPI) GetBlockByNumber(n rpc.BlockNumber, full bool) (map[string]any, error) {
	h, err := a.headerOf(n)
	if err != nil || h == nil {
		return nil, err
	}
	b := a.s.backend.BlockByHash(h.Hash())
	if b == nil {
		return nil, nil
	}
	return marshalBlock(b, full, a.s.backend.ChainConfig()), nil
}

// GetBlockByHash is eth_getBlockByHash.
func (a *ethAPI) GetBlockByHash(hash common.Hash, full bool) (map[string]any, error) {
	b := a.s.backend.BlockByHash(hash)
	if b == nil {
		return nil, nil
	}
	return marshalBlock(b, full, a.s.backend.ChainConfig()), nil
}

// GetBalance is eth_getBalance.
func (a *ethAPI) GetBalance(addr common.Address, bnh rpc.BlockNumberOrHash) (*hexutil.Big, error) {
	st, _, err := a.stateAt(bnh)
	if err != nil {
		return nil, err
	}
	return (*hexutil.Big)(st.GetBalance(addr).ToBig()), nil
}

// GetTransactionCount is eth_getTransactionCount; "pending" counts txs
// handed to Weft but not executed yet.
func (a *ethAPI) GetTransactionCount(addr common.Address, bnh rpc.BlockNumberOrHash) (*hexutil.Uint64, error) {
	st, _, err := a.stateAt(bnh)
	if err != nil {
		return nil, err
	}
	n := st.GetNonce(addr)
	if bn, ok := bnh.Number(); ok && bn == rpc.PendingBlockNumber {
		n = a.s.inflight.pendingNonce(addr, n)
	}
	return (*hexutil.Uint64)(&n), nil
}

// GetCode is eth_getCode.
func (a *ethAPI) GetCode(addr common.Address, bnh rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	st, _, err := a.stateAt(bnh)
	if err != nil {
		return nil, err
	}
	return st.GetCode(addr), nil
}

// GetStorageAt is eth_getStorageAt.
func (a *ethAPI) GetStorageAt(addr common.Address, key string, bnh rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	st, _, err := a.stateAt(bnh)
	if err != nil {
		return nil, err
	}
	k, err := decodeStorageKey(key)
	if err != nil {
		return nil, fmt.Errorf("%v: %q", err, key)
	}
	v := st.GetState(addr, k)
	return v[:], nil
}

// decodeStorageKey parses a storage slot as geth does: hex, optional 0x, up
// to 32 bytes, leading zeros allowed (clients send slots as 32-byte hashes).
func decodeStorageKey(s string) (common.Hash, error) {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		s = s[2:]
	}
	if len(s)%2 == 1 {
		s = "0" + s
	}
	if len(s) > 64 {
		return common.Hash{}, errors.New("storage key too long (want at most 32 bytes)")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return common.Hash{}, errors.New("invalid hex in storage key")
	}
	return common.BytesToHash(b), nil
}

// CallArgs are eth_call / eth_estimateGas arguments.
type CallArgs struct {
	From                 *common.Address   `json:"from"`
	To                   *common.Address   `json:"to"`
	Gas                  *hexutil.Uint64   `json:"gas"`
	GasPrice             *hexutil.Big      `json:"gasPrice"`
	MaxFeePerGas         *hexutil.Big      `json:"maxFeePerGas"`
	MaxPriorityFeePerGas *hexutil.Big      `json:"maxPriorityFeePerGas"`
	Value                *hexutil.Big      `json:"value"`
	Nonce                *hexutil.Uint64   `json:"nonce"`
	Data                 *hexutil.Bytes    `json:"data"`
	Input                *hexutil.Bytes    `json:"input"`
	AccessList           *types.AccessList `json:"accessList"`
}

func u256(b *hexutil.Big) *uint256.Int {
	if b == nil {
		return new(uint256.Int)
	}
	v, _ := uint256.FromBig(b.ToInt())
	if v == nil {
		return new(uint256.Int).SetAllOne()
	}
	return v
}

func (c *CallArgs) message(header *types.Header, gasCap uint64, forEstimate bool) (*core.Message, error) {
	if c.Data != nil && c.Input != nil && string(*c.Data) != string(*c.Input) {
		return nil, errors.New(`both "data" and "input" are set and not equal`)
	}
	m := &core.Message{
		To: c.To, GasLimit: gasCap, GasPrice: new(uint256.Int), GasFeeCap: new(uint256.Int), GasTipCap: new(uint256.Int),
		Value: u256(c.Value),
	}
	if c.From != nil {
		m.From = *c.From
	}
	if c.Gas != nil && uint64(*c.Gas) > 0 {
		m.GasLimit = min(uint64(*c.Gas), gasCap)
	} else if forEstimate {
		m.GasLimit = 0
	}
	switch {
	case c.GasPrice != nil:
		m.GasPrice, m.GasFeeCap, m.GasTipCap = u256(c.GasPrice), u256(c.GasPrice), u256(c.GasPrice)
	case c.MaxFeePerGas != nil:
		m.GasFeeCap, m.GasTipCap = u256(c.MaxFeePerGas), u256(c.MaxPriorityFeePerGas)
		m.GasPrice = new(uint256.Int).Set(m.GasFeeCap)
		if header.BaseFee != nil {
			bf, _ := uint256.FromBig(header.BaseFee)
			if p := new(uint256.Int).Add(bf, m.GasTipCap); p.Cmp(m.GasFeeCap) < 0 {
				m.GasPrice = p
			}
		}
	}
	if c.Input != nil {
		m.Data = *c.Input
	} else if c.Data != nil {
		m.Data = *c.Data
	}
	if c.AccessList != nil {
		m.AccessList = *c.AccessList
	}
	if c.Nonce != nil {
		m.Nonce = uint64(*c.Nonce)
	}
	m.SkipNonceCheck()
	return m.SkipEOACheck().SkipGasLimitCapCheck(), nil
}

func (a *ethAPI) evm(st *state.StateDB, h *types.Header, msg *core.Message) *vm.EVM {
	bctx := core.NewEVMBlockContext(h, a.s.backend.ChainContext(), nil)
	if msg.GasPrice.IsZero() {
		// Calls with no gas price run with a zero base fee, as geth does.
		bctx.BaseFee = new(big.Int)
	}
	return vm.NewEVM(bctx, st, a.s.backend.ChainConfig(), vm.Config{NoBaseFee: true})
}

// revertError carries revert data like geth's (code 3).
type revertError struct {
	error
	reason string
}

func (e *revertError) ErrorCode() int         { return 3 }
func (e *revertError) ErrorData() interface{} { return e.reason }

func newRevertError(ret []byte) *revertError {
	err := errors.New("execution reverted")
	if reason, errUnpack := abiUnpackRevert(ret); errUnpack == nil {
		err = fmt.Errorf("execution reverted: %v", reason)
	}
	return &revertError{error: err, reason: hexutil.Encode(ret)}
}

// Call is eth_call.
func (a *ethAPI) Call(ctx context.Context, args CallArgs, bnh *rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	if bnh == nil {
		latest := rpc.BlockNumberOrHashWithNumber(rpc.LatestBlockNumber)
		bnh = &latest
	}
	st, h, err := a.stateAt(*bnh)
	if err != nil {
		return nil, err
	}
	msg, err := args.message(h, rpcGasCap, false)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	evm := a.evm(st, h, msg)
	go func() { <-ctx.Done(); evm.Cancel() }()
	res, err := core.ApplyMessage(evm, msg, core.NewGasPool(math256))
	if err != nil {
		return nil, fmt.Errorf("err: %w (supplied gas %d)", err, msg.GasLimit)
	}
	if evm.Cancelled() {
		return nil, fmt.Errorf("execution aborted (timeout = 5s)")
	}
	if len(res.Revert()) > 0 {
		return nil, newRevertError(res.Revert())
	}
	return res.Return(), res.Err
}

const math256 = ^uint64(0)

// EstimateGas is eth_estimateGas (go-ethereum's estimator).
func (a *ethAPI) EstimateGas(ctx context.Context, args CallArgs, bnh *rpc.BlockNumberOrHash) (hexutil.Uint64, error) {
	if bnh == nil {
		latest := rpc.BlockNumberOrHashWithNumber(rpc.LatestBlockNumber)
		bnh = &latest
	}
	st, h, err := a.stateAt(*bnh)
	if err != nil {
		return 0, err
	}
	msg, err := args.message(h, rpcGasCap, true)
	if err != nil {
		return 0, err
	}
	gas, ret, err := gasestimator.Estimate(ctx, msg, &gasestimator.Options{
		Config: a.s.backend.ChainConfig(), Chain: a.s.backend.ChainContext(), Header: h, State: st, ErrorRatio: 0.015,
	}, rpcGasCap)
	if err != nil {
		if len(ret) > 0 {
			return 0, newRevertError(ret)
		}
		return 0, err
	}
	return hexutil.Uint64(gas), nil
}

// GasPrice is eth_gasPrice: next base fee plus the suggested tip.
func (a *ethAPI) GasPrice() *hexutil.Big {
	h := a.s.backend.Head()
	p := big.NewInt(suggestedTip)
	if h.BaseFee != nil {
		p.Add(p, h.BaseFee)
	}
	return (*hexutil.Big)(p)
}

// MaxPriorityFeePerGas is eth_maxPriorityFeePerGas.
func (a *ethAPI) MaxPriorityFeePerGas() *hexutil.Big { return (*hexutil.Big)(big.NewInt(suggestedTip)) }

type feeHistoryResult struct {
	OldestBlock  *hexutil.Big     `json:"oldestBlock"`
	Reward       [][]*hexutil.Big `json:"reward,omitempty"`
	BaseFee      []*hexutil.Big   `json:"baseFeePerGas,omitempty"`
	GasUsedRatio []float64        `json:"gasUsedRatio"`
	BlobBaseFee  []*hexutil.Big   `json:"baseFeePerBlobGas,omitempty"`
	BlobGasRatio []float64        `json:"blobGasUsedRatio,omitempty"`
}

// FeeHistory is eth_feeHistory.
func (a *ethAPI) FeeHistory(count gmath.HexOrDecimal64, last rpc.BlockNumber, percentiles []float64) (*feeHistoryResult, error) {
	for i, p := range percentiles {
		if p < 0 || p > 100 || (i > 0 && p < percentiles[i-1]) {
			return nil, fmt.Errorf("invalid reward percentile %v", p)
		}
	}
	lh, err := a.headerOf(last)
	if err != nil || lh == nil {
		return nil, fmt.Errorf("block %d not found", last)
	}
	n := min(uint64(count), maxFeeHistory, lh.Number.Uint64()+1)
	oldest := lh.Number.Uint64() + 1 - n
	res := &feeHistoryResult{OldestBlock: (*hexutil.Big)(new(big.Int).SetUint64(oldest)), GasUsedRatio: []float64{}}
	cfg := a.s.backend.ChainConfig()
	for num := oldest; num <= lh.Number.Uint64(); num++ {
		b := a.s.backend.BlockByNumber(num)
		if b == nil {
			return nil, fmt.Errorf("block %d not found", num)
		}
		res.BaseFee = append(res.BaseFee, (*hexutil.Big)(b.BaseFee()))
		res.GasUsedRatio = append(res.GasUsedRatio, float64(b.GasUsed())/float64(b.GasLimit()))
		if len(percentiles) > 0 {
			res.Reward = append(res.Reward, rewards(b, a.s.backend.Receipts(b.Hash()), percentiles))
		}
		if num == lh.Number.Uint64() {
			res.BaseFee = append(res.BaseFee, (*hexutil.Big)(nextBaseFee(cfg, b.Header())))
		}
	}
	return res, nil
}

// rewards are the effective tips at the given gas-weighted percentiles.
func rewards(b *types.Block, receipts types.Receipts, percentiles []float64) []*hexutil.Big {
	out := make([]*hexutil.Big, len(percentiles))
	txs := b.Transactions()
	if len(txs) == 0 || len(receipts) != len(txs) {
		for i := range out {
			out[i] = (*hexutil.Big)(new(big.Int))
		}
		return out
	}
	type tg struct {
		tip *big.Int
		gas uint64
	}
	s := make([]tg, len(txs))
	for i, tx := range txs {
		s[i] = tg{tx.EffectiveGasTipValue(b.BaseFee()), receipts[i].GasUsed}
	}
	sort.Slice(s, func(i, j int) bool { return s[i].tip.Cmp(s[j].tip) < 0 })
	var idx int
	sum := s[0].gas
	for i, p := range percentiles {
		th := uint64(float64(b.GasUsed()) * p / 100)
		for sum < th && idx < len(s)-1 {
			idx++
			sum += s[idx].gas
		}
		out[i] = (*hexutil.Big)(s[idx].tip)
	}
	return out
}

// SendRawTransaction is eth_sendRawTransaction: the tx is checked as geth's
// txpool would, then handed to Weft; the call returns once Weft's mempool
// holds it.
func (a *ethAPI) SendRawTransaction(ctx context.Context, input hexutil.Bytes) (common.Hash, error) {
	tx, sender, acct, err := a.s.validateRaw(input)
	if err != nil {
		return common.Hash{}, err
	}
	if err := a.s.submit(ctx, tx, sender, acct, input); err != nil {
		return common.Hash{}, err
	}
	return tx.Hash(), nil
}

// GetTransactionByHash is eth_getTransactionByHash.
func (a *ethAPI) GetTransactionByHash(hash common.Hash) (*rpcTx, error) {
	b := a.s.backend
	if bh, num, idx, ok := b.TxLookup(hash); ok {
		blk := b.BlockByHash(bh)
		if blk != nil && int(idx) < len(blk.Transactions()) {
			return marshalTx(blk.Transactions()[idx], bh, num, blk.Time(), idx, blk.BaseFee(), b.ChainConfig()), nil
		}
	}
	if tx, ok := a.s.inflight.get(hash); ok {
		h := b.Head()
		return marshalTx(tx, common.Hash{}, h.Number.Uint64(), h.Time, 0, nil, b.ChainConfig()), nil
	}
	return nil, nil
}

// GetTransactionReceipt is eth_getTransactionReceipt.
func (a *ethAPI) GetTransactionReceipt(hash common.Hash) (map[string]any, error) {
	b := a.s.backend
	bh, num, idx, ok := b.TxLookup(hash)
	if !ok {
		return nil, nil
	}
	blk := b.BlockByHash(bh)
	rs := b.Receipts(bh)
	if blk == nil || int(idx) >= len(rs) || int(idx) >= len(blk.Transactions()) {
		return nil, nil
	}
	tx := blk.Transactions()[idx]
	from, _ := types.Sender(types.MakeSigner(b.ChainConfig(), new(big.Int).SetUint64(num), blk.Time()), tx)
	return marshalReceipt(rs[idx], tx, from, blk.BaseFee()), nil
}

// GetLogs is eth_getLogs.
func (a *ethAPI) GetLogs(ctx context.Context, crit filters.FilterCriteria) ([]*types.Log, error) {
	b := a.s.backend
	var from, to uint64
	if crit.BlockHash != nil {
		h := b.HeaderByHash(*crit.BlockHash)
		if h == nil {
			return nil, errors.New("unknown block")
		}
		from, to = h.Number.Uint64(), h.Number.Uint64()
	} else {
		head := b.Head().Number.Uint64()
		from, to = head, head
		resolve := func(n *big.Int, def uint64) (uint64, error) {
			if n == nil {
				return def, nil
			}
			h, err := a.headerOf(rpc.BlockNumber(n.Int64()))
			if err != nil || h == nil {
				return 0, fmt.Errorf("block %v not found", n)
			}
			return h.Number.Uint64(), nil
		}
		var err error
		if from, err = resolve(crit.FromBlock, head); err != nil {
			return nil, err
		}
		if to, err = resolve(crit.ToBlock, head); err != nil {
			return nil, err
		}
		if from > to {
			return nil, errors.New("invalid block range params")
		}
		if to-from > maxLogRange {
			return nil, fmt.Errorf("block range too large: at most %d blocks per query", maxLogRange)
		}
	}
	out := []*types.Log{}
	for n := from; n <= to; n++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		h := b.HeaderByNumber(n)
		if h == nil || !bloomMatches(h.Bloom, crit.Addresses, crit.Topics) {
			continue
		}
		for _, r := range b.Receipts(h.Hash()) {
			for _, l := range r.Logs {
				if logMatches(l, crit.Addresses, crit.Topics) {
					out = append(out, l)
				}
			}
		}
	}
	return out, nil
}

func bloomMatches(bloom types.Bloom, addrs []common.Address, topics [][]common.Hash) bool {
	if len(addrs) > 0 {
		ok := false
		for _, a := range addrs {
			if types.BloomLookup(bloom, a) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, sub := range topics {
		if len(sub) == 0 {
			continue
		}
		ok := false
		for _, t := range sub {
			if types.BloomLookup(bloom, t) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func logMatches(l *types.Log, addrs []common.Address, topics [][]common.Hash) bool {
	if len(addrs) > 0 {
		ok := false
		for _, a := range addrs {
			if l.Address == a {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(topics) > len(l.Topics) {
		return false
	}
	for i, sub := range topics {
		if len(sub) == 0 {
			continue
		}
		ok := false
		for _, t := range sub {
			if l.Topics[i] == t {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// NewHeads is eth_subscribe("newHeads").
func (a *ethAPI) NewHeads(ctx context.Context) (*rpc.Subscription, error) {
	return a.subscribe(ctx, func(ev *BlockEvent, send func(any)) {
		send(marshalHeader(ev.Block.Header()))
	})
}

// Logs is eth_subscribe("logs", criteria).
func (a *ethAPI) Logs(ctx context.Context, crit filters.FilterCriteria) (*rpc.Subscription, error) {
	return a.subscribe(ctx, func(ev *BlockEvent, send func(any)) {
		for _, l := range ev.Logs {
			if logMatches(l, crit.Addresses, crit.Topics) {
				send(l)
			}
		}
	})
}

// subscribe opens an eth_subscribe subscription that notifies what each
// executed block yields through on, until the client or the feed goes away.
func (a *ethAPI) subscribe(ctx context.Context, on func(ev *BlockEvent, send func(any))) (*rpc.Subscription, error) {
	notifier, ok := rpc.NotifierFromContext(ctx)
	if !ok {
		return nil, rpc.ErrNotificationsUnsupported
	}
	sub := notifier.CreateSubscription()
	ch := make(chan *BlockEvent, 64)
	bsub := a.s.backend.SubscribeBlocks(ch)
	send := func(v any) { _ = notifier.Notify(sub.ID, v) }
	go func() {
		defer bsub.Unsubscribe()
		for {
			select {
			case ev := <-ch:
				on(ev, send)
			case <-sub.Err():
				return
			case <-bsub.Err():
				return
			}
		}
	}()
	return sub, nil
}
