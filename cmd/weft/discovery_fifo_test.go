package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestDevnetDiscoveryDoesNotHangOnAFIFO: ./.devnet/endpoints.json is
// read from whatever directory the CLI runs in (a cloned repository, a
// shared directory). A FIFO (or a symlink to /dev/zero, which grows the
// read until memory runs out) there must not hang every command before
// --timeout applies: only a regular file is read, with a size bound.
func TestDevnetDiscoveryDoesNotHangOnAFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "endpoints.json")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := devnetNode0(p)
		done <- err
	}()
	select {
	case err := <-done:
		t.Logf("devnetNode0 returned: %v", err)
	case <-time.After(2 * time.Second):
		t.Errorf("devnetNode0 on a FIFO endpoints.json still reading after 2s")
		// Unblock the reader so the test ends.
		if f, err := openWrite(p); err == nil {
			f.Close()
		}
	}
}

func openWrite(p string) (interface{ Close() error }, error) {
	fd, err := syscall.Open(p, syscall.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	return closer(fd), nil
}

type closer int

func (c closer) Close() error { return syscall.Close(int(c)) }

// TestDevnetDiscoveryTakesLoopbackOnly: an endpoints.json in the current
// directory may be anyone's; it must not send the CLI (and the txs it
// signs with the chain id the node names) to another machine.
func TestDevnetDiscoveryTakesLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:26602": true, "0.0.0.0:26602": true, "localhost:1": true, "[::1]:9": true, "203.0.113.7:26602": false, "node.example.com:9090": false} {
		p := filepath.Join(t.TempDir(), "endpoints.json")
		if err := os.WriteFile(p, []byte(`{"nodes":[{"api":"`+addr+`"}]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		got, found, err := devnetNode0(p)
		if ok && (err != nil || !found) || !ok && err == nil {
			t.Errorf("%s: got %q found %v err %v; want taken: %v", addr, got, found, err, ok)
		}
	}
}
