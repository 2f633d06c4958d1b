package stakinge2e

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/client"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/test/e2e/nettest"
)

// refused runs a `weft tx` command that must be refused: a non-zero exit and
// one error line naming want (a result code name) and detail.
func refused(t *testing.T, what, want, detail string, args ...string) string {
	t.Helper()
	stdout, stderr, code := runCLI(t, append([]string{"tx"}, args...)...)
	if code == 0 {
		t.Fatalf("%s: accepted\n%s", what, stdout)
	}
	if !strings.HasPrefix(stderr, "Error: ") || !strings.Contains(stderr, "("+want+")") || !strings.Contains(stderr, detail) {
		t.Fatalf("%s: stderr %q, want one error naming (%s) and %q", what, stderr, want, detail)
	}
	return strings.TrimSpace(stderr)
}

// TestValidatorJoinsAndLeaves: a fifth node's operator stakes it with
// `weft tx stake create-validator`; CometBFT takes it into the set two
// heights later and blocks carry its signature. Bad staking input is refused
// with its own code and changes nothing. Undelegating below the minimum self
// stake takes it out of the set, and the stake returns after the unbonding
// period.
func TestValidatorJoinsAndLeaves(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, 4)
	vk := secp256k1eth.GenPrivKey()
	v4 := common.BytesToAddress(vk.PubKey().Address())
	i4 := n.addNode("node4", 4, vk)
	n.Start(i4)
	n.WaitHeight(time.Minute, n.mustHeight(0), i4)
	if set := n.mustCometValidators(0, n.mustHeight(0)); len(set) != 4 {
		t.Fatalf("genesis set %v", set)
	}

	dev0 := nettest.DevKey(t, 0)
	op := nettest.AddrOf(dev0)
	kf := nettest.WriteKeyFile(t, "dev0", dev0)
	api := n.nodes[0].API
	home4 := n.nodes[i4].Home

	// Bad input first: each refused with its own code, dev0 untouched.
	edKey := hex.EncodeToString(ed25519.GenPrivKey().PubKey().Bytes())
	var errs []string
	errs = append(errs,
		refused(t, "ed25519 consensus key", "invalid_action", "33-byte",
			"stake", "create-validator", "--node", api, "--key-file", kf, "--consensus-pubkey", edKey, "--self-stake", tokens(10).Dec()),
		refused(t, "self stake below the minimum", "stake_too_low", "below the minimum",
			"stake", "create-validator", "--node", api, "--key-file", kf, "--validator-home", home4, "--self-stake", milliTokens(999).Dec()),
		refused(t, "undelegate without a delegation", "not_found", "no delegation",
			"stake", "undelegate", "--node", api, "--key-file", kf, "--validator", n.nodes[0].valAddr.Hex(), "--amount", "1"),
		refused(t, "delegate to an unknown validator", "not_found", "does not exist",
			"stake", "delegate", "--node", api, "--key-file", kf, "--validator", v4.Hex(), "--amount", "1"),
		refused(t, "unjail another's validator", "unauthorized", "not the operator",
			"stake", "unjail", "--node", api, "--key-file", kf, "--validator", n.nodes[0].valAddr.Hex()),
	)
	if acc := n.account(0, op); acc.Nonce != 0 {
		t.Fatalf("refused txs moved dev0's nonce to %d", acc.Nonce)
	}

	// dev0 stakes node4 with 10 tokens: power 10, as each genesis validator.
	created := cliTx(t, "stake", "create-validator", "--node", api, "--key-file", kf, "--validator-home", home4,
		"--self-stake", tokens(10).Dec(), "--commission-bps", "1000", "--moniker", "node4")
	v := n.mustValidator(0, v4)
	if v.Power != 10 || common.BytesToAddress(v.Operator) != op || !new(uint256.Int).SetBytes(v.Tokens).Eq(tokens(10)) || v.CreatedHeight != created {
		t.Fatalf("node4's validator after create at %d: %v", created, v)
	}
	n.WaitHeight(time.Minute, created+2, 0)
	if _, in := n.mustCometValidators(0, created+1)[v4]; in {
		t.Fatalf("node4 in CometBFT's set at %d, before its update takes effect", created+1)
	}
	if set := n.mustCometValidators(0, created+2); set[v4] != 10 || len(set) != 5 {
		t.Fatalf("CometBFT's set at %d: %v, want node4 with power 10 among 5", created+2, set)
	}
	signed := n.waitSigned(0, v4, created+3, time.Minute)
	t.Logf("node4 staked at height %d, in the set from %d, first signature in block %d's last commit", created, created+2, signed)

	errs = append(errs, refused(t, "undelegate more than delegated", "exceeds_delegation", "worth",
		"stake", "undelegate", "--node", api, "--key-file", kf, "--validator", v4.Hex(), "--amount", milliTokens(10_001).Dec()))
	for i := range errs {
		for j := i + 1; j < len(errs); j++ {
			if errs[i] == errs[j] {
				t.Errorf("two refusals print the same error: %s", errs[i])
			}
		}
	}
	t.Logf("refusals:\n  %s", strings.Join(errs, "\n  "))

	// Undelegating 9.5 tokens leaves 0.5, below the 1-token minimum: node4
	// leaves CometBFT's set two heights later and stops signing.
	undel := cliTx(t, "stake", "undelegate", "--node", api, "--key-file", kf, "--validator", v4.Hex(), "--amount", milliTokens(9500).Dec())
	balAfter := balanceOf(n.account(0, op))
	if v := n.mustValidator(0, v4); v.Power != 0 || v.Jailed || !new(uint256.Int).SetBytes(v.Tokens).Eq(milliTokens(500)) {
		t.Fatalf("node4 after undelegating at %d: %v", undel, v)
	}
	n.WaitHeight(time.Minute, undel+3, 0)
	if _, in := n.mustCometValidators(0, undel+1)[v4]; !in {
		t.Fatalf("node4 left CometBFT's set before %d", undel+2)
	}
	if set := n.mustCometValidators(0, undel+2); len(set) != 4 {
		t.Fatalf("CometBFT's set at %d: %v, want the 4 genesis validators", undel+2, set)
	} else if _, in := set[v4]; in {
		t.Fatalf("node4 still in CometBFT's set at %d", undel+2)
	}
	if b, err := n.cometBlock(0, undel+3); err != nil || b.signed(v4) {
		t.Fatalf("block %d: %v, signed by node4 after it left", undel+3, err)
	}

	// The unbonding entry completes at undel + unbonding_blocks (10); then
	// the 9.5 tokens are back in dev0's balance.
	ctx, cancel := nettest.RPCCtx()
	dels, err := n.api(0).ListDelegations(ctx, &weftv1.ListDelegationsRequest{Delegator: op[:]})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if len(dels.Unbonding) != 1 || dels.Unbonding[0].CompletionHeight != undel+10 || dels.Unbonding[0].CreationHeight != undel ||
		!new(uint256.Int).SetBytes(dels.Unbonding[0].Amount).Eq(milliTokens(9500)) ||
		len(dels.Tokens) != 1 || !new(uint256.Int).SetBytes(dels.Tokens[0]).Eq(milliTokens(500)) {
		t.Fatalf("dev0's delegations after undelegating: %v", dels)
	}
	n.WaitHeight(time.Minute, undel+10, 0)
	ctx, cancel = nettest.RPCCtx()
	dels, err = n.api(0).ListDelegations(ctx, &weftv1.ListDelegationsRequest{Delegator: op[:]})
	cancel()
	if err != nil || len(dels.Unbonding) != 0 {
		t.Fatalf("unbonding at height %d: %v %v", undel+10, dels, err)
	}
	got := new(uint256.Int).Sub(balanceOf(n.account(0, op)), balAfter)
	// Rewards for node4's last signed blocks may add a little.
	if got.Lt(milliTokens(9500)) || got.Gt(milliTokens(9501)) {
		t.Fatalf("dev0 got back %s, want 9.5 tokens (plus at most rewards)", got)
	}
	t.Logf("undelegated at %d, out of the set from %d, %s returned by height %d", undel, undel+2, got, undel+10)
}

