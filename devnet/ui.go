package devnet

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"github.com/weftnet/weft/node"
)

// addNetworkPages gives every node of a devnet created before devnets
// served network pages its page, on the port GenerateTestnet would have
// chosen (the node API's port - 2 + UIPortOffset), in weft.toml and in the
// manifest m, which it saves. A node whose weft.toml sets ui.listen_addr
// keeps it.
func addNetworkPages(out io.Writer, dir string, m *Manifest) error {
	changed := false
	for i := range m.Nodes {
		n := &m.Nodes[i]
		c, wc, err := node.LoadConfig(n.Home)
		if err != nil {
			return err
		}
		if wc.UI.ListenAddr == "" {
			host, port, err := net.SplitHostPort(wc.API.ListenAddr)
			p, perr := strconv.Atoi(port)
			if err != nil || perr != nil {
				continue // an API address we did not write: leave the node as it is
			}
			wc.UI.ListenAddr = net.JoinHostPort(host, strconv.Itoa(p-2+UIPortOffset))
			if err := node.WriteConfig(n.Home, c, wc); err != nil {
				return err
			}
			fmt.Fprintf(out, "  %s: serving its network page from now on, on %s (ui.listen_addr in its weft.toml)\n", n.Moniker, wc.UI.ListenAddr)
		}
		if u := "http://" + wc.UI.ListenAddr; n.UI != u {
			n.UI, changed = u, true
		}
	}
	if !changed {
		return nil
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	return os.WriteFile(ManifestPath(dir), b, 0o644)
}
