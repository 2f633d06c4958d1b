package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// stepProfiles are CPU profiles of every validator being taken during a
// step's measured window.
type stepProfiles struct {
	paths []string
	done  []chan error
}

// startProfiles starts taking a CPU profile of every node over [from, to)
// when the cluster serves pprof; otherwise it returns nil.
func startProfiles(ctx context.Context, o *options, cl *cluster, label string, from, to time.Time) *stepProfiles {
	if len(cl.pprof) == 0 {
		return nil
	}
	p := &stepProfiles{}
	for i, addr := range cl.pprof {
		path := filepath.Join(o.profileDir, fmt.Sprintf("%s-node%d-%s.pprof", cl.system, i, label))
		done := make(chan error, 1)
		p.paths, p.done = append(p.paths, path), append(p.done, done)
		go func() { done <- fetchProfile(ctx, addr, from, to.Sub(from), path) }()
	}
	return p
}

// finish waits for the profiles, records them in r (node0's also as
// r.Profile) and computes r's CPU budget from them; a profile that failed
// is reported and leaves r without a budget.
func (p *stepProfiles) finish(r *stepResult) {
	if p == nil {
		return
	}
	ok := true
	for i, done := range p.done {
		if err := <-done; err != nil {
			fmt.Printf("  (cpu profile of node%d failed: %v)\n", i, err)
			ok = false
		}
	}
	if !ok {
		return
	}
	r.Profile, r.Profiles = p.paths[0], p.paths
	b, err := budgetFromProfiles(p.paths, r)
	if err != nil {
		fmt.Printf("  (cpu budget: %v)\n", err)
		return
	}
	r.Budget = b
}

// fetchProfile saves a CPU profile of d taken from at on.
func fetchProfile(ctx context.Context, addr string, at time.Time, d time.Duration, path string) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(at)):
	}
	secs := max(1, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: HTTP %d", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
