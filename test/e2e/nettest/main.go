package nettest

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Main is a test binary's TestMain: unless -short, it builds the weft
// binary once into a temporary directory, stores its path in *bin, runs the
// tests, removes the directory and exits. tag names the package in the
// temporary directory and in error messages.
func Main(m *testing.M, tag string, bin *string) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "weft-"+tag+"-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, tag+":", err)
		os.Exit(1)
	}
	*bin = filepath.Join(dir, "weft")
	build := exec.Command("go", "build", "-o", *bin, "github.com/weftnet/weft/cmd/weft")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, tag+": building weft:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
