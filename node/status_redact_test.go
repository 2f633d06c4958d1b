package node

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"
)

// TestL1ErrorsHideTheURL: an L1 error shown on the public page must not
// carry the L1 URL (its path or query may hold an API key) in any form
// net/http rewrites it into: a password shown as ***, a lower-cased
// scheme.
func TestL1ErrorsHideTheURL(t *testing.T) {
	for _, url := range []string{
		"http://127.0.0.1:1/v3/SECRETKEY",
		"http://user:pass@127.0.0.1:1/v3/SECRETKEY",
		"HTTP://127.0.0.1:1/v3/SECRETKEY",
	} {
		c, err := ethclient.Dial(url)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err = c.HeaderByNumber(ctx, nil)
		cancel()
		c.Close()
		if err == nil {
			t.Fatalf("%s answered", url)
		}
		msg := redactURLs(err.Error())
		if strings.Contains(msg, "SECRETKEY") {
			t.Errorf("l1_rpc %q: the page shows %q", url, msg)
		}
	}
}
