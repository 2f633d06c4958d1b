package staking

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"google.golang.org/protobuf/proto"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// KV is the state the module reads and writes (the block's overlay).
type KV interface {
	Get(key []byte) ([]byte, bool, error)
	Set(key, value []byte)
}

// Bank moves liquid balances.
type Bank interface {
	Balance(a common.Address) *uint256.Int
	SetBalance(a common.Address, v *uint256.Int)
}

// Params are the decoded staking parameters.
type Params struct {
	MaxValidators  int
	MinSelfStake   *uint256.Int
	PowerReduction *uint256.Int
	// Unbonding stake is paid back once both UnbondingBlocks blocks and
	// UnbondingTime of block time have passed since the Undelegate.
	UnbondingBlocks    int64
	UnbondingTime      time.Duration
	BlockReward        *uint256.Int
	SlashDoubleSignBps uint32
	SlashDowntimeBps   uint32
	SignedBlocksWindow int64
	MaxMissedBlocks    int64
	DowntimeJailBlocks int64
}

// Error is a rejected staking action; consensus maps Kind to a result code.
type Error struct {
	Kind ErrorKind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// ErrorKind classifies rejections.
type ErrorKind int

// Rejection kinds.
const (
	ErrInvalid           ErrorKind = iota + 1 // malformed action (bad key type, commission > 100%...)
	ErrNotFound                               // no such validator or delegation
	ErrExists                                 // validator already exists
	ErrFunds                                  // balance or delegation too small
	ErrStakeTooLow                            // self stake below the minimum
	ErrUnauthorized                           // sender is not the operator
	ErrState                                  // not jailed, still jailed, tombstoned...
	ErrExceedsDelegation                      // undelegating more than the delegation is worth
)

func fail(k ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Module is the staking state transition over one state view.
type Module struct {
	kv   KV
	bank Bank
	p    *Params
}

// New returns the module over kv and bank.
func New(kv KV, bank Bank, p *Params) *Module { return &Module{kv: kv, bank: bank, p: p} }

// Pool is the undistributed rewards (fees and remainders).
func (m *Module) Pool() *uint256.Int { return m.getAmount(keyPool) }

// Supply is the total token supply.
func (m *Module) Supply() *uint256.Int { return m.getAmount(keySupply) }

// CollectFee moves a fee already taken from a balance into the pool.
func (m *Module) CollectFee(fee *uint256.Int) {
	m.setAmount(keyPool, new(uint256.Int).Add(m.Pool(), fee))
}

// SetSupply records the genesis supply.
func (m *Module) SetSupply(v *uint256.Int) { m.setAmount(keySupply, v) }

func valKey(a common.Address) []byte { return key(prefixVal, a[:]) }

// Validator returns the validator with consensus address a, or nil.
func (m *Module) Validator(a common.Address) *weftv1.Validator {
	b, ok := m.get(valKey(a))
	if !ok {
		return nil
	}
	v := &weftv1.Validator{}
	if err := proto.Unmarshal(b, v); err != nil {
		panic(fmt.Sprintf("invariant: corrupt validator %s: %v", a, err))
	}
	return v
}

func (m *Module) setValidator(v *weftv1.Validator) {
	m.kv.Set(valKey(common.BytesToAddress(v.Address)), marshal(v))
}

// Validators returns every validator, sorted by address.
func (m *Module) Validators() []*weftv1.Validator {
	addrs := m.validatorSet().list()
	sortAddrs(addrs)
	out := make([]*weftv1.Validator, len(addrs))
	for i, a := range addrs {
		out[i] = m.Validator(a)
	}
	return out
}

func sortAddrs(l []common.Address) {
	sort.Slice(l, func(i, j int) bool { return bytes.Compare(l[i][:], l[j][:]) < 0 })
}

// Delegation returns d's delegation to v, or nil.
func (m *Module) Delegation(v, d common.Address) *weftv1.Delegation {
	del := m.delegation(v, d)
	if del.shares.IsZero() {
		return nil
	}
	return &weftv1.Delegation{Delegator: d.Bytes(), Validator: v.Bytes(), Shares: del.shares.Bytes()}
}

// Delegators returns the delegators of v, sorted. It reads one key per
// delegator: for queries.
func (m *Module) Delegators(v common.Address) []common.Address {
	l := m.delegatorSet(v).list()
	sortAddrs(l)
	return l
}

// TokensOf is the token value of shares in v.
func TokensOf(v *weftv1.Validator, shares *uint256.Int) *uint256.Int {
	s := amt(v.Shares)
	if s.IsZero() {
		return new(uint256.Int)
	}
	return mulDiv(shares, amt(v.Tokens), s)
}

func mulDiv(a, b, c *uint256.Int) *uint256.Int {
	r, overflow := new(uint256.Int).MulDivOverflow(a, b, c)
	if overflow {
		panic("invariant: staking arithmetic overflow")
	}
	return r
}

// SelfStake is the token value of the operator's delegation to v.
func (m *Module) SelfStake(v *weftv1.Validator) *uint256.Int {
	return TokensOf(v, m.delegation(common.BytesToAddress(v.Address), common.BytesToAddress(v.Operator)).shares)
}

// ParseConsensusKey checks a secp256k1eth public key (33-byte compressed).
func ParseConsensusKey(b []byte) (secp256k1eth.PubKey, error) {
	if len(b) != 33 {
		return nil, fmt.Errorf("consensus key must be a 33-byte compressed secp256k1 key (secp256k1eth), got %d bytes", len(b))
	}
	pk, err := secp256k1eth.NewPubKeyFromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("consensus key is not a secp256k1eth public key: %w", err)
	}
	return pk, nil
}

func (m *Module) debit(a common.Address, v *uint256.Int) *Error {
	bal := m.bank.Balance(a)
	if bal.Lt(v) {
		return fail(ErrFunds, "balance %s is below %s", bal, v)
	}
	m.bank.SetBalance(a, new(uint256.Int).Sub(bal, v))
	return nil
}

func (m *Module) credit(a common.Address, v *uint256.Int) {
	if v.IsZero() {
		return
	}
	m.bank.SetBalance(a, new(uint256.Int).Add(m.bank.Balance(a), v))
}

// CreateValidator bonds self stake and creates a validator operated by sender.
func (m *Module) CreateValidator(sender common.Address, msg *weftv1.CreateValidator, height int64) *Error {
	pk, err := ParseConsensusKey(msg.ConsensusPubKey)
	if err != nil {
		return fail(ErrInvalid, "%v", err)
	}
	if msg.CommissionBps > 10_000 {
		return fail(ErrInvalid, "commission %d bps is above 10000", msg.CommissionBps)
	}
	if len(msg.Moniker) > 64 {
		return fail(ErrInvalid, "moniker longer than 64 bytes")
	}
	if len(msg.SelfStake) > 32 {
		return fail(ErrInvalid, "self stake longer than 32 bytes")
	}
	addr := common.BytesToAddress(pk.Address())
	if m.Validator(addr) != nil {
		return fail(ErrExists, "validator %s already exists", addr)
	}
	stake := amt(msg.SelfStake)
	if stake.Lt(m.p.MinSelfStake) {
		return fail(ErrStakeTooLow, "self stake %s is below the minimum %s", stake, m.p.MinSelfStake)
	}
	attestKey, e := m.checkAttestation(msg.AttestationPubKey, msg.AttestationPop, addr)
	if e != nil {
		return e
	}
	if e := m.debit(sender, stake); e != nil {
		return e
	}
	m.create(addr, pk, attestKey, sender, stake, msg.CommissionBps, msg.Moniker, height)
	return nil
}

func (m *Module) create(addr common.Address, pk secp256k1eth.PubKey, attestKey []byte, operator common.Address, stake *uint256.Int, commission uint32, moniker string, height int64) {
	v := &weftv1.Validator{
		Address: addr.Bytes(), ConsensusPubKey: pk, Operator: operator.Bytes(), Tokens: stake.Bytes(), Shares: stake.Bytes(),
		CommissionBps: commission, Moniker: moniker, CreatedHeight: height,
	}
	if len(attestKey) > 0 {
		m.setAttestationKey(v, attestKey)
	}
	m.setValidator(v)
	m.validatorSet().add(addr)
	m.setDelegation(addr, operator, delegation{shares: stake, start: new(uint256.Int)})
}

// Genesis creates a genesis validator whose stake is bonded from nothing
// (it is part of the genesis supply) and records it as active. attestKey and
// pop are its optional attestation key and proof of possession.
func (m *Module) Genesis(pkBytes, attestKey, pop []byte, operator common.Address, stake *uint256.Int, commission uint32, moniker string) (int64, error) {
	pk, err := ParseConsensusKey(pkBytes)
	if err != nil {
		return 0, err
	}
	addr := common.BytesToAddress(pk.Address())
	if m.Validator(addr) != nil {
		return 0, fmt.Errorf("duplicate genesis validator %s", addr)
	}
	attestKey, e := m.checkAttestation(attestKey, pop, addr)
	if e != nil {
		return 0, e
	}
	m.create(addr, pk, attestKey, operator, stake, commission, moniker, 0)
	return m.power(amt(stake.Bytes())), nil
}

func (m *Module) power(tokens *uint256.Int) int64 {
	p := new(uint256.Int).Div(tokens, m.p.PowerReduction)
	if !p.IsUint64() || p.Uint64() > 1<<50 {
		return 1 << 50
	}
	return int64(p.Uint64())
}

func (m *Module) mustValidator(a []byte) (*weftv1.Validator, *Error) {
	if len(a) != 20 {
		return nil, fail(ErrInvalid, "validator address must be 20 bytes, got %d", len(a))
	}
	v := m.Validator(common.BytesToAddress(a))
	if v == nil {
		return nil, fail(ErrNotFound, "validator %s does not exist", common.BytesToAddress(a))
	}
	return v, nil
}

// Delegate bonds amount from sender to a validator.
func (m *Module) Delegate(sender common.Address, msg *weftv1.Delegate) *Error {
	v, e := m.mustValidator(msg.Validator)
	if e != nil {
		return e
	}
	if v.Tombstoned {
		return fail(ErrState, "validator %s is tombstoned", common.BytesToAddress(v.Address))
	}
	if len(msg.Amount) > 32 {
		return fail(ErrInvalid, "amount longer than 32 bytes")
	}
	a := amt(msg.Amount)
	if a.IsZero() {
		return fail(ErrInvalid, "amount must be positive")
	}
	tokens, shares := amt(v.Tokens), amt(v.Shares)
	if tokens.IsZero() {
		return fail(ErrState, "validator %s has no tokens left", common.BytesToAddress(v.Address))
	}
	if e := m.debit(sender, a); e != nil {
		return e
	}
	vaddr := common.BytesToAddress(v.Address)
	d, rs := m.delegation(vaddr, sender), m.rewardState(vaddr)
	m.settle(v, sender, &d, &rs)
	newShares := mulDiv(a, shares, tokens)
	v.Tokens = new(uint256.Int).Add(tokens, a).Bytes()
	v.Shares = new(uint256.Int).Add(shares, newShares).Bytes()
	m.setValidator(v)
	d.shares = new(uint256.Int).Add(d.shares, newShares)
	m.setDelegation(vaddr, sender, d)
	m.setRewardState(vaddr, rs)
	return nil
}

// Undelegate starts unbonding amount of sender's delegation.
func (m *Module) Undelegate(sender common.Address, msg *weftv1.Undelegate, height int64) *Error {
	v, e := m.mustValidator(msg.Validator)
	if e != nil {
		return e
	}
	vaddr := common.BytesToAddress(v.Address)
	d := m.delegation(vaddr, sender)
	if d.shares.IsZero() {
		return fail(ErrNotFound, "%s has no delegation to %s", sender, vaddr)
	}
	if len(msg.Amount) > 32 {
		return fail(ErrInvalid, "amount longer than 32 bytes")
	}
	a := amt(msg.Amount)
	if a.IsZero() {
		return fail(ErrInvalid, "amount must be positive")
	}
	have := TokensOf(v, d.shares)
	if a.Gt(have) {
		return fail(ErrExceedsDelegation, "undelegating %s but the delegation is worth %s", a, have)
	}
	tokens, shares := amt(v.Tokens), amt(v.Shares)
	// Shares removed round up so a delegator can never take out more than
	// its shares are worth; the whole delegation removes all its shares.
	rm := new(uint256.Int)
	if a.Eq(have) {
		rm.Set(d.shares)
	} else {
		rm = mulDiv(a, shares, tokens)
		if !new(uint256.Int).MulMod(a, shares, tokens).IsZero() {
			rm.AddUint64(rm, 1)
		}
		if rm.Gt(d.shares) {
			rm.Set(d.shares)
		}
	}
	rs := m.rewardState(vaddr)
	m.settle(v, sender, &d, &rs)
	d.shares = new(uint256.Int).Sub(d.shares, rm)
	m.setDelegation(vaddr, sender, d)
	v.Tokens = new(uint256.Int).Sub(tokens, a).Bytes()
	v.Shares = new(uint256.Int).Sub(shares, rm).Bytes()
	m.setValidator(v)
	m.sweepDust(v, &rs)
	m.setRewardState(vaddr, rs)
	m.enqueue(sender, vaddr, a, height)
	return nil
}

// EditValidator changes commission, moniker or attestation key; only the
// operator may.
func (m *Module) EditValidator(sender common.Address, msg *weftv1.EditValidator) *Error {
	v, e := m.mustValidator(msg.Validator)
	if e != nil {
		return e
	}
	if !bytes.Equal(v.Operator, sender.Bytes()) {
		return fail(ErrUnauthorized, "%s is not the operator of validator %s", sender, common.BytesToAddress(v.Address))
	}
	if msg.HasCommission {
		if msg.CommissionBps > 10_000 {
			return fail(ErrInvalid, "commission %d bps is above 10000", msg.CommissionBps)
		}
		v.CommissionBps = msg.CommissionBps
	}
	if msg.Moniker != "" {
		if len(msg.Moniker) > 64 {
			return fail(ErrInvalid, "moniker longer than 64 bytes")
		}
		v.Moniker = msg.Moniker
	}
	attestKey, e := m.checkAttestation(msg.AttestationPubKey, msg.AttestationPop, common.BytesToAddress(v.Address))
	if e != nil {
		return e
	}
	if len(attestKey) > 0 {
		m.setAttestationKey(v, attestKey)
	}
	m.setValidator(v)
	return nil
}

// Unjail returns a jailed validator to candidacy.
func (m *Module) Unjail(sender common.Address, msg *weftv1.Unjail, height int64) *Error {
	v, e := m.mustValidator(msg.Validator)
	if e != nil {
		return e
	}
	addr := common.BytesToAddress(v.Address)
	if !bytes.Equal(v.Operator, sender.Bytes()) {
		return fail(ErrUnauthorized, "%s is not the operator of validator %s", sender, addr)
	}
	switch {
	case v.Tombstoned:
		return fail(ErrState, "validator %s is tombstoned for double signing and cannot be unjailed", addr)
	case !v.Jailed:
		return fail(ErrState, "validator %s is not jailed", addr)
	case height < v.JailedUntilHeight:
		return fail(ErrState, "validator %s is jailed until height %d", addr, v.JailedUntilHeight)
	}
	if self := m.SelfStake(v); self.Lt(m.p.MinSelfStake) {
		return fail(ErrStakeTooLow, "self stake %s is below the minimum %s", self, m.p.MinSelfStake)
	}
	v.Jailed, v.MissedBlocks, v.SigningWindow = false, 0, nil
	m.setValidator(v)
	return nil
}

// Vote is one validator's vote on the previous block.
type Vote struct {
	Address common.Address
	Power   int64
	Signed  bool
}

// Evidence is proven misbehaviour of a validator at Height.
type Evidence struct {
	Address common.Address
	Height  int64
}

// Events reports what BeginBlock did, for logs and tests.
type Events struct {
	Jailed     []common.Address
	Tombstoned []common.Address
	// Slashed is what each slash took from bonded tokens now (a double
	// sign's cut of unbonding entries is burnt as each is paid).
	Slashed map[common.Address]*uint256.Int
	// Matured entries were paid; BurntUnbonding is what slashes cut from
	// them.
	Matured        int
	BurntUnbonding *uint256.Int
	// Distributed left the pool: paid to operators or accrued to the
	// other delegators' outstanding rewards.
	Distributed *uint256.Int
}

// BeginBlockAt runs at the start of the block of height and time
// blockTime: pays the pool (with the block reward minted now) to the
// validators that signed the previous block, updates downtime windows
// (jailing), slashes evidence, and pays out matured unbonding entries. Its
// writes are bounded by the votes, the evidence and maxMaturePerBlock,
// whatever the number of delegators and entries. blockTime is the block
// header's time (never a local clock); the zero time imposes no time bound
// on the entries created in the block.
func (m *Module) BeginBlockAt(height int64, blockTime time.Time, votes []Vote, evidence []Evidence) *Events {
	ev := &Events{Slashed: map[common.Address]*uint256.Int{}, Distributed: new(uint256.Int), BurntUnbonding: new(uint256.Int)}
	m.setNow(blockTime)
	if !m.p.BlockReward.IsZero() {
		m.SetSupply(new(uint256.Int).Add(m.Supply(), m.p.BlockReward))
		m.CollectFee(m.p.BlockReward)
	}
	m.distribute(votes, ev)
	for _, vt := range votes {
		m.trackSigning(height, vt, ev)
	}
	for _, e := range evidence {
		m.slashDoubleSign(height, e, ev)
	}
	m.mature(height, blockTime, ev)
	return ev
}

func (m *Module) trackSigning(height int64, vt Vote, ev *Events) {
	v := m.Validator(vt.Address)
	if v == nil || v.Jailed || v.Tombstoned {
		return
	}
	w := m.p.SignedBlocksWindow
	if int64(len(v.SigningWindow)) != (w+7)/8 {
		v.SigningWindow = make([]byte, (w+7)/8)
		v.MissedBlocks = 0
	}
	i := (height - 1) % w
	byteI, bit := i/8, byte(1)<<(i%8)
	wasMissed := v.SigningWindow[byteI]&bit != 0
	missed := !vt.Signed
	switch {
	case missed && !wasMissed:
		v.SigningWindow[byteI] |= bit
		v.MissedBlocks++
	case !missed && wasMissed:
		v.SigningWindow[byteI] &^= bit
		v.MissedBlocks--
	}
	if int64(v.MissedBlocks) > m.p.MaxMissedBlocks {
		slashed := m.slashTokens(v, m.p.SlashDowntimeBps)
		ev.Slashed[vt.Address] = slashed
		v.Jailed = true
		v.JailedUntilHeight = height + m.p.DowntimeJailBlocks
		v.MissedBlocks, v.SigningWindow = 0, nil
		ev.Jailed = append(ev.Jailed, vt.Address)
	}
	m.setValidator(v)
}

// slashTokens burns bps of v's bonded tokens (v is saved by the caller).
func (m *Module) slashTokens(v *weftv1.Validator, bps uint32) *uint256.Int {
	tokens := amt(v.Tokens)
	cut := mulDiv(tokens, uint256.NewInt(uint64(bps)), uint256.NewInt(10_000))
	v.Tokens = new(uint256.Int).Sub(tokens, cut).Bytes()
	m.SetSupply(new(uint256.Int).Sub(m.Supply(), cut))
	return cut
}

// slashDoubleSign cuts slash_double_sign_bps of the bonded tokens at once
// and records the slash, which cuts as much of every unbonding entry of the
// validator created from the infraction height until now when the entry is
// paid (unbonding.go). The validator is tombstoned: this happens once.
func (m *Module) slashDoubleSign(height int64, e Evidence, ev *Events) {
	v := m.Validator(e.Address)
	if v == nil || v.Tombstoned {
		return
	}
	ev.Slashed[e.Address] = m.slashTokens(v, m.p.SlashDoubleSignBps)
	m.setSlashRecord(e.Address, slashRecord{infraction: e.Height, at: height, bps: m.p.SlashDoubleSignBps})
	v.Tombstoned, v.Jailed = true, true
	v.JailedUntilHeight = 1<<62 - 1
	m.setValidator(v)
	ev.Tombstoned = append(ev.Tombstoned, e.Address)
}

// Update is a validator power change for CometBFT (power 0 removes it).
type Update struct {
	PubKey []byte
	Power  int64
}

// EndBlock computes the active set (top MaxValidators by tokens among
// validators neither jailed nor below the minimum self stake) and returns
// the changes against the set CometBFT was last given.
func (m *Module) EndBlock() []Update {
	type cand struct {
		v     *weftv1.Validator
		addr  common.Address
		power int64
	}
	var cands []cand
	for _, v := range m.Validators() {
		if v.Jailed || v.Tombstoned || m.SelfStake(v).Lt(m.p.MinSelfStake) {
			continue
		}
		if p := m.power(amt(v.Tokens)); p > 0 {
			cands = append(cands, cand{v, common.BytesToAddress(v.Address), p})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if c := amt(cands[i].v.Tokens).Cmp(amt(cands[j].v.Tokens)); c != 0 {
			return c > 0
		}
		return bytes.Compare(cands[i].addr[:], cands[j].addr[:]) < 0
	})
	if len(cands) > m.p.MaxValidators {
		cands = cands[:m.p.MaxValidators]
	}
	next := map[common.Address]int64{}
	for _, c := range cands {
		next[c.addr] = c.power
	}
	last := m.LastSet()
	var ups []Update
	var addrs []common.Address
	for a := range last {
		addrs = append(addrs, a)
	}
	for a := range next {
		if _, ok := last[a]; !ok {
			addrs = append(addrs, a)
		}
	}
	sort.Slice(addrs, func(i, j int) bool { return bytes.Compare(addrs[i][:], addrs[j][:]) < 0 })
	for _, a := range addrs {
		if last[a] == next[a] {
			continue
		}
		v := m.Validator(a)
		ups = append(ups, Update{PubKey: v.ConsensusPubKey, Power: next[a]})
		v.Power = next[a]
		m.setValidator(v)
	}
	if len(ups) > 0 {
		m.SetLastSet(next)
	}
	return ups
}

// LastSet is the validator set (address → power) CometBFT was last given.
func (m *Module) LastSet() map[common.Address]int64 {
	b, _ := m.get(keyLastSet)
	out := map[common.Address]int64{}
	for ; len(b) >= 28; b = b[28:] {
		out[common.BytesToAddress(b[:20])] = int64(binary.BigEndian.Uint64(b[20:28]))
	}
	return out
}

// SetLastSet records the set CometBFT has.
func (m *Module) SetLastSet(set map[common.Address]int64) {
	addrs := make([]common.Address, 0, len(set))
	for a := range set {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return bytes.Compare(addrs[i][:], addrs[j][:]) < 0 })
	var b []byte
	for _, a := range addrs {
		b = append(b, a[:]...)
		b = binary.BigEndian.AppendUint64(b, uint64(set[a]))
	}
	m.kv.Set(keyLastSet, b)
}

