package nettest_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/weftnet/weft/consensus/nettest"
)

// echoNode listens like a node of the fabric: every connection echoes.
func echoNode(t *testing.T, f *nettest.Fabric, i int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	f.SetTarget(i, l.Addr().String())
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
}

func newTestFabric(t *testing.T) *nettest.Fabric {
	t.Helper()
	f, err := nettest.NewFabric(2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	echoNode(t, f, 1)
	return f
}

func dial(t *testing.T, f *nettest.Fabric) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", f.PeerAddr(0, 1), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes msg and reads it back within timeout.
func roundTrip(c net.Conn, msg []byte, timeout time.Duration) ([]byte, error) {
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	got := make([]byte, len(msg))
	_, err := io.ReadFull(c, got)
	return got, err
}

func TestFabricForwards(t *testing.T) {
	f := newTestFabric(t)
	c := dial(t, f)
	got, err := roundTrip(c, []byte("hello"), 5*time.Second)
	if err != nil || string(got) != "hello" {
		t.Fatalf("echo through the proxy: %q, %v", got, err)
	}
	if s := f.Stats(0, 1); s.Accepted != 1 || s.Bytes != 5 {
		t.Fatalf("stats 0→1: %s", s)
	}
}

func TestFabricReset(t *testing.T) {
	f := newTestFabric(t)
	c := dial(t, f)
	if _, err := roundTrip(c, []byte("x"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	f.Reset(1, 0)
	if _, err := roundTrip(c, []byte("y"), 5*time.Second); err == nil {
		t.Fatal("a reset connection still echoes")
	}
	if s := f.Stats(0, 1); s.Resets != 1 {
		t.Fatalf("stats 0→1 after a reset: %s", s)
	}
	// New connections go through.
	if _, err := roundTrip(dial(t, f), []byte("z"), 5*time.Second); err != nil {
		t.Fatalf("after a reset: %v", err)
	}
}

func TestFabricCutRefusesUntilHeal(t *testing.T) {
	f := newTestFabric(t)
	c := dial(t, f)
	if _, err := roundTrip(c, []byte("x"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	f.Cut(1, 0)
	if _, err := roundTrip(c, []byte("y"), 5*time.Second); err == nil {
		t.Fatal("a cut connection still echoes")
	}
	// Refused: the dial itself or the first round trip fails, whichever
	// the reset reaches first.
	if c2, err := net.DialTimeout("tcp", f.PeerAddr(0, 1), 5*time.Second); err == nil {
		defer c2.Close()
		if _, err := roundTrip(c2, []byte("y"), 5*time.Second); err == nil {
			t.Fatal("a new connection crossed a cut link")
		}
	}
	if s := f.Stats(0, 1); s.Refused == 0 {
		t.Fatalf("stats 0→1 while cut: %s", s)
	}
	f.Heal()
	if _, err := roundTrip(dial(t, f), []byte("z"), 5*time.Second); err != nil {
		t.Fatalf("after heal: %v", err)
	}
}

func TestFabricBlackholeHoldsBytesUntilHeal(t *testing.T) {
	f := newTestFabric(t)
	c := dial(t, f)
	f.Blackhole(0, 1)
	if _, err := roundTrip(c, []byte("held"), 300*time.Millisecond); !isTimeout(err) {
		t.Fatalf("bytes crossed a blackhole: %v", err)
	}
	f.Heal()
	got := make([]byte, 4)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "held" {
		t.Fatalf("after heal: %q, %v", got, err)
	}
}

func TestFabricDelay(t *testing.T) {
	f := newTestFabric(t)
	c := dial(t, f)
	const d = 150 * time.Millisecond
	f.Delay(0, 1, d)
	start := time.Now()
	if _, err := roundTrip(c, []byte("slow"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < d {
		t.Fatalf("round trip took %v through a link delayed by %v", el, d)
	}
}

func TestFabricDuplicate(t *testing.T) {
	f := newTestFabric(t)
	c := dial(t, f)
	f.Duplicate(0, 1)
	got, err := roundTrip(c, []byte("ab"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	more := make([]byte, 2)
	if _, err := io.ReadFull(c, more); err != nil || !bytes.Equal(append(got, more...), []byte("abab")) {
		t.Fatalf("duplicated chunk: %q %q, %v", got, more, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
