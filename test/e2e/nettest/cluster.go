package nettest

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/weftnet/weft/client"
)

// Cluster is a test network's `weft start` processes as the e2e packages
// drive them: start, stop and kill a node, wait for a condition while
// failing fast when a node that should run has died, and wait for heights.
// Each package's network embeds one and adds what only it needs.
type Cluster struct {
	T     testing.TB
	Tag   string // names the package in the nodes' logs
	Bin   string // the weft binary
	Poll  time.Duration
	Nodes []*Node
}

// All lists every node index.
func (c *Cluster) All() []int {
	out := make([]int, len(c.Nodes))
	for i := range out {
		out[i] = i
	}
	return out
}

// Procs lists every node's process.
func (c *Cluster) Procs() []*Proc {
	out := make([]*Proc, len(c.Nodes))
	for i, nd := range c.Nodes {
		out[i] = &nd.Proc
	}
	return out
}

// Start runs `weft start` for node i, appending its output to its log, and
// dials a fresh API client.
func (c *Cluster) Start(i int) {
	c.T.Helper()
	c.Nodes[i].Start(c.T, c.Tag, c.Bin)
}

// Kill sends SIGKILL to node i (kill -9) and waits for it to be gone.
func (c *Cluster) Kill(i int) { c.Halt(i, syscall.SIGKILL) }

// Stop sends SIGTERM to node i and waits for a clean exit.
func (c *Cluster) Stop(i int) { c.Halt(i, syscall.SIGTERM) }

// Halt sends sig to node i and waits up to 30s for it to exit (then kills
// it and fails the test).
func (c *Cluster) Halt(i int, sig syscall.Signal) {
	c.T.Helper()
	if !c.Nodes[i].Halt(sig, 30*time.Second) {
		c.T.Errorf("%s did not exit within 30s of %v; killed", c.Nodes[i].Name, sig)
	}
}

// KillAll kills every process still running and closes the clients (a
// cleanup).
func (c *Cluster) KillAll() {
	for _, nd := range c.Nodes {
		nd.Kill()
	}
}

// Client returns node i's current API client.
func (c *Cluster) Client(i int) *client.Client { return c.Nodes[i].Client() }

// WaitFor polls cond every Poll (100ms if unset) until it returns nil; it
// fails the test at the deadline (with cond's last error) or as soon as a
// node dies that should be running.
func (c *Cluster) WaitFor(timeout time.Duration, what string, cond func() error) {
	c.T.Helper()
	poll := c.Poll
	if poll == 0 {
		poll = 100 * time.Millisecond
	}
	WaitFor(c.T, timeout, poll, what, cond, c.Procs()...)
}

// Height is node i's last committed height.
func (c *Cluster) Height(i int) (int64, error) { return c.Nodes[i].Height() }

// MaxHeight is the highest height among nodes idx that answer.
func (c *Cluster) MaxHeight(idx ...int) int64 {
	var h int64
	for _, i := range idx {
		if v, err := c.Height(i); err == nil && v > h {
			h = v
		}
	}
	return h
}

// WaitHeight waits until every node in idx has committed height h.
func (c *Cluster) WaitHeight(timeout time.Duration, h int64, idx ...int) {
	c.T.Helper()
	c.WaitFor(timeout, fmt.Sprintf("nodes %v at height %d", idx, h), func() error {
		for _, i := range idx {
			if err := c.Nodes[i].AtHeight(h); err != nil {
				return err
			}
		}
		return nil
	})
}
