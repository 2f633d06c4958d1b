package p2p

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cometbft/cometbft/blocksync"
	"github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/lp2p"
	cmtp2p "github.com/cometbft/cometbft/p2p"
	bcproto "github.com/cometbft/cometbft/proto/tendermint/blocksync"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// The helper process (peer B) is this test binary run again with these
// variables set: see TestSupervisePeersHelper.
const (
	peerBHelperEnv = "WEFT_P2P_PEER_HELPER"
	peerBKeyEnv    = "WEFT_P2P_PEER_KEY"    // hex of B's ed25519 node key
	peerBListenEnv = "WEFT_P2P_PEER_LISTEN" // B's "127.0.0.1:port" (UDP, QUIC)
	peerBPeerEnv   = "WEFT_P2P_PEER_PEER"   // A's "127.0.0.1:port"
	peerBPeerIDEnv = "WEFT_P2P_PEER_PEER_ID"
)

// TestSupervisorClosesTheConnectionARestartedPeerReplaced: peer B, in a
// child process, is killed with SIGKILL and started again with the same key
// and UDP port. A's QUIC connection to the dead process still looks open:
// QUIC's idle timeout is 30 s, and the new process (whose stateless reset
// key derives from the same node key) resets it only when A next sends a
// packet on it — a retransmission, after a PTO backoff that doubled all the
// while B was down, or a new message. The messages A wrote to B meanwhile
// hold streams open on it (lp2p's stream close waits up to 10 s for B's
// protocol handshake), and go-libp2p's swarm sends on the connection with
// the most open streams, so the first message A sends to the restarted B
// goes into the dead connection and is lost with it. SupervisePeers must
// close the old connection as soon as B's new one opens.
func TestSupervisorClosesTheConnectionARestartedPeerReplaced(t *testing.T) {
	if os.Getenv(peerBHelperEnv) != "" {
		t.Skip("inside a helper")
	}
	if testing.Short() {
		t.Skip("kills a peer process and keeps it down for 4 s")
	}
	const (
		// B stays down longer than replacedAfter, so that the old
		// connection (opened just before the kill) is older than that
		// when B's new connection opens.
		down = replacedAfter + time.Second
		// With the supervisor the old connection is closed inside the new
		// one's Connected notification and a message reaches B at once.
		// Without it the message is lost, and the old connection closes
		// when that message or a retransmission draws B's stateless reset.
		within = 2 * time.Second
	)
	dir := t.TempDir()

	keyA, keyB := ed25519.GenPrivKey(), ed25519.GenPrivKey()
	idA, err := PeerID(keyA)
	if err != nil {
		t.Fatal(err)
	}
	idB, err := PeerID(keyB)
	if err != nil {
		t.Fatal(err)
	}
	keyOfB := cmtp2p.ID(idB.String()) // B's key in A's peer set
	addrB := "127.0.0.1:" + strconv.Itoa(freeLoopbackUDPPort(t))

	// A: in this process, listening on a port the kernel picks.
	logA, err := os.Create(filepath.Join(dir, "a.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logA.Close() })
	swA, hostA, err := newHeightsSwitch(keyA, "127.0.0.1:0", Peer{Host: addrB, ID: idB, NodeID: string(cmtp2p.PubKeyToID(keyB.PubKey()))},
		func(int64) {}, cmtlog.NewFilter(cmtlog.NewTMLogger(cmtlog.NewSyncWriter(logA)), cmtlog.AllowInfo()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if swA.IsRunning() {
			_ = swA.Stop()
		}
		_ = hostA.Close()
	})
	addrA, err := hostListenAddr(hostA)
	if err != nil {
		t.Fatal(err)
	}

	var procs []*peerBProc
	t.Cleanup(func() {
		for _, p := range procs {
			p.kill()
		}
		if t.Failed() {
			if b, err := os.ReadFile(logA.Name()); err == nil {
				t.Logf("A's log:\n%s", lastLines(b, 60))
			}
			for i, p := range procs {
				t.Logf("B's log (process %d):\n%s", i+1, lastLines(p.stderr.Bytes(), 60))
			}
		}
	})
	startB := func() *peerBProc {
		p := startPeerB(t, keyB, addrB, addrA, idA)
		procs = append(procs, p)
		return p
	}
	send := func(height int64) {
		p := swA.Peers().Get(keyOfB)
		if p == nil {
			t.Fatalf("A has no peer B to send height %d to", height)
		}
		// A send on a dead connection blocks (see above): send on the
		// side, as CometBFT's reactors do.
		go p.Send(cmtp2p.Envelope{ChannelID: blocksync.BlocksyncChannel, Message: &bcproto.StatusResponse{Height: height}})
	}

	// B dials A as soon as it starts; A's switch starts once connected, so
	// that its own bootstrap dial (which blocks Start for up to 10 s on a
	// peer that is not listening yet) is a no-op.
	b1 := startB()
	waitForPeerB(t, 30*time.Second, "B connected to A", b1, func() error {
		if hostA.Network().Connectedness(idB) != network.Connected {
			return fmt.Errorf("not connected")
		}
		return nil
	})
	if err := swA.Start(); err != nil {
		t.Fatal(err)
	}
	if err := SupervisePeers(swA); err != nil {
		t.Fatal(err)
	}
	waitForPeerB(t, 10*time.Second, "A having B as a peer", b1, func() error {
		if swA.Peers().Get(keyOfB) == nil {
			return fmt.Errorf("%d peers", swA.Peers().Size())
		}
		return nil
	})
	send(1)
	waitForPeerB(t, 10*time.Second, "B receiving height 1", b1, func() error { return b1.received.need(1) })
	old := hostA.Network().ConnsToPeer(idB)
	if len(old) != 1 {
		t.Fatalf("A has %d connections to B before the kill, want 1", len(old))
	}
	oldConn, oldPeer := old[0], swA.Peers().Get(keyOfB)
	oldClosed := make(chan time.Time, 1)
	hostA.Network().Notify(&network.NotifyBundle{DisconnectedF: func(_ network.Network, c network.Conn) {
		if c == oldConn {
			oldClosed <- time.Now()
		}
	}})

	b1.kill()
	killedAt := time.Now()
	// Written into the connection to the dead process, each leaving a
	// stream open there. All at once: A's retransmissions then back off
	// from the start of B's outage, so the old connection is unlikely to
	// be reset by chance just as B's new one opens.
	for h := int64(2); h <= 6; h++ {
		send(h)
	}
	<-time.NewTimer(down).C
	if n := len(hostA.Network().ConnsToPeer(idB)); n != 1 {
		t.Fatalf("A has %d connections to B after %v down, want the old one only", n, time.Since(killedAt).Round(time.Millisecond))
	}
	oldStreams := len(oldConn.GetStreams())

	restartedAt := time.Now()
	b2 := startB()
	// The supervisor handles B's new connection in its Connected
	// notification: it closes the connections it replaces, then replaces
	// B's peer in the switch. Send as soon as the peer is replaced.
	waitForPeerB(t, 30*time.Second, "A replacing peer B after B's new connection", b2, func() error {
		if p := swA.Peers().Get(keyOfB); p == nil || p == oldPeer {
			return fmt.Errorf("B's peer not replaced")
		}
		return nil
	})
	seenAt := time.Now()
	send(100)
	var fresh network.Conn
	for _, c := range hostA.Network().ConnsToPeer(idB) {
		if c.Stat().Opened.After(restartedAt) {
			fresh = c
		}
	}
	if fresh == nil {
		t.Fatal("A replaced peer B but has no connection to B opened since the restart")
	}
	t.Logf("B's new connection opened %v after the restart, %v after the old one, which had %d open streams",
		fresh.Stat().Opened.Sub(restartedAt).Round(time.Millisecond), fresh.Stat().Opened.Sub(oldConn.Stat().Opened).Round(time.Millisecond), oldStreams)

	waitForPeerB(t, within, "A left with B's new connection only", b2, func() error {
		conns := hostA.Network().ConnsToPeer(idB)
		if len(conns) == 1 && conns[0] == fresh {
			return nil
		}
		var desc []string
		for _, c := range conns {
			desc = append(desc, fmt.Sprintf("opened %v after the restart with %d streams",
				c.Stat().Opened.Sub(restartedAt).Round(time.Millisecond), len(c.GetStreams())))
		}
		return fmt.Errorf("%d connections: %s", len(conns), strings.Join(desc, "; "))
	})
	select {
	case at := <-oldClosed:
		t.Logf("old connection closed %v after B's new one opened, %v after the kill",
			at.Sub(fresh.Stat().Opened).Round(time.Millisecond), at.Sub(killedAt).Round(time.Millisecond))
	default:
	}
	waitForPeerB(t, within, "the restarted B receiving height 100, sent when A replaced B's peer", b2, func() error { return b2.received.need(100) })
	t.Logf("height 100 delivered %v after it was sent; the restarted B received %v", time.Since(seenAt).Round(time.Millisecond), b2.received.list())
}

// TestSupervisePeersHelper is not a test: it is peer B of
// TestSupervisorClosesTheConnectionARestartedPeerReplaced. It prints
// "height N" for each StatusResponse it receives, and exits when its stdin
// closes (the test process went away).
func TestSupervisePeersHelper(t *testing.T) {
	if os.Getenv(peerBHelperEnv) == "" {
		t.Skip("helper process for TestSupervisorClosesTheConnectionARestartedPeerReplaced")
	}
	kb, err := hex.DecodeString(os.Getenv(peerBKeyEnv))
	if err != nil {
		t.Fatal(err)
	}
	idA, err := peer.Decode(os.Getenv(peerBPeerIDEnv))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	printHeight := func(h int64) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, "height %d\n", h)
	}
	logger := cmtlog.NewFilter(cmtlog.NewTMLogger(cmtlog.NewSyncWriter(os.Stderr)), cmtlog.AllowInfo())
	sw, _, err := newHeightsSwitch(ed25519.PrivKey(kb), os.Getenv(peerBListenEnv),
		Peer{Host: os.Getenv(peerBPeerEnv), ID: idA, NodeID: "a"}, printHeight, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// newHeightsSwitch builds a CometBFT libp2p host and switch listening on
// listen (QUIC on UDP), with bootstrap as its persistent bootstrap peer and
// one reactor, on the block sync channel, that passes the height of each
// StatusResponse it receives to onHeight.
func newHeightsSwitch(key ed25519.PrivKey, listen string, bootstrap Peer, onHeight func(int64), logger cmtlog.Logger) (*lp2p.Switch, *lp2p.Host, error) {
	cfg := config.DefaultP2PConfig()
	cfg.ListenAddress = "tcp://" + listen
	if err := ConfigureTransport(cfg, true, []Peer{bootstrap}); err != nil {
		return nil, nil, err
	}
	host, err := lp2p.NewHost(cfg, key, logger)
	if err != nil {
		return nil, nil, err
	}
	info := cmtp2p.DefaultNodeInfo{
		DefaultNodeID: cmtp2p.ID(host.ID().String()),
		ListenAddr:    listen,
		Network:       "weft-p2p-test",
		Channels:      []byte{blocksync.BlocksyncChannel},
		Moniker:       "heights",
	}
	r := &heightsReactor{onHeight: onHeight}
	r.BaseReactor = *cmtp2p.NewBaseReactor("HEIGHTS", r)
	sw, err := lp2p.NewSwitch(info, host, []lp2p.SwitchReactor{{Reactor: r, Name: "HEIGHTS"}}, cmtp2p.NopMetrics(), logger)
	if err != nil {
		_ = host.Close()
		return nil, nil, err
	}
	return sw, host, nil
}

// heightsReactor receives block sync StatusResponses. The lp2p switch maps
// each channel descriptor to a libp2p protocol (lp2p.ProtocolID) and
// unmarshals a stream's payload into a clone of its MessageType, unwrapped
// (bcproto.Message carries a StatusResponse).
type heightsReactor struct {
	cmtp2p.BaseReactor
	onHeight func(int64)
}

func (*heightsReactor) GetChannels() []*cmtp2p.ChannelDescriptor {
	return []*cmtp2p.ChannelDescriptor{{
		ID: blocksync.BlocksyncChannel, Priority: 5, RecvMessageCapacity: 1 << 10, MessageType: &bcproto.Message{},
	}}
}

func (r *heightsReactor) Receive(e cmtp2p.Envelope) {
	if m, ok := e.Message.(*bcproto.StatusResponse); ok {
		r.onHeight(m.Height)
	}
}

// heightSet is the heights a peer received, in order of arrival.
type heightSet struct {
	mu sync.Mutex
	hs []int64
}

func (h *heightSet) add(height int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hs = append(h.hs, height)
}

func (h *heightSet) list() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int64(nil), h.hs...)
}

