package nettest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// udpPeerEnv makes the test binary a UDP peer (TestUDPPeerHelper): it
// prints its port, reads its peer's port from stdin, then sends to the
// peer every few milliseconds and prints a line per datagram received.
const udpPeerEnv = "WEFT_NETTEST_UDP_PEER"

// TestUDPPeerHelper is not a test: it is the process a partition test
// starts under a group id (see udpPeer).
func TestUDPPeerHelper(t *testing.T) {
	if os.Getenv(udpPeerEnv) == "" {
		t.Skip("helper process for TestPartitionMarksDoNotOutliveTheCut")
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println(conn.LocalAddr().(*net.UDPAddr).Port)
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil {
		os.Exit(1)
	}
	port, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		os.Exit(1)
	}
	peer := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	go func() {
		for {
			_, _ = conn.WriteToUDP([]byte("ping"), peer) // refused while cut on output
			time.Sleep(5 * time.Millisecond)             // the sender's pace
		}
	}()
	buf := make([]byte, 64)
	for {
		if _, _, err := conn.ReadFromUDP(buf); err != nil {
			continue
		}
		fmt.Println("r")
	}
}

// udpPeer is a running TestUDPPeerHelper process.
type udpPeer struct {
	port     int
	received atomic.Int64
	stdin    io.WriteCloser
}

func startUDPPeer(t *testing.T, gid uint32) *udpPeer {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestUDPPeerHelper$")
	cmd.Env = append(os.Environ(), udpPeerEnv+"=1")
	setPdeathsig(cmd)
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: gid, NoSetGroups: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatalf("udp peer: no port: %v", sc.Err())
	}
	port, err := strconv.Atoi(sc.Text())
	if err != nil {
		t.Fatalf("udp peer: %q", sc.Text())
	}
	p := &udpPeer{port: port, stdin: stdin}
	go func() {
		for sc.Scan() {
			p.received.Add(1)
		}
	}()
	return p
}

// TestPartitionMarksDoNotOutliveTheCut checks that a partition cuts only
// the traffic between its own groups, whatever partitions came before. A
// UDP flow keeps its conntrack entry (and the group marks on it) as long as
// packets pass, and QUIC sends all its connections over one socket per
// node: a mark left by an earlier partition once made a later one drop
// traffic between two processes of the same group, which the chaos soak
// took for a stall of the libp2p transport.
func TestPartitionMarksDoNotOutliveTheCut(t *testing.T) {
	if os.Getenv(udpPeerEnv) != "" {
		t.Skip("inside a helper")
	}
	if err := PartitionUsable(); err != nil {
		t.Skipf("a partition needs iptables as root: %v", err)
	}
	for _, mode := range []PartitionMode{DropOnInput, DropOnOutput} {
		t.Run(mode.String(), func(t *testing.T) {
			const gA, gB, gC = 65401, 65402, 65403
			b, c := startUDPPeer(t, gB), startUDPPeer(t, gC)
			b.peer(t, c.port)
			c.peer(t, b.port)
			flowing := func(what string) {
				t.Helper()
				nb, nc := b.received.Load(), c.received.Load()
				WaitFor(t, 10*time.Second, 10*time.Millisecond, what, func() error {
					if b.received.Load() < nb+20 || c.received.Load() < nc+20 {
						return fmt.Errorf("received %d and %d more datagrams", b.received.Load()-nb, c.received.Load()-nc)
					}
					return nil
				})
			}
			flowing("B and C exchanging datagrams")

			// B and C apart: the flow between them carries both groups' marks.
			p1 := NewPartition(t, mode, []uint32{gA, gB}, []uint32{gC})
			if err := p1.Cut(); err != nil {
				t.Fatal(err)
			}
			stopped(t, b, c)
			if err := p1.Heal(); err != nil {
				t.Fatal(err)
			}
			flowing("B and C exchanging datagrams after the first heal")

			// B and C together: their flow must pass.
			p2 := NewPartition(t, mode, []uint32{gA}, []uint32{gB, gC})
			if err := p2.Cut(); err != nil {
				t.Fatal(err)
			}
			flowing("B and C, on the same side of the second partition, exchanging datagrams")
			if err := p2.Heal(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// peer tells p its peer's port.
func (p *udpPeer) peer(t *testing.T, port int) {
	t.Helper()
	if _, err := fmt.Fprintf(p.stdin, "%d\n", port); err != nil {
		t.Fatal(err)
	}
}

// stopped waits until neither peer receives anything for 300 ms.
func stopped(t *testing.T, peers ...*udpPeer) {
	t.Helper()
	var last []int64
	var since time.Time
	WaitFor(t, 10*time.Second, 10*time.Millisecond, "the cut stopping the flow", func() error {
		now := make([]int64, len(peers))
		for i, p := range peers {
			now[i] = p.received.Load()
		}
		if fmt.Sprint(now) != fmt.Sprint(last) {
			last, since = now, time.Now()
			return fmt.Errorf("still receiving (%v)", now)
		}
		if time.Since(since) < 300*time.Millisecond {
			return fmt.Errorf("quiet for %v", time.Since(since))
		}
		return nil
	})
}
