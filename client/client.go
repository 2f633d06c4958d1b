package client

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/txcodec"
)

// Client talks to one node.
type Client struct {
	conn *grpc.ClientConn
	API  weftv1.NodeAPIClient
}

// Dial connects to a node API at "host:port"; opts add to the defaults
// (the CLI's per-call timeout, say).
func Dial(addr string, opts ...grpc.DialOption) (*Client, error) {
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20))}, opts...)
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &Client{conn: conn, API: weftv1.NewNodeAPIClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// RollupData is an action ordering data for the named rollup.
func RollupData(name string, data []byte) *weftv1.Action {
	id := rollups.IDFromName(name)
	return &weftv1.Action{Kind: &weftv1.Action_RollupData{RollupData: &weftv1.RollupData{RollupId: id[:], Data: data}}}
}

// Transfer is an action sending amount to to.
func Transfer(to [20]byte, amount *uint256.Int) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_Transfer{Transfer: &weftv1.Transfer{To: to[:], Amount: amount.Bytes()}}}
}

// RegisterRollup is an action registering an EVM rollup.
func RegisterRollup(name string, evmChainID uint64) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_RegisterRollup{RegisterRollup: &weftv1.RegisterRollup{Name: name, Vm: "evm", EvmChainId: evmChainID}}}
}

// Build signs a tx of actions. With nonce < 0 the node's pending nonce of
// the sender is used.
func (c *Client) Build(ctx context.Context, key *ecdsa.PrivateKey, nonce int64, feeLimit *uint256.Int, actions ...*weftv1.Action) ([]byte, error) {
	st, err := c.API.GetStatus(ctx, &weftv1.GetStatusRequest{})
	if err != nil {
		return nil, err
	}
	if nonce < 0 {
		acc, err := c.API.GetAccount(ctx, &weftv1.GetAccountRequest{Address: crypto.PubkeyToAddress(key.PublicKey).Bytes()})
		if err != nil {
			return nil, err
		}
		nonce = int64(acc.PendingNonce)
	}
	return txcodec.Sign(key, &weftv1.TxBody{ChainId: st.ChainId, Nonce: uint64(nonce), FeeLimit: feeLimit.Bytes(), Actions: actions})
}

// Submit sends a signed tx and returns its hash.
func (c *Client) Submit(ctx context.Context, tx []byte) ([32]byte, error) {
	r, err := c.API.SubmitTx(ctx, &weftv1.SubmitTxRequest{Tx: tx})
	if err != nil {
		return [32]byte{}, err
	}
	return [32]byte(r.Hash), nil
}

// WaitTx polls until the tx is committed or dropped, or ctx ends.
func (c *Client) WaitTx(ctx context.Context, hash [32]byte) (*weftv1.GetTxResponse, error) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		r, err := c.API.GetTx(ctx, &weftv1.GetTxRequest{Hash: hash[:]})
		if err != nil {
			return nil, err
		}
		switch r.Status {
		case weftv1.TxStatus_TX_STATUS_COMMITTED:
			return r, nil
		case weftv1.TxStatus_TX_STATUS_DROPPED:
			return r, fmt.Errorf("tx %x dropped: %s", hash, r.Log)
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("tx %x not committed: %w", hash, ctx.Err())
		case <-t.C:
		}
	}
}

// CreateValidator is an action creating a validator with consensus key pk
// (33-byte compressed secp256k1), bonding selfStake.
func CreateValidator(pk []byte, selfStake *uint256.Int, commissionBps uint32, moniker string) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_CreateValidator{CreateValidator: &weftv1.CreateValidator{
		ConsensusPubKey: pk, SelfStake: selfStake.Bytes(), CommissionBps: commissionBps, Moniker: moniker,
	}}}
}

// Delegate is an action bonding amount to validator.
func Delegate(validator [20]byte, amount *uint256.Int) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_Delegate{Delegate: &weftv1.Delegate{Validator: validator[:], Amount: amount.Bytes()}}}
}

// Undelegate is an action unbonding amount from validator.
func Undelegate(validator [20]byte, amount *uint256.Int) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_Undelegate{Undelegate: &weftv1.Undelegate{Validator: validator[:], Amount: amount.Bytes()}}}
}

// Unjail is an action returning a jailed validator to candidacy.
func Unjail(validator [20]byte) *weftv1.Action {
	return &weftv1.Action{Kind: &weftv1.Action_Unjail{Unjail: &weftv1.Unjail{Validator: validator[:]}}}
}
