package node

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cometbft/cometbft/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/consensus/staking"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/rollups"
	"github.com/weftnet/weft/rollups/feed"
	"github.com/weftnet/weft/txcodec"
)

// apiServer implements the Weft node API over gRPC.
type apiServer struct {
	weftv1.UnimplementedNodeAPIServer
	app  *consensus.App
	node *Node
	log  *slog.Logger
}

// rejectionStatus maps a Weft rejection to a gRPC status whose message
// starts with the Weft code, so clients can act on both.
func rejectionStatus(r *txcodec.Rejection) error {
	c := codes.InvalidArgument
	switch r.Code {
	case txcodec.CodeMempoolFull:
		c = codes.ResourceExhausted
	case txcodec.CodeNonceTooLow, txcodec.CodeNonceGap, txcodec.CodeNoncePending,
		txcodec.CodeInsufficientFunds, txcodec.CodeRollupExists, txcodec.CodeReplacementUnderpriced,
		txcodec.CodeNonceTooFarAhead, txcodec.CodeTooManyParked:
		c = codes.FailedPrecondition
	case txcodec.CodeUnknownRollup:
		c = codes.NotFound
	case txcodec.CodeNotAccepting:
		c = codes.Unavailable
	}
	return status.Errorf(c, "weft code %d (%s): %s", r.Code, txcodec.CodeName(r.Code), r.Log)
}

// SubmitTx validates, journals and pools a tx. Resubmitting a pending or
// committed tx succeeds, so clients may retry safely.
func (s *apiServer) SubmitTx(_ context.Context, req *weftv1.SubmitTxRequest) (*weftv1.SubmitTxResponse, error) {
	h := txcodec.TxHash(req.Tx)
	if r := s.app.Reader().TxResult(h); r != nil {
		submitted.WithLabelValues("already_committed").Inc()
		return &weftv1.SubmitTxResponse{Hash: h[:], Log: fmt.Sprintf("already committed at height %d", r.Height)}, nil
	}
	h, rej := s.app.Submit(req.Tx, true)
	if rej != nil {
		if rej.Code == txcodec.CodeAlreadyKnown {
			submitted.WithLabelValues("already_pending").Inc()
			return &weftv1.SubmitTxResponse{Hash: h[:], Log: "already pending"}, nil
		}
		submitted.WithLabelValues(txcodec.CodeName(rej.Code)).Inc()
		return nil, rejectionStatus(rej)
	}
	submitted.WithLabelValues("ok").Inc()
	return &weftv1.SubmitTxResponse{Hash: h[:]}, nil
}

func (s *apiServer) GetAccount(_ context.Context, req *weftv1.GetAccountRequest) (*weftv1.GetAccountResponse, error) {
	if len(req.Address) != common.AddressLength {
		return nil, status.Errorf(codes.InvalidArgument, "address must be %d bytes, got %d", common.AddressLength, len(req.Address))
	}
	addr := common.BytesToAddress(req.Address)
	h, _ := s.app.Committed()
	acc := s.app.Reader().Account(addr)
	return &weftv1.GetAccountResponse{
		Address: addr.Bytes(), Account: acc, Height: h,
		PendingNonce: s.app.Mempool().NextNonce(addr, acc.Nonce),
	}, nil
}

func (s *apiServer) GetRollup(_ context.Context, req *weftv1.GetRollupRequest) (*weftv1.GetRollupResponse, error) {
	var r *weftv1.Rollup
	switch {
	case len(req.Id) > 0:
		id, err := rollups.IDFromBytes(req.Id)
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		r = s.app.Reader().Rollup(id)
	case req.Name != "":
		r = s.app.Reader().Rollup(rollups.IDFromName(req.Name))
	default:
		return nil, status.Error(codes.InvalidArgument, "give a rollup name or id")
	}
	if r == nil {
		return nil, status.Errorf(codes.NotFound, "rollup %q%x is not registered", req.Name, req.Id)
	}
	return &weftv1.GetRollupResponse{Rollup: r}, nil
}

func (s *apiServer) ListRollups(context.Context, *weftv1.ListRollupsRequest) (*weftv1.ListRollupsResponse, error) {
	rs, err := s.app.Reader().Rollups()
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &weftv1.ListRollupsResponse{Rollups: rs}, nil
}

func (s *apiServer) GetTx(_ context.Context, req *weftv1.GetTxRequest) (*weftv1.GetTxResponse, error) {
	if len(req.Hash) != 32 {
		return nil, status.Errorf(codes.InvalidArgument, "tx hash must be 32 bytes, got %d", len(req.Hash))
	}
	h := [32]byte(req.Hash)
	if r := s.app.Reader().TxResult(h); r != nil {
		return &weftv1.GetTxResponse{Status: weftv1.TxStatus_TX_STATUS_COMMITTED, Result: r}, nil
	}
	if s.app.Mempool().Get(h) != nil {
		return &weftv1.GetTxResponse{Status: weftv1.TxStatus_TX_STATUS_PENDING}, nil
	}
	if reason, ok := s.app.DroppedReason(h); ok {
		return &weftv1.GetTxResponse{Status: weftv1.TxStatus_TX_STATUS_DROPPED, Log: reason}, nil
	}
	return &weftv1.GetTxResponse{Status: weftv1.TxStatus_TX_STATUS_UNKNOWN}, nil
}

