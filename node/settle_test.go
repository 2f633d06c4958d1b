package node

import (
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestSettlementConfigErrors(t *testing.T) {
	good := SettlementConfig{L1RPC: "http://127.0.0.1:8545", Inbox: "0x96c89ff8e17D0FE37749E407c97827804A2d63bC", MaxBatchAge: "2s", PollInterval: "100ms"}
	if age, poll, inbox, err := good.parse("alpha"); err != nil || age.Seconds() != 2 || poll.Milliseconds() != 100 || inbox.Hex() != good.Inbox {
		t.Fatalf("good config: %v %v %v %v", age, poll, inbox, err)
	}
	for name, tc := range map[string]struct {
		mod  func(*SettlementConfig)
		want string
	}{
		"no l1":        {func(c *SettlementConfig) { c.L1RPC = "" }, "settlement.l1_rpc"},
		"bad inbox":    {func(c *SettlementConfig) { c.Inbox = "0x12" }, "settlement.inbox"},
		"bad age":      {func(c *SettlementConfig) { c.MaxBatchAge = "soon" }, "settlement.max_batch_age"},
		"zero age":     {func(c *SettlementConfig) { c.MaxBatchAge = "0s" }, "settlement.max_batch_age"},
		"bad interval": {func(c *SettlementConfig) { c.PollInterval = "-1s" }, "settlement.poll_interval"},
	} {
		c := good
		tc.mod(&c)
		if _, _, _, err := c.parse("alpha"); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "alpha") {
			t.Errorf("%s: got %v, want an error naming %s", name, err, tc.want)
		}
	}
}

func TestRollupEVMConfigRelayer(t *testing.T) {
	svc := RollupService{Name: "alpha", DevAlloc: 2, DepositRelayer: "0x1bbd02fdc5426540069c44823b3749db3ddf95cd"}
	cfg, err := RollupEVMConfig(svc, 901, 1_700_000_000)
	if err != nil || cfg.DepositRelayer != common.HexToAddress(svc.DepositRelayer) || len(cfg.Alloc) != 2 {
		t.Fatalf("config %+v: %v", cfg.DepositRelayer, err)
	}
	svc.DepositRelayer = "relayer"
	if _, err := RollupEVMConfig(svc, 901, 0); err == nil || !strings.Contains(err.Error(), "deposit_relayer") {
		t.Fatalf("bad relayer: %v", err)
	}
}

// TestProgressWakesWaitersOnlyOnAdvance: the batcher's source waits on
// the executor's progress instead of polling; a waiter wakes when the
// height grows, not when it is set again or lowered.
func TestProgressWakesWaitersOnlyOnAdvance(t *testing.T) {
	var p progress
	p.advance(5)
	wait := p.notify()
	p.advance(5)
	p.advance(3)
	select {
	case <-wait:
		t.Fatal("woken without an advance")
	default:
	}
	if p.height() != 5 {
		t.Fatalf("height %d after a lower advance, want 5", p.height())
	}
	p.advance(6)
	select {
	case <-wait:
	default:
		t.Fatal("not woken by the advance to 6")
	}
	if p.height() != 6 || p.notify() == wait {
		t.Fatal("no fresh channel after the advance")
	}
}
