package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/p2p"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/test/e2e/nettest"
)

// metrics scrapes a node's Prometheus endpoint into name{labels} → value.
func (n *network) metrics(i int) (map[string]float64, error) {
	ctx, cancel := nettest.RPCCtx()
	defer cancel()
	resp, err := httpGet(ctx, n.nodes[i].info.Metrics)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[sp+1:], 64); err == nil {
			out[line[:sp]] = v
		}
	}
	return out, sc.Err()
}

// floodBatches are the 64-tx batches the flooder cycles through: bytes that
// do not decode, well-formed txs whose signature cannot be recovered, and
// correctly signed txs from accounts with no funds (useless rather than
// invalid by themselves; the flooder adds an undecodable tx to every
// message anyway, see startFlooder).
func floodBatches(t *testing.T, chainID string) [][][]byte {
	t.Helper()
	garbage := make([][]byte, 64)
	badSig := make([][]byte, 64)
	unfunded := make([][]byte, 64)
	key := nettest.DevKey(t, 19)
	for i := range garbage {
		garbage[i] = make([]byte, 250)
		_, _ = rand.Read(garbage[i])
		raw := mustSign(t, chainID, key, uint64(1_000_000+i), client.RollupData(rollupNames[i%3], payload(i, 0)))
		var st weftv1.SignedTx
		if err := proto.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		st.Signature[64] = 9 // no such recovery id
		var err error
		if badSig[i], err = proto.Marshal(&st); err != nil {
			t.Fatal(err)
		}
	}
	for i := range unfunded {
		// Signed by a key that holds nothing: a fresh one per tx.
		fresh, err := ethcrypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		unfunded[i] = mustSign(t, chainID, fresh, 0, client.RollupData(rollupNames[i%3], payload(i, 1)))
	}
	return [][][]byte{garbage, badSig, unfunded}
}

// flooder is a libp2p peer that joins the validators' tx topic through one
// node and publishes invalid batches as fast as it is allowed to.
type flooder struct {
	feed   *p2p.Feed
	g      *p2p.TxGossip
	target peer.AddrInfo
	sent   atomic.Int64
	stop   chan struct{}
	wg     sync.WaitGroup
}

func startFlooder(t *testing.T, chainID, targetAddr string, batches [][][]byte) *flooder {
	t.Helper()
	ai, err := peer.AddrInfoFromString(targetAddr)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f, err := p2p.NewFeed(ctx, key, []string{"/ip4/127.0.0.1/udp/0/quic-v1"}, []peer.AddrInfo{*ai})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	g, err := f.GossipTxs(ctx, chainID, func([]byte) p2p.TxResult { return p2p.TxUseless })
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	fl := &flooder{feed: f, g: g, target: *ai, stop: make(chan struct{})}
	t.Cleanup(func() {
		fl.halt()
		cancel()
		_ = g.Close()
		_ = f.Close()
	})
	nettest.WaitFor(t, 30*time.Second, 50*time.Millisecond, "the flooder in the tx topic", func() error {
		if len(g.Peers()) == 0 {
			return fmt.Errorf("no topic peer yet")
		}
		return nil
	})
	fl.wg.Add(2)
	go func() {
		defer fl.wg.Done()
		// Up to 2,000 messages of 64 txs a second: far more than the
		// target's budget for one peer; bounded so that the flooder, which
		// shares this machine's two cores with the network, does not
		// starve the validators by itself.
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-fl.stop:
				return
			case <-tick.C:
			}
			for j := 0; j < 2; j++ {
				// Messages are identified by content, so each carries one
				// more undecodable tx of its own: repeats would stop at the
				// seen cache before validation, which costs a flooder
				// nothing to get past.
				n := 2*i + j
				b := append(slices.Clone(batches[n%len(batches)]), binary.BigEndian.AppendUint64([]byte("junk"), uint64(n)))
				if err := g.Publish(ctx, b); err == nil {
					fl.sent.Add(1)
				}
			}
		}
	}()
	go func() {
		defer fl.wg.Done()
		// Keep trying to get back in (a no-op while connected).
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-fl.stop:
				return
			case <-tick.C:
			}
			cctx, ccancel := context.WithTimeout(ctx, time.Second)
			_ = f.Connect(cctx, fl.target)
			ccancel()
		}
	}()
	return fl
}

func (fl *flooder) halt() {
	select {
	case <-fl.stop:
	default:
		close(fl.stop)
	}
	fl.wg.Wait()
}

