package ui

import (
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// at is the fixtures' wall clock.
var at = time.Date(2026, 12, 7, 16, 30, 0, 0, time.UTC)

func wei(s string) []byte {
	v, _ := new(big.Int).SetString(s, 10)
	return v.Bytes()
}

// fixture is a four-validator network with one node serving two rollups,
// one of them settled, and hostile text where people's input shows.
func fixture() *weftv1.NetworkStatus {
	addr := func(s string) []byte { return common.HexToAddress(s).Bytes() }
	st := &weftv1.NetworkStatus{
		ChainId: "weft-devnet", Moniker: "node0", NodeId: "84e36f51", Height: 1234,
		BlockTimeUnixNano: at.Add(-400 * time.Millisecond).UnixNano(), BlockIntervalNanos: int64(312 * time.Millisecond), IntervalBlocks: 20,
		CollectedUnixNano: at.UnixNano(), MempoolTxs: 3, SignedBlocksWindow: 1000, MaxMissedBlocks: 500,
		Validators: []*weftv1.ValidatorStatus{
			{Moniker: "node0", Operator: addr("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"), Address: addr("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"),
				Tokens: wei("1500000000000000000"), Power: 10, RecentBlocks: 20},
			{Moniker: "<script>alert(1)</script>", Operator: addr("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"), Address: addr("0x90f79bf6eb2c4f870365e785982e1f101e93b906"),
				Tokens: wei("10000000000000000000"), Power: 10, MissedBlocks: 12, RecentMissed: 12, RecentBlocks: 20},
			{Moniker: "node2", Operator: addr("0x15d34aaf54267db7d7c367839aaf71a00a2c6a65"), Address: addr("0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc"),
				Tokens: wei("10000000000000000000"), Jailed: true, JailedUntilHeight: 4000, RecentBlocks: 20},
			{Moniker: "node3", Operator: addr("0x976ea74026e726554db657fa54763abd0c3a0aa9"), Address: addr("0x14dc79964da2c08b23698b3d3cc7ca32193d9955"),
				Tokens: wei("10000000000000000000"), Power: 10, RecentBlocks: 20},
		},
		Rollups: []*weftv1.RollupStatus{
			{Name: "alpha", Id: common.HexToHash("0xa1").Bytes(), EvmChainId: 901, RpcUrl: "http://127.0.0.1:8546", WeftHeight: 1234,
				LatestBlock: 300, SafeBlock: 280, FinalizedBlock: 200, SafeWeftHeight: 1180, FinalizedWeftHeight: 1000,
				SettlementLagNanos: int64(95 * time.Second),
				Settlement: &weftv1.RollupSettlement{Inbox: addr("0xcfa5c7344859e4cfd7b7bfecb7306242ff1d2bc8"), Batcher: true, Relayer: true,
					L1Head: 90, L1HeadTimeUnixNano: at.Add(-time.Second).UnixNano(), BatchesPosted: 12, PostedWeftHeight: 1180, PendingFrames: 1, PendingBatches: 2,
					LastPostL1Block: 88, LastPostTimeUnixNano: at.Add(-4 * time.Second).UnixNano(), DepositsL1: 5, DepositsCredited: 3,
					ChallengeWindowSeconds: 60, MaxBatchAgeNanos: int64(5 * time.Second)}},
			{Name: "beta", Id: common.HexToHash("0xb2").Bytes(), EvmChainId: 902, RpcUrl: "javascript:alert(1)", WeftHeight: 1200,
				Settlement: &weftv1.RollupSettlement{Inbox: addr("0xad6cd1a9d09f5de781d9c0acf22997688798b5a2"), Batcher: true,
					L1Error: "dial tcp 127.0.0.1:8545: connect: connection refused"}},
		},
	}
	st.Warnings = Warnings(st, at)
	return st
}
