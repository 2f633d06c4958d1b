package staking_test

import (
	"bytes"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/consensus/staking"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// memKV is an in-memory KV with the consensus overlay's semantics: a value
// written as nil is still present (empty), exactly as a deleted record reads
// back from consensus.Overlay and the badger store.
type memKV map[string][]byte

func (m memKV) Get(k []byte) ([]byte, bool, error) {
	v, ok := m[string(k)]
	return v, ok, nil
}

func (m memKV) Set(k, v []byte) { m[string(k)] = append([]byte(nil), v...) }

// memBank holds liquid balances.
type memBank map[common.Address]*uint256.Int

func (b memBank) Balance(a common.Address) *uint256.Int {
	if v, ok := b[a]; ok {
		return new(uint256.Int).Set(v)
	}
	return new(uint256.Int)
}

func (b memBank) SetBalance(a common.Address, v *uint256.Int) { b[a] = new(uint256.Int).Set(v) }

func (b memBank) sum() *uint256.Int {
	s := new(uint256.Int)
	for _, v := range b {
		s.Add(s, v)
	}
	return s
}

func u(v uint64) *uint256.Int { return uint256.NewInt(v) }

// testParams are small windows so every rule is reached in a few blocks.
// With the env's one-second blocks, unbonding's two bounds coincide.
func testParams() *staking.Params {
	return &staking.Params{
		MaxValidators:      3,
		MinSelfStake:       u(100),
		PowerReduction:     u(10),
		UnbondingBlocks:    7,
		UnbondingTime:      7 * time.Second,
		BlockReward:        u(0),
		SlashDoubleSignBps: 500,
		SlashDowntimeBps:   100,
		SignedBlocksWindow: 10,
		MaxMissedBlocks:    4,
		DowntimeJailBlocks: 5,
	}
}

// consKey is a validator consensus key derived from name.
type consKey struct {
	pub  []byte
	addr common.Address
}

func newConsKey(name string) consKey {
	pk := secp256k1eth.GenPrivKeySecp256k1Eth([]byte("staking-test-" + name)).PubKey()
	return consKey{pub: pk.Bytes(), addr: common.BytesToAddress(pk.Address())}
}

// acct is an account address derived from a name.
func acct(name string) common.Address {
	return common.BytesToAddress(secp256k1eth.GenPrivKeySecp256k1Eth([]byte("staking-test-acct-" + name)).PubKey().Address())
}

// env drives the pure module block by block over memory, checking the supply
// invariant after every step.
type env struct {
	t      *testing.T
	kv     memKV
	bank   memBank
	p      *staking.Params
	m      *staking.Module
	height int64
	// clock is the current block's time; each block is step later.
	clock time.Time
	step  time.Duration
}

// genesisTime is the env's time before its first block.
var genesisTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, p *staking.Params) *env {
	e := &env{t: t, kv: memKV{}, bank: memBank{}, p: p, clock: genesisTime, step: time.Second}
	e.m = staking.New(e.kv, e.bank, p)
	e.m.SetSupply(u(0))
	return e
}

// fund mints v to a (genesis allocation).
func (e *env) fund(a common.Address, v uint64) {
	e.t.Helper()
	e.bank.SetBalance(a, new(uint256.Int).Add(e.bank.Balance(a), u(v)))
	e.m.SetSupply(new(uint256.Int).Add(e.m.Supply(), u(v)))
	e.check()
}

// check fails the test unless balances + bonded + unbonding + pool = supply.
func (e *env) check() {
	e.t.Helper()
	if err := e.m.CheckSupply(e.bank.sum()); err != nil {
		e.t.Fatalf("height %d: %v", e.height, err)
	}
}

// begin starts the next height, step after the last, with votes and
// evidence.
func (e *env) begin(votes []staking.Vote, ev ...staking.Evidence) *staking.Events {
	e.t.Helper()
	e.height++
	e.clock = e.clock.Add(e.step)
	out := e.m.BeginBlockAt(e.height, e.clock, votes, ev)
	e.check()
	return out
}

// end computes the validator updates of the current height.
func (e *env) end() []staking.Update {
	e.t.Helper()
	ups := e.m.EndBlock()
	e.check()
	return ups
}

// fee takes v from payer into the reward pool, as a tx's fee.
func (e *env) fee(payer common.Address, v uint64) {
	e.t.Helper()
	bal := e.bank.Balance(payer)
	if bal.Lt(u(v)) {
		e.t.Fatalf("payer %s cannot pay fee %d", payer, v)
	}
	e.bank.SetBalance(payer, new(uint256.Int).Sub(bal, u(v)))
	e.m.CollectFee(u(v))
	e.check()
}

// ok fails the test on a rejection and checks the supply.
func (e *env) ok(err *staking.Error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("height %d: rejected: %v", e.height, err)
	}
	e.check()
}