func (h *heightSet) need(height int64) error {
	for _, x := range h.list() {
		if x == height {
			return nil
		}
	}
	return fmt.Errorf("received heights %v", h.list())
}

// heightLines is a child's stdout: it records the "height N" lines and
// passes the others (the test framework's) to other.
type heightLines struct {
	h     *heightSet
	other io.Writer
	mu    sync.Mutex
	part  []byte
}

func (w *heightLines) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.part = append(w.part, p...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.part[:i])
		w.part = w.part[i+1:]
		if s, ok := strings.CutPrefix(line, "height "); ok {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				w.h.add(n)
				continue
			}
		}
		_, _ = io.WriteString(w.other, line+"\n")
	}
}

// peerBProc is one run of peer B.
type peerBProc struct {
	cmd      *exec.Cmd
	stdin    *os.File // B exits when this closes
	received *heightSet
	stderr   *lockedBuffer
	done     chan struct{}
	err      error // Wait's, once done is closed
}

func startPeerB(t *testing.T, key ed25519.PrivKey, listen, peerAddr string, peerID peer.ID) *peerBProc {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &peerBProc{stdin: w, received: &heightSet{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], "-test.run=^TestSupervisePeersHelper$", "-test.count=1")
	p.cmd.Env = append(os.Environ(), peerBHelperEnv+"=1", peerBKeyEnv+"="+hex.EncodeToString(key),
		peerBListenEnv+"="+listen, peerBPeerEnv+"="+peerAddr, peerBPeerIDEnv+"="+peerID.String())
	p.cmd.Stdin = r
	p.cmd.Stdout = &heightLines{h: p.received, other: p.stderr}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		r.Close()
		w.Close()
		t.Fatal(err)
	}
	r.Close()
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p
}