// honestPhase sends perSender rollup-data txs from each of accounts,
// spread over all four nodes at a steady rate, and returns the committed
// throughput (txs over the time from the first submit to the last commit
// seen by the node each tx was sent to) and the median latency.
func (n *network) honestPhase(t *testing.T, accounts []int, perSender int) (tps float64, p50 time.Duration) {
	t.Helper()
	from := n.MaxHeight(n.All()...) + 1
	w := n.watchCommits(from)
	defer w.close()
	actions := func(k int, nonce uint64) []*weftv1.Action {
		return []*weftv1.Action{client.RollupData(rollupNames[(k+int(nonce))%len(rollupNames)], payload(k, nonce))}
	}
	l := n.startLoad(loadOptions{accounts: accounts, nodeOf: func(k int) int { return k % 4 }, perSender: perSender, interval: 30 * time.Millisecond, actions: actions})
	l.wait(2 * time.Minute)
	l.checkNoRejections(t, "honest load")
	acked := l.snapshot()
	if len(acked) != len(accounts)*perSender {
		t.Fatalf("acknowledged %d txs, want %d", len(acked), len(accounts)*perSender)
	}
	var lat []time.Duration
	n.WaitFor(2*time.Minute, "every honest tx committed", func() (err error) {
		lat, err = w.latencies(acked)
		return err
	})
	first, last := acked[0].submitted, time.Time{}
	for i, a := range acked {
		if a.submitted.Before(first) {
			first = a.submitted
		}
		if c := a.submitted.Add(lat[i]); c.After(last) {
			last = c
		}
	}
	return float64(len(acked)) / last.Sub(first).Seconds(), quantile(lat, 0.5)
}

// TestFloodOneValidatorWithInvalidTxs floods node0's gossip host with
// invalid tx batches from one peer while honest clients keep sending to all
// four validators: the honest throughput stays within 80% of what it was
// without the flood, node0 bans the flooder (its connection is closed and
// reconnections refused), and node0's memory stays bounded.
func TestFloodOneValidatorWithInvalidTxs(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, 4)
	n.WaitHeight(time.Minute, 3, n.All()...)
	const perSender = 150
	normal, normalP50 := n.honestPhase(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}, perSender)
	t.Logf("without flood: %.0f tx/s committed, p50 %v", normal, normalP50.Round(time.Millisecond))

	before, err := n.metrics(0)
	if err != nil {
		t.Fatal(err)
	}
	fl := startFlooder(t, n.chainID, n.nodes[0].info.Feed, floodBatches(t, n.chainID))
	flooded, floodedP50 := n.honestPhase(t, []int{9, 10, 11, 12, 13, 14, 15, 16, 17}, perSender)
	fl.halt()
	after, err := n.metrics(0)
	if err != nil {
		t.Fatal(err)
	}
	// One more attempt to get back in, after the flood: node0 refuses it
	// (over QUIC the dialer may see the handshake complete before node0's
	// gater closes the connection, so the refusal is read from node0).
	cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
	redialErr := fl.feed.Connect(cctx, fl.target)
	ccancel()
	n.WaitFor(30*time.Second, "node0 refuses the flooder's redial", func() error {
		m, err := n.metrics(0)
		if err != nil {
			return err
		}
		if m["weft_gossip_connections_refused_total"] <= after["weft_gossip_connections_refused_total"] {
			return fmt.Errorf("refused %v", m["weft_gossip_connections_refused_total"])
		}
		if len(fl.g.Peers()) != 0 {
			return fmt.Errorf("the flooder is back in the tx topic")
		}
		return nil
	})
	t.Logf("with flood:    %.0f tx/s committed, p50 %v (%.0f%% of normal); the flooder published %d messages of 64 txs; its last redial: %v",
		flooded, floodedP50.Round(time.Millisecond), 100*flooded/normal, fl.sent.Load(), redialErr)
	t.Logf("node0: bans %v, RPCs dropped banned %v / over budget %v, connections refused %v; RSS %.0f → %.0f MiB; mempool %v txs, %v bytes",
		after["weft_gossip_peer_bans_total"], after["weft_gossip_rpcs_dropped_banned_total"], after["weft_gossip_rpcs_dropped_over_budget_total"],
		after["weft_gossip_connections_refused_total"], before["process_resident_memory_bytes"]/(1<<20), after["process_resident_memory_bytes"]/(1<<20),
		after["weft_mempool_txs"], after["weft_mempool_bytes"])

	if flooded < 0.8*normal {
		t.Errorf("honest throughput under flood %.0f tx/s is below 80%% of normal %.0f tx/s", flooded, normal)
	}
	if after["weft_gossip_peer_bans_total"] < 1 {
		t.Errorf("node0 did not ban the flooder")
	}
	if got := len(fl.g.Peers()); got != 0 {
		t.Errorf("the flooder still has %d tx-topic peers", got)
	}
	if after["weft_gossip_connections_refused_total"] < 1 {
		t.Errorf("node0 refused none of the flooder's reconnections")
	}
	// Nothing the flooder sent is pending, and node0's memory did not
	// balloon.
	if after["weft_mempool_txs"] > 0 {
		t.Errorf("node0's mempool holds %v txs after every honest tx committed", after["weft_mempool_txs"])
	}
	if grow := after["process_resident_memory_bytes"] - before["process_resident_memory_bytes"]; grow > 256<<20 {
		t.Errorf("node0's RSS grew by %.0f MiB under the flood", grow/(1<<20))
	}
}