// create makes a validator operated by op with a self stake.
func (e *env) create(k consKey, op common.Address, stake uint64, commissionBps uint32) {
	e.t.Helper()
	e.ok(e.m.CreateValidator(op, &weftv1.CreateValidator{ConsensusPubKey: k.pub, SelfStake: u(stake).Bytes(), CommissionBps: commissionBps, Moniker: "v"}, e.height))
}

func (e *env) delegate(d common.Address, v consKey, amount uint64) {
	e.t.Helper()
	e.ok(e.m.Delegate(d, &weftv1.Delegate{Validator: v.addr.Bytes(), Amount: u(amount).Bytes()}))
}

func (e *env) undelegate(d common.Address, v consKey, amount uint64) {
	e.t.Helper()
	e.ok(e.m.Undelegate(d, &weftv1.Undelegate{Validator: v.addr.Bytes(), Amount: u(amount).Bytes()}, e.height))
}

func (e *env) val(k consKey) *weftv1.Validator {
	e.t.Helper()
	v := e.m.Validator(k.addr)
	if v == nil {
		e.t.Fatalf("validator %s does not exist", k.addr)
	}
	return v
}

func (e *env) tokens(k consKey) uint64 { return amount(e.val(k).Tokens) }

// rewards is what d's delegation to k has earned and not been paid.
func (e *env) rewards(d common.Address, k consKey) uint64 { return e.m.Rewards(k.addr, d).Uint64() }

// delegated is the token value of d's delegation to k (0 when none).
func (e *env) delegated(d common.Address, k consKey) uint64 {
	del := e.m.Delegation(k.addr, d)
	if del == nil {
		return 0
	}
	return staking.TokensOf(e.val(k), new(uint256.Int).SetBytes(del.Shares)).Uint64()
}

func (e *env) balance(a common.Address) uint64 { return e.bank.Balance(a).Uint64() }

func amount(b []byte) uint64 {
	v := new(uint256.Int).SetBytes(b)
	if !v.IsUint64() {
		panic("amount does not fit uint64")
	}
	return v.Uint64()
}

// signedBy lists votes of ks with the given powers, all signed.
func signedBy(ks []consKey, powers ...int64) []staking.Vote {
	out := make([]staking.Vote, len(ks))
	for i, k := range ks {
		out[i] = staking.Vote{Address: k.addr, Power: powers[i], Signed: true}
	}
	return out
}

// activeVotes are votes of the set CometBFT was last given, signed unless
// the address is in missing.
func (e *env) activeVotes(missing ...common.Address) []staking.Vote {
	set := e.m.LastSet()
	addrs := make([]common.Address, 0, len(set))
	for a := range set {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return bytes.Compare(addrs[i][:], addrs[j][:]) < 0 })
	var out []staking.Vote
	for _, a := range addrs {
		signed := true
		for _, m := range missing {
			if m == a {
				signed = false
			}
		}
		out = append(out, staking.Vote{Address: a, Power: set[a], Signed: signed})
	}
	return out
}

// snapshot is a copy of all state, to show a rejection changed nothing.
type snapshot struct {
	kv   map[string]string
	bank map[common.Address]string
}

func (e *env) snap() snapshot {
	s := snapshot{kv: map[string]string{}, bank: map[common.Address]string{}}
	for k, v := range e.kv {
		s.kv[k] = string(v)
	}
	for a, v := range e.bank {
		s.bank[a] = v.Dec()
	}
	return s
}

func (e *env) unchanged(s snapshot, what string) {
	e.t.Helper()
	now := e.snap()
	if len(now.kv) != len(s.kv) || len(now.bank) != len(s.bank) {
		e.t.Fatalf("%s: state changed (%d→%d keys, %d→%d balances)", what, len(s.kv), len(now.kv), len(s.bank), len(now.bank))
	}
	for k, v := range s.kv {
		if now.kv[k] != v {
			e.t.Fatalf("%s: state key %q changed", what, k)
		}
	}
	for a, v := range s.bank {
		if now.bank[a] != v {
			e.t.Fatalf("%s: balance of %s changed from %s to %s", what, a, v, now.bank[a])
		}
	}
}

// updates renders updates as "addr:power" strings for comparison.
func updates(ups []staking.Update) []string {
	var out []string
	for _, up := range ups {
		pk, err := secp256k1eth.NewPubKeyFromBytes(up.PubKey)
		if err != nil {
			panic(err)
		}
		out = append(out, common.BytesToAddress(pk.Address()).Hex()+":"+strconv.FormatInt(up.Power, 10))
	}
	sort.Strings(out)
	return out
}

func upd(k consKey, power int64) string { return k.addr.Hex() + ":" + strconv.FormatInt(power, 10) }
