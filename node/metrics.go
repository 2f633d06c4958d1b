package node

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weftnet/weft/consensus"
	"github.com/weftnet/weft/p2p"
)

var (
	submitted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "weft", Name: "api_submitted_txs_total",
		Help: "Transactions submitted through the node API, by result.",
	}, []string{"result"})
	metricsOnce sync.Once
)

// registerMetrics exposes Weft's metrics on the registry CometBFT's
// Prometheus endpoint serves. One node per process registers them.
func registerMetrics(app *consensus.App, n *Node) {
	metricsOnce.Do(func() {
		for _, c := range gossipCounters {
			prometheus.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "weft", Name: "gossip_" + c.name, Help: c.help},
				func() float64 { return float64(c.value(n.GossipStats())) }))
		}
		prometheus.MustRegister(submitted,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "weft", Name: "mempool_txs", Help: "Transactions pending in the app-side mempool.",
			}, func() float64 { n, _ := app.Mempool().Size(); return float64(n) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "weft", Name: "mempool_bytes", Help: "Bytes pending in the app-side mempool.",
			}, func() float64 { _, b := app.Mempool().Size(); return float64(b) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: "weft", Name: "tx_signature_recoveries_total",
				Help: "Tx signers recovered from their signatures (secp256k1), for txs from clients, peers and blocks alike.",
			}, func() float64 { return float64(consensus.SignatureRecoveries()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "weft", Name: "app_height", Help: "Last height committed by the Weft app.",
			}, func() float64 { h, _ := app.Committed(); return float64(h) }),
		)
	})
}

// gossipCounters are the weft_gossip_* counters, read from the node's
// gossip stats.
var gossipCounters = []struct {
	name, help string
	value      func(p2p.StandingStats) uint64
}{
	{"peer_bans_total", "Gossip peers banned for invalid messages or for exceeding their budget.",
		func(st p2p.StandingStats) uint64 { return uint64(st.Bans) }},
	{"rpcs_dropped_over_budget_total", "Gossip RPCs dropped unread because their peer was over its budget.",
		func(st p2p.StandingStats) uint64 { return st.DroppedOver }},
	{"rpcs_dropped_banned_total", "Gossip RPCs dropped unread because their peer is banned.",
		func(st p2p.StandingStats) uint64 { return st.DroppedBanned }},
	{"connections_refused_total", "Connections to or from banned gossip peers refused.",
		func(st p2p.StandingStats) uint64 { return st.RefusedConnect }},
	{"messages_received_total", "Gossip messages taken in for validation (first copies).",
		func(st p2p.StandingStats) uint64 { return st.Received }},
	{"received_bytes_total", "Data bytes of the gossip messages taken in for validation.",
		func(st p2p.StandingStats) uint64 { return st.ReceivedBytes }},
	{"duplicate_messages_total", "Gossip messages dropped as copies of ones already seen (relayed by more than one peer).",
		func(st p2p.StandingStats) uint64 { return st.Duplicates }},
	{"duplicate_bytes_total", "Data bytes of the duplicate gossip messages dropped.",
		func(st p2p.StandingStats) uint64 { return st.DuplicateBytes }},
}
