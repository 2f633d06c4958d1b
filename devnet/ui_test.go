package devnet

import (
	"bytes"
	"strings"
	"testing"

	"github.com/weftnet/weft/node"
)

// TestNetworkPages: a new devnet serves every node's page; a devnet made
// before devnets did gets them when it resumes, once.
func TestNetworkPages(t *testing.T) {
	var out bytes.Buffer
	o := devnetTestOptions(t.TempDir(), &out)
	o.Testnet.Validators = 2
	st, m, resumed, unlock, err := openDevnet(o)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if st == nil || resumed || m.Nodes[0].UI != "http://127.0.0.1:20006" || m.Nodes[1].UI != "http://127.0.0.1:20016" {
		t.Fatalf("new devnet's pages: %+v", m.Nodes)
	}

	// An older devnet: no page in weft.toml nor in testnet.json.
	old := devnetTestOptions(t.TempDir(), &out)
	old.Testnet.Validators = 2
	gm, err := GenerateTestnet(old.Testnet)
	if err != nil {
		t.Fatal(err)
	}
	if gm.Nodes[0].UI != "" {
		t.Fatalf("a testnet without UI serves pages: %+v", gm.Nodes[0])
	}
	out.Reset()
	if err := addNetworkPages(&out, old.Testnet.Output, gm); err != nil {
		t.Fatal(err)
	}
	lm, err := LoadManifest(old.Testnet.Output)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"127.0.0.1:20006", "127.0.0.1:20016"} {
		_, wc, err := node.LoadConfig(lm.Nodes[i].Home)
		if err != nil {
			t.Fatal(err)
		}
		if wc.UI.ListenAddr != want || lm.Nodes[i].UI != "http://"+want || !strings.Contains(out.String(), "on "+want) {
			t.Fatalf("node%d: ui.listen_addr %q, manifest %q, output:\n%s", i, wc.UI.ListenAddr, lm.Nodes[i].UI, out.String())
		}
	}
	out.Reset()
	if err := addNetworkPages(&out, old.Testnet.Output, lm); err != nil || out.Len() != 0 {
		t.Fatalf("second time: %v, %q", err, out.String())
	}
}
