package nettest

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Fabric is the network between the nodes. Node i reaches node j only
// through the proxy PeerAddr(i, j), which forwards to j's real listen
// address; the test sets how the bytes flow per direction (from, to),
// whichever node dialled the connection that carries them.
//
// Faults:
//   - Cut closes every connection between two nodes and refuses new ones
//     (TCP has no one-way cut: cutting either direction cuts the pair).
//   - Blackhole holds the bytes of one direction (no longer read from the
//     sender, not delivered) until healed, as a silent drop with TCP
//     retransmission would; new connections are accepted and starve the
//     same way.
//   - Delay delays the bytes of one direction by d to 2d (see pump).
//   - Reset closes the current connections between two nodes with a TCP
//     reset; new ones are let through.
//   - Duplicate writes the next chunk of one direction twice. CometBFT's
//     secret connection authenticates every frame with a nonce, so this can
//     only break the connection (it must then drop it and redial), never
//     deliver a message twice.
//
// Node i dials only nodes j > i (see Network.cometConfig): one connection
// per pair, redialled by i whenever it drops.
//
// Each node also advertises (p2p.external_address) a trap address that
// refuses everything: a node that redials an inbound peer at its
// self-reported address, or learns addresses some other way, would
// otherwise bypass the proxies. TrapHits counts such dials.
type Fabric struct {
	n int

	mu      sync.Mutex
	targets []string // node i's real p2p address; "" while it is down
	links   [][]linkState
	changed chan struct{} // closed and replaced at every change of links
	stats   [][]LinkStats
	conns   map[*pconn]struct{}
	closed  bool

	proxies  [][]net.Listener // [dialer][listener]
	traps    []net.Listener
	trapHits int
	wg       sync.WaitGroup
}

type linkState struct {
	cut   bool
	hole  bool
	dup   bool
	delay time.Duration
}

// LinkStats counts what happened on one directed link. Connection counts are
// kept on the (dialer, listener) link; bytes on the direction they flowed.
type LinkStats struct {
	Accepted int   // connections forwarded
	Refused  int   // connections refused (cut, or the listener was down)
	Bytes    int64 // bytes forwarded in this direction
	Resets   int   // connections closed by Cut, Partition or Reset
}

// NewFabric listens on a proxy for every ordered pair of n nodes and a trap
// for every node, all on 127.0.0.1 with ports the kernel picks.
func NewFabric(n int) (*Fabric, error) {
	f := &Fabric{
		n: n, targets: make([]string, n), changed: make(chan struct{}),
		conns: map[*pconn]struct{}{},
	}
	f.links = make([][]linkState, n)
	f.stats = make([][]LinkStats, n)
	f.proxies = make([][]net.Listener, n)
	for i := range n {
		f.links[i] = make([]linkState, n)
		f.stats[i] = make([]LinkStats, n)
		f.proxies[i] = make([]net.Listener, n)
	}
	for i := range n {
		t, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			f.Close()
			return nil, err
		}
		f.traps = append(f.traps, t)
		f.wg.Add(1)
		go f.trap(t)
		for j := range n {
			if i == j {
				continue
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				f.Close()
				return nil, err
			}
			f.proxies[i][j] = l
			f.wg.Add(1)
			go f.accept(l, i, j)
		}
	}
	return f, nil
}

// PeerAddr is the address node from dials to reach node to.
func (f *Fabric) PeerAddr(from, to int) string { return f.proxies[from][to].Addr().String() }

// TrapAddr is the address node i advertises to its peers.
func (f *Fabric) TrapAddr(i int) string { return f.traps[i].Addr().String() }

// SetTarget sets node i's real p2p listen address ("" while it is down).
func (f *Fabric) SetTarget(i int, addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.targets[i] = addr
}

// Cut closes every connection between a and b and refuses new ones until
// Heal.
func (f *Fabric) Cut(a, b int) {
	f.update(func() {
		f.links[a][b].cut = true
		f.links[b][a].cut = true
	})
	f.closeBetween(a, b)
}

// Partition cuts every link between nodes of different groups. Nodes in no
// group keep all their links.
func (f *Fabric) Partition(groups ...[]int) {
	for gi, g := range groups {
		for _, h := range groups[gi+1:] {
			for _, a := range g {
				for _, b := range h {
					f.Cut(a, b)
				}
			}
		}
	}
}

// SilentPartition blackholes both directions of every link between nodes of
// different groups: connections stay open and starve, as behind a firewall
// that drops packets, until Heal.
func (f *Fabric) SilentPartition(groups ...[]int) {
	f.update(func() {
		for gi, g := range groups {
			for _, h := range groups[gi+1:] {
				for _, a := range g {
					for _, b := range h {
						f.links[a][b].hole = true
						f.links[b][a].hole = true
					}
				}
			}
		}
	})
}

// Isolate cuts node i from every other node.
func (f *Fabric) Isolate(i int) {
	for j := range f.n {
		if j != i {
			f.Cut(i, j)
		}
	}
}

// Blackhole holds every byte from node from to node to until Heal.
func (f *Fabric) Blackhole(from, to int) {
	f.update(func() { f.links[from][to].hole = true })
}

// Delay delays every chunk from node from to node to by d (0 removes it).
func (f *Fabric) Delay(from, to int, d time.Duration) {
	f.update(func() { f.links[from][to].delay = d })
}

// DelayAll delays every link by d.
func (f *Fabric) DelayAll(d time.Duration) {
	f.update(func() {
		for i := range f.links {
			for j := range f.links[i] {
				f.links[i][j].delay = d
			}
		}
	})
}