// kill ends the process with SIGKILL and waits for it.
func (p *peerBProc) kill() {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	p.stdin.Close()
}

func (p *peerBProc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("peer B exited: %v", p.err)
	default:
		return nil
	}
}

// waitForPeerB polls cond until it returns nil, and fails the test after
// timeout or if p exits meanwhile.
func waitForPeerB(t *testing.T, timeout time.Duration, what string, p *peerBProc, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if dead := p.exited(); dead != nil {
			t.Fatalf("waiting for %s: %v", what, dead)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		<-tick.C
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

// freeLoopbackUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freeLoopbackUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// hostListenAddr returns the "127.0.0.1:port" h listens on.
func hostListenAddr(h *lp2p.Host) (string, error) {
	for _, a := range h.Network().ListenAddresses() {
		ip, err1 := a.ValueForProtocol(ma.P_IP4)
		port, err2 := a.ValueForProtocol(ma.P_UDP)
		if err1 == nil && err2 == nil && port != "0" {
			return net.JoinHostPort(ip, port), nil
		}
	}
	return "", fmt.Errorf("no UDP listen address in %v", h.Network().ListenAddresses())
}

func lastLines(b []byte, lines int) string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
		if len(out) > lines {
			out = out[1:]
		}
	}
	return strings.Join(out, "\n")
}