// TestDoubleSignIsSlashed: a second process signs with node3's key (its own
// home and node key, a fresh signing state). CometBFT commits the
// duplicate-vote evidence; the app slashes 5% of node3's stake, tombstones
// it and takes it out of the set, and the chain goes on without it.
func TestDoubleSignIsSlashed(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, 4)
	const byz = 3
	byzAddr := n.nodes[byz].valAddr
	twin := n.addNode("node3-twin", 4, n.validatorKey(byz))
	n.Start(twin)
	started := n.mustHeight(0)
	// Txs reaching the twin first make its proposals differ from node3's,
	// so the two sign different blocks sooner.
	stopLoad := n.load(twin, nettest.DevKey(t, 2), 25*time.Millisecond)

	var evH int64
	from := int64(1)
	n.WaitFor(3*time.Minute, "duplicate-vote evidence against node3 committed", func() error {
		top, err := n.Height(0)
		if err != nil {
			return err
		}
		for ; from <= top; from++ {
			b, err := n.cometBlock(0, from)
			if err != nil {
				return err
			}
			for _, ev := range b.Block.Evidence.Evidence {
				if common.HexToAddress(ev.Value.VoteA.ValidatorAddress) == byzAddr {
					if !strings.Contains(ev.Type, "DuplicateVoteEvidence") {
						return fmt.Errorf("evidence of type %q", ev.Type)
					}
					evH = from
					t.Logf("twin started at height %d; evidence of a double vote at %s committed in block %d", started, ev.Value.VoteA.Height, evH)
					return nil
				}
			}
		}
		return fmt.Errorf("no evidence in blocks 1..%d", top)
	})

	stopLoad()
	v, at, err := n.stakingValidator(0, byzAddr)
	if err != nil {
		t.Fatal(err)
	}
	// 10 tokens − 5% (slash_double_sign_bps 500) = 9.5 tokens.
	if !v.Tombstoned || !v.Jailed || v.Power != 0 || !new(uint256.Int).SetBytes(v.Tokens).Eq(milliTokens(9500)) {
		t.Fatalf("node3 at height %d (evidence in %d): %v", at, evH, v)
	}
	n.WaitHeight(time.Minute, evH+4, 0, 1, 2)
	if _, in := n.mustCometValidators(0, evH+1)[byzAddr]; !in {
		t.Fatalf("node3 left CometBFT's set before %d", evH+2)
	}
	set := n.mustCometValidators(0, evH+2)
	if _, in := set[byzAddr]; in || len(set) != 3 {
		t.Fatalf("CometBFT's set at %d: %v, want the 3 honest validators", evH+2, set)
	}
	for h := evH + 3; h <= evH+4; h++ {
		if b, err := n.cometBlock(0, h); err != nil || b.signed(byzAddr) {
			t.Fatalf("block %d: %v, signed by the removed node3", h, err)
		}
	}
	// For good: its operator cannot unjail it.
	opKey := n.operatorKey(byz)
	n.submitAndWait(0, nettest.DevKey(t, 1), client.Transfer(nettest.AddrOf(opKey), tokens(1)))
	refused(t, "unjail a tombstoned validator", "invalid_state", "tombstoned",
		"stake", "unjail", "--node", n.nodes[0].API, "--key-file", nettest.WriteKeyFile(t, "op3", opKey), "--validator", byzAddr.Hex())
}