// Duplicate makes the next chunk from node from to node to be written twice.
func (f *Fabric) Duplicate(from, to int) {
	f.update(func() { f.links[from][to].dup = true })
}

// Reset closes, with a TCP reset, every current connection between a and b.
func (f *Fabric) Reset(a, b int) { f.closeBetween(a, b) }

// Heal removes every cut, blackhole, delay and pending duplicate.
func (f *Fabric) Heal() {
	f.update(func() {
		for i := range f.links {
			for j := range f.links[i] {
				f.links[i][j] = linkState{}
			}
		}
	})
}

// Stats returns the counters of the directed link from → to.
func (f *Fabric) Stats(from, to int) LinkStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats[from][to]
}

// TrapHits counts connections to the nodes' advertised addresses: dials
// that would have bypassed the proxies.
func (f *Fabric) TrapHits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.trapHits
}

// Close stops every proxy and trap and closes every connection.
func (f *Fabric) Close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	conns := make([]*pconn, 0, len(f.conns))
	for c := range f.conns {
		conns = append(conns, c)
	}
	f.mu.Unlock()
	for _, row := range f.proxies {
		for _, l := range row {
			if l != nil {
				l.Close()
			}
		}
	}
	for _, t := range f.traps {
		t.Close()
	}
	for _, c := range conns {
		c.close()
	}
	f.wg.Wait()
}

func (f *Fabric) update(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *Fabric) closeBetween(a, b int) {
	f.mu.Lock()
	var victims []*pconn
	for c := range f.conns {
		if (c.dialer == a && c.listener == b) || (c.dialer == b && c.listener == a) {
			victims = append(victims, c)
			f.stats[c.dialer][c.listener].Resets++
		}
	}
	f.mu.Unlock()
	for _, c := range victims {
		c.close()
	}
}

func (f *Fabric) trap(l net.Listener) {
	defer f.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.trapHits++
		f.mu.Unlock()
		reset(c)
	}
}

// accept forwards the connections node dialer makes to node listener.
func (f *Fabric) accept(l net.Listener, dialer, listener int) {
	defer f.wg.Done()
	for {
		in, err := l.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		st := f.links[dialer][listener]
		refuse := f.closed || st.cut || f.links[listener][dialer].cut || f.targets[listener] == ""
		target := f.targets[listener]
		if refuse {
			f.stats[dialer][listener].Refused++
		}
		f.mu.Unlock()
		if refuse {
			reset(in)
			continue
		}
		out, err := net.DialTimeout("tcp", target, 2*time.Second)
		if err != nil {
			f.mu.Lock()
			f.stats[dialer][listener].Refused++
			f.mu.Unlock()
			reset(in)
			continue
		}
		c := &pconn{dialer: dialer, listener: listener, in: in, out: out, done: make(chan struct{})}
		f.mu.Lock()
		if f.closed || f.links[dialer][listener].cut || f.links[listener][dialer].cut {
			f.stats[dialer][listener].Refused++
			f.mu.Unlock()
			c.close()
			continue
		}
		f.stats[dialer][listener].Accepted++
		f.conns[c] = struct{}{}
		f.wg.Add(2)
		f.mu.Unlock()
		go f.pump(c, dialer, listener, in, out)
		go f.pump(c, listener, dialer, out, in)
	}
}

// pconn is one proxied connection: in is the dialer's side, out the
// listener's.
type pconn struct {
	dialer, listener int
	in, out          net.Conn
	done             chan struct{}
	once             sync.Once
}

func (c *pconn) close() {
	c.once.Do(func() {
		close(c.done)
		reset(c.in)
		reset(c.out)
	})
}

// pump moves bytes read from r (node from) to w (node to) in one goroutine,
// so that an open link adds no hand-off between goroutines. A delayed chunk
// is written d after it was read; what arrives meanwhile is read after that
// and waits its own d, so bytes are delayed by d to 2d. A blackholed
// direction stops reading, and TCP's flow control stalls the sender. When
// either side fails the whole connection is closed.
func (f *Fabric) pump(c *pconn, from, to int, r, w net.Conn) {
	defer f.wg.Done()
	defer func() {
		c.close()
		f.mu.Lock()
		delete(f.conns, c)
		f.mu.Unlock()
	}()
	buf := make([]byte, 64<<10)
	var timer *time.Timer
	for {
		n, err := r.Read(buf)
		if n > 0 {
			f.mu.Lock()
			due := time.Now().Add(f.links[from][to].delay)
			f.mu.Unlock()
			if wait := time.Until(due); wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				select {
				case <-timer.C:
				case <-c.done:
					return
				}
			}
			writes := 1
			for {
				f.mu.Lock()
				st, changed := f.links[from][to], f.changed
				if !st.hole && st.dup {
					f.links[from][to].dup = false
					writes = 2
				}
				f.mu.Unlock()
				if !st.hole {
					break
				}
				select {
				case <-changed:
				case <-c.done:
					return
				}
			}
			f.mu.Lock()
			f.stats[from][to].Bytes += int64(n)
			f.mu.Unlock()
			for range writes {
				if _, err := w.Write(buf[:n]); err != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// reset closes c with a TCP reset rather than an orderly close, as a cut
// link or a refusing firewall would.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// freePort returns a loopback port nothing listens on right now, for a
// listener the harness cannot create itself (CometBFT's p2p transport
// listens on the address in its config and does not report a :0 port).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	a, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("listener address is not TCP")
	}
	return a.Port, nil
}

func (s LinkStats) String() string {
	return fmt.Sprintf("accepted %d refused %d resets %d bytes %d", s.Accepted, s.Refused, s.Resets, s.Bytes)
}