// Bonded is the sum of all validators' tokens.
func (m *Module) Bonded() *uint256.Int {
	s := new(uint256.Int)
	for _, v := range m.Validators() {
		s.Add(s, amt(v.Tokens))
	}
	return s
}

// CheckSupply verifies balances + bonded + unbonding + pool + outstanding
// rewards == supply, given the sum of all liquid balances. It reads every
// validator and unbonding entry: for tests and audits, not blocks.
func (m *Module) CheckSupply(balances *uint256.Int) error {
	bonded, unbonding, pool, outstanding := m.Bonded(), m.UnbondingTotal(), m.Pool(), m.Outstanding()
	got := new(uint256.Int).Add(balances, bonded)
	got.Add(got, unbonding)
	got.Add(got, pool)
	got.Add(got, outstanding)
	if !got.Eq(m.Supply()) {
		return fmt.Errorf("supply invariant broken: balances %s + bonded %s + unbonding %s + pool %s + outstanding rewards %s = %s, supply %s",
			balances, bonded, unbonding, pool, outstanding, got, m.Supply())
	}
	return nil
}

// ErrNoStaking is returned when the chain has no staking state.
var ErrNoStaking = errors.New("staking not initialised")

// SetPower records the power CometBFT uses for validator a.
func (m *Module) SetPower(a common.Address, power int64) {
	if v := m.Validator(a); v != nil {
		v.Power = power
		m.setValidator(v)
	}
}
