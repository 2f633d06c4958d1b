package node

import (
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// TestFeedTxBatchInterval decodes [feed] tx_batch_interval the way
// LoadConfig does and checks its default and bounds.
func TestFeedTxBatchInterval(t *testing.T) {
	for _, tc := range []struct {
		toml string
		want time.Duration
		err  string
	}{
		{"", DefaultTxBatchInterval, ""},
		{`tx_batch_interval = "50ms"`, 50 * time.Millisecond, ""},
		{`tx_batch_interval = "-1ms"`, 0, "feed.tx_batch_interval"},
		{`tx_batch_interval = "2s"`, 0, "feed.tx_batch_interval"},
		{`tx_batch_interval = "soon"`, 0, "tx_batch_interval"},
	} {
		c := DefaultConfig()
		_, err := toml.Decode("[feed]\n"+tc.toml+"\n", &c)
		if err == nil {
			err = c.Check()
		}
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: got %v, want an error naming %s", tc.toml, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.toml, err)
		case c.Feed.txBatchInterval() != tc.want:
			t.Errorf("%q: interval %v, want %v", tc.toml, c.Feed.txBatchInterval(), tc.want)
		}
	}
}
