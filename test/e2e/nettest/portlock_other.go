//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package nettest

// lockFile has no cross-process lock here: blocks are kept apart only
// within one test binary (heldPorts) and by the free-port check, so run the
// e2e packages with -p 1 on such a system.
func lockFile(string) (func(), error) { return func() {}, nil }
