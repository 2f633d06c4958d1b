package nettest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBlockingHelper is not a test: it is the process
// TestQuitForStacksDumpsGoroutines stops.
func TestBlockingHelper(t *testing.T) {
	if os.Getenv("WEFT_NETTEST_BLOCK") == "" {
		t.Skip("helper process for TestQuitForStacksDumpsGoroutines")
	}
	os.Stdout.WriteString("blocking\n")
	select {}
}

// TestQuitForStacksDumpsGoroutines: a stuck Go process ended by
// QuitForStacks leaves every goroutine's stack in its log.
func TestQuitForStacksDumpsGoroutines(t *testing.T) {
	if os.Getenv("WEFT_NETTEST_BLOCK") != "" {
		t.Skip("inside a helper")
	}
	p := &Proc{Name: "blocker", Log: filepath.Join(t.TempDir(), "blocker.log")}
	p.startWith(t, "test", os.Args[0], func(cmd *exec.Cmd) {
		setPdeathsig(cmd)
		cmd.Env = append(os.Environ(), "WEFT_NETTEST_BLOCK=1")
	}, "-test.run=^TestBlockingHelper$")
	t.Cleanup(p.Kill)
	WaitFor(t, 30*time.Second, 20*time.Millisecond, "the helper blocking", func() error {
		if b, _ := os.ReadFile(p.Log); !strings.Contains(string(b), "blocking") {
			return fmt.Errorf("log so far: %q", b)
		}
		return nil
	}, p)
	QuitForStacks(p)
	b, err := os.ReadFile(p.Log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "SIGQUIT") || !strings.Contains(string(b), "goroutine ") || !strings.Contains(string(b), "TestBlockingHelper") {
		t.Fatalf("no goroutine dump in the log:\n%s", b)
	}
}