func (s *apiServer) GetStatus(context.Context, *weftv1.GetStatusRequest) (*weftv1.GetStatusResponse, error) {
	h, ah := s.app.Committed()
	n, _ := s.app.Mempool().Size()
	id, _, _ := NodeIdentity(s.node.ccfg)
	return &weftv1.GetStatusResponse{ChainId: s.app.ChainID(), Height: h, AppHash: ah, MempoolTxs: int64(n), NodeId: id}, nil
}

func (s *apiServer) GetBlock(_ context.Context, req *weftv1.GetBlockRequest) (*weftv1.GetBlockResponse, error) {
	height := req.Height
	if height == 0 {
		height = s.node.Committed()
	}
	if rb, meta, ok := s.node.recentBlock(height); ok {
		// A fresh block: its tx hashes are known, no need to load it.
		return blockResponse(&meta.Header, meta.BlockID.Hash, hashLeaves(rb), rb.Raw), nil
	}
	b, err := s.node.loadBlock(height)
	if err != nil {
		return nil, err
	}
	hashes := make([][]byte, len(b.Txs))
	for i, tx := range b.Txs {
		hashes[i] = tx.Hash()
	}
	return blockResponse(&b.Header, b.Hash(), hashes, b.Txs.ToSliceOfBytes()), nil
}

// blockResponse is GetBlock's answer for the block with header h, hash hash,
// txs txs and their hashes.
func blockResponse(h *types.Header, hash []byte, txHashes, txs [][]byte) *weftv1.GetBlockResponse {
	resp := &weftv1.GetBlockResponse{
		Height: h.Height, Hash: hash, TimeUnixNano: h.Time.UnixNano(), Proposer: h.ProposerAddress,
		AppHash: h.AppHash, TxCount: int64(len(txs)), TxHashes: txHashes,
	}
	if len(txs) > 0 {
		if c, err := rollups.DecodeCommitment(txs[0]); err == nil {
			resp.Commitment = c
		}
	}
	return resp
}

// StreamRollupSlices backfills from from_height, then follows new commits.
func (s *apiServer) StreamRollupSlices(req *weftv1.StreamRollupSlicesRequest, stream weftv1.NodeAPI_StreamRollupSlicesServer) error {
	id, err := rollups.IDFromBytes(req.RollupId)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if s.app.Reader().Rollup(id) == nil {
		return status.Errorf(codes.NotFound, "rollup %s is not registered", id)
	}
	return feed.Follow(stream.Context(), s.node, id, req.FromHeight, stream.Send)
}

func (s *apiServer) ListValidators(context.Context, *weftv1.ListValidatorsRequest) (*weftv1.ListValidatorsResponse, error) {
	h, _ := s.app.Committed()
	return &weftv1.ListValidatorsResponse{Validators: s.node.sortedValidators(), Height: h}, nil
}

// GetNetworkStatus is the node's status snapshot (Node.NetworkStatus).
func (s *apiServer) GetNetworkStatus(ctx context.Context, req *weftv1.GetNetworkStatusRequest) (*weftv1.GetNetworkStatusResponse, error) {
	resp, err := s.node.NetworkStatus(ctx, req.History)
	if err != nil {
		return nil, status.FromContextError(err).Err()
	}
	return resp, nil
}

func (s *apiServer) ListDelegations(_ context.Context, req *weftv1.ListDelegationsRequest) (*weftv1.ListDelegationsResponse, error) {
	if len(req.Delegator) != common.AddressLength {
		return nil, status.Errorf(codes.InvalidArgument, "delegator must be %d bytes, got %d", common.AddressLength, len(req.Delegator))
	}
	d := common.BytesToAddress(req.Delegator)
	sm := s.app.Reader().Staking()
	resp := &weftv1.ListDelegationsResponse{}
	for _, v := range sm.Validators() {
		if del := sm.Delegation(common.BytesToAddress(v.Address), d); del != nil {
			resp.Delegations = append(resp.Delegations, del)
			resp.Tokens = append(resp.Tokens, staking.TokensOf(v, new(uint256.Int).SetBytes(del.Shares)).Bytes())
		}
	}
	for _, u := range sm.Unbonding() {
		if common.BytesToAddress(u.Delegator) == d {
			resp.Unbonding = append(resp.Unbonding, u)
		}
	}
	return resp, nil
}