// TestOfflineValidatorIsJailedAndUnjails: node3 stops; after it missed more
// than 10 of the last 20 blocks it is jailed with a 0.01% slash and leaves
// the set. Restarted, its operator's Unjail is refused until the 10-block
// jail is over, then brings it back: in the set two heights later, signing
// blocks again.
func TestOfflineValidatorIsJailedAndUnjails(t *testing.T) {
	skipShort(t)
	n := startNetwork(t, 4)
	const off = 3
	addr := n.nodes[off].valAddr
	opKey := n.operatorKey(off)
	kf := nettest.WriteKeyFile(t, "op3", opKey)
	api := n.nodes[0].API
	// The operator (the consensus key's address) pays fees: fund it.
	n.submitAndWait(0, nettest.DevKey(t, 1), client.Transfer(nettest.AddrOf(opKey), tokens(1)))
	refused(t, "unjail a validator that is not jailed", "invalid_state", "not jailed",
		"stake", "unjail", "--node", api, "--key-file", kf, "--validator", addr.Hex())

	before, seen, err := n.stakingValidator(0, addr)
	if err != nil {
		t.Fatal(err)
	}
	n.Stop(off)
	stopped := n.mustHeight(0)

	var v *weftv1.Validator
	n.WaitFor(2*time.Minute, "node3 jailed", func() error {
		var err error
		if v, _, err = n.stakingValidator(0, addr); err != nil {
			return err
		}
		if !v.Jailed {
			return fmt.Errorf("not jailed; missed %d", v.MissedBlocks)
		}
		return nil
	})
	until := v.JailedUntilHeight
	jailed := until - 10
	// 10 tokens − 0.01% (slash_downtime_bps 1): power 9.
	if v.Tombstoned || v.Power != 0 || !new(uint256.Int).SetBytes(v.Tokens).Eq(new(uint256.Int).Sub(tokens(10), milliTokens(1))) {
		t.Fatalf("node3 jailed at %d: %v", jailed, v)
	}
	// With a clean record before it stopped, it took 11 missed blocks.
	if before.MissedBlocks == 0 && jailed < seen+11 {
		t.Fatalf("jailed at %d, but its record was clean at %d", jailed, seen)
	}
	t.Logf("node3 stopped at about height %d, jailed at %d until %d", stopped, jailed, until)
	n.WaitHeight(time.Minute, jailed+2, 0)
	if set := n.mustCometValidators(0, jailed+2); len(set) != 3 {
		t.Fatalf("CometBFT's set at %d: %v, want node3 out", jailed+2, set)
	} else if _, in := set[addr]; in {
		t.Fatalf("node3 still in CometBFT's set at %d", jailed+2)
	}

	// Unjail is refused while the jail lasts (node0 is at about jailed+2).
	refused(t, "unjail before the jail is over", "invalid_state", "jailed until",
		"stake", "unjail", "--node", api, "--key-file", kf, "--validator", addr.Hex())

	n.Start(off)
	n.WaitHeight(2*time.Minute, n.mustHeight(0), off)
	n.WaitHeight(time.Minute, until-1, 0)
	unjailed := cliTx(t, "stake", "unjail", "--node", api, "--key-file", kf, "--validator", addr.Hex())
	if v := n.mustValidator(0, addr); v.Jailed || v.Power != 9 {
		t.Fatalf("node3 after unjail at %d: %v", unjailed, v)
	}
	n.WaitHeight(time.Minute, unjailed+2, 0)
	if set := n.mustCometValidators(0, unjailed+2); set[addr] != 9 || len(set) != 4 {
		t.Fatalf("CometBFT's set at %d: %v, want node3 back with power 9", unjailed+2, set)
	}
	signed := n.waitSigned(0, addr, unjailed+3, time.Minute)
	t.Logf("unjailed at %d (jail over at %d), back in the set at %d, signing again in block %d", unjailed, until, unjailed+2, signed)
}
