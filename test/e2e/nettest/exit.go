package nettest

import "time"

// WaitExit waits up to timeout for p to exit by itself and returns its exit
// code; from then on the test no longer expects p up (see Died). ok is
// false when p was never started or still runs at the deadline.
func (p *Proc) WaitExit(timeout time.Duration) (code int, ok bool) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return 0, false
	}
	select {
	case <-exited:
	case <-time.After(timeout):
		return 0, false
	}
	p.mu.Lock()
	if p.exited == exited {
		p.running = false
	}
	p.mu.Unlock()
	// cmd.Wait set ProcessState before exited was closed.
	return cmd.ProcessState.ExitCode(), true
}
