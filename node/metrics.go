package node

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weftnet/weft/consensus"
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
		prometheus.MustRegister(submitted,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "weft", Name: "mempool_txs", Help: "Transactions pending in the app-side mempool.",
			}, func() float64 { n, _ := app.Mempool().Size(); return float64(n) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "weft", Name: "mempool_bytes", Help: "Bytes pending in the app-side mempool.",
			}, func() float64 { _, b := app.Mempool().Size(); return float64(b) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "weft", Name: "app_height", Help: "Last height committed by the Weft app.",
			}, func() float64 { h, _ := app.Committed(); return float64(h) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: "weft", Name: "gossip_peer_bans_total",
				Help: "Gossip peers banned for invalid messages or for exceeding their budget.",
			}, func() float64 { return float64(n.GossipStats().Bans) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: "weft", Name: "gossip_rpcs_dropped_over_budget_total",
				Help: "Gossip RPCs dropped unread because their peer was over its budget.",
			}, func() float64 { return float64(n.GossipStats().DroppedOver) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: "weft", Name: "gossip_rpcs_dropped_banned_total",
				Help: "Gossip RPCs dropped unread because their peer is banned.",
			}, func() float64 { return float64(n.GossipStats().DroppedBanned) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: "weft", Name: "gossip_connections_refused_total",
				Help: "Connections to or from banned gossip peers refused.",
			}, func() float64 { return float64(n.GossipStats().RefusedConnect) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: "weft", Name: "gossip_messages_received_total",
				Help: "Gossip messages taken in for validation (first copies).",
			}, func() float64 { return float64(n.GossipStats().Received) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: "weft", Name: "gossip_received_bytes_total",
				Help: "Data bytes of the gossip messages taken in for validation.",
			}, func() float64 { return float64(n.GossipStats().ReceivedBytes) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: "weft", Name: "gossip_duplicate_messages_total",
				Help: "Gossip messages dropped as copies of ones already seen (relayed by more than one peer).",
			}, func() float64 { return float64(n.GossipStats().Duplicates) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: "weft", Name: "gossip_duplicate_bytes_total",
				Help: "Data bytes of the duplicate gossip messages dropped.",
			}, func() float64 { return float64(n.GossipStats().DuplicateBytes) }),
		)
	})
}
