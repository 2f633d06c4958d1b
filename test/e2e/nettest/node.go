package nettest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/weftnet/weft/client"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// Node is a `weft start` process and a client of its node API.
type Node struct {
	Proc
	Home string // the node's --home
	API  string // its node API host:port

	mu     sync.Mutex
	client *client.Client
}

// Start runs `weft start --home Home` (see Proc.Start) and dials a fresh API
// client (a restarted node gets a new connection instead of waiting out
// gRPC's reconnect backoff); the previous client is closed.
func (nd *Node) Start(t testing.TB, tag, bin string) {
	t.Helper()
	nd.Proc.Start(t, tag, bin, "start", "--home", nd.Home)
	nd.redial(t)
}

// Client is the node's current API client (nil before the first Start).
func (nd *Node) Client() *client.Client {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.client
}

// Kill kills the process if it was started, waits until it is gone and
// closes the API client (a cleanup).
func (nd *Node) Kill() {
	nd.Proc.Kill()
	if c := nd.Client(); c != nil {
		c.Close()
	}
}

// Height is the node's last committed height.
func (nd *Node) Height() (int64, error) {
	ctx, cancel := RPCCtx()
	defer cancel()
	st, err := nd.Client().API.GetStatus(ctx, &weftv1.GetStatusRequest{})
	if err != nil {
		return 0, err
	}
	return st.Height, nil
}

// AtHeight returns nil once the node has committed height h, else why not.
func (nd *Node) AtHeight(h int64) error {
	got, err := nd.Height()
	if err != nil {
		return fmt.Errorf("%s: %v", nd.Name, err)
	}
	if got < h {
		return fmt.Errorf("%s is at height %d", nd.Name, got)
	}
	return nil
}
