package staking

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

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
	MaxValidators      int
	MinSelfStake       *uint256.Int
	PowerReduction     *uint256.Int
	UnbondingBlocks    int64
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

var (
	prefixVal    = []byte("s/v/")
	prefixDel    = []byte("s/d/")
	prefixDelIdx = []byte("s/dl/")
	keyValList   = []byte("s/vl")
	keyUnbonding = []byte("s/u")
	keyPool      = []byte("s/pool")
	keySupply    = []byte("s/supply")
	keyNextID    = []byte("s/nextid")
	keyLastSet   = []byte("s/lastset")
)

// Module is the staking state transition over one state view.
type Module struct {
	kv   KV
	bank Bank
	p    *Params
}

// New returns the module over kv and bank.
func New(kv KV, bank Bank, p *Params) *Module { return &Module{kv: kv, bank: bank, p: p} }

func (m *Module) get(key []byte) ([]byte, bool) {
	v, ok, err := m.kv.Get(key)
	if err != nil {
		panic(fmt.Sprintf("staking state read %q: %v", key, err))
	}
	return v, ok
}

func marshal(msg proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		panic(fmt.Sprintf("invariant: marshal %T: %v", msg, err))
	}
	return b
}

func amt(b []byte) *uint256.Int { return new(uint256.Int).SetBytes(b) }

func (m *Module) getAmount(key []byte) *uint256.Int {
	v, _ := m.get(key)
	return amt(v)
}

func (m *Module) setAmount(key []byte, v *uint256.Int) { m.kv.Set(key, v.Bytes()) }

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

func valKey(a common.Address) []byte { return append(append([]byte(nil), prefixVal...), a[:]...) }
func delKey(v, d common.Address) []byte {
	k := append(append([]byte(nil), prefixDel...), v[:]...)
	return append(k, d[:]...)
}
func delIdxKey(v common.Address) []byte { return append(append([]byte(nil), prefixDelIdx...), v[:]...) }

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

// addrList is a sorted list of 20-byte addresses stored under one key.
func (m *Module) addrList(key []byte) []common.Address {
	b, _ := m.get(key)
	out := make([]common.Address, len(b)/20)
	for i := range out {
		copy(out[i][:], b[20*i:])
	}
	return out
}

func (m *Module) addToList(key []byte, a common.Address) {
	l := m.addrList(key)
	i := sort.Search(len(l), func(i int) bool { return bytes.Compare(l[i][:], a[:]) >= 0 })
	if i < len(l) && l[i] == a {
		return
	}
	l = append(l, common.Address{})
	copy(l[i+1:], l[i:])
	l[i] = a
	m.putList(key, l)
}

func (m *Module) removeFromList(key []byte, a common.Address) {
	l := m.addrList(key)
	for i := range l {
		if l[i] == a {
			m.putList(key, append(l[:i], l[i+1:]...))
			return
		}
	}
}

func (m *Module) putList(key []byte, l []common.Address) {
	b := make([]byte, 0, 20*len(l))
	for _, a := range l {
		b = append(b, a[:]...)
	}
	m.kv.Set(key, b)
}

// Validators returns every validator, sorted by address.
func (m *Module) Validators() []*weftv1.Validator {
	var out []*weftv1.Validator
	for _, a := range m.addrList(keyValList) {
		out = append(out, m.Validator(a))
	}
	return out
}

// Delegation returns d's delegation to v, or nil.
func (m *Module) Delegation(v, d common.Address) *weftv1.Delegation {
	b, ok := m.get(delKey(v, d))
	// setDelegation removes a delegation by writing nil, which the state
	// reads back as present and empty.
	if !ok || len(b) == 0 {
		return nil
	}
	del := &weftv1.Delegation{}
	if err := proto.Unmarshal(b, del); err != nil {
		panic(fmt.Sprintf("invariant: corrupt delegation: %v", err))
	}
	return del
}

// Delegators returns the delegators of v, sorted.
func (m *Module) Delegators(v common.Address) []common.Address { return m.addrList(delIdxKey(v)) }

func (m *Module) setDelegation(del *weftv1.Delegation) {
	v, d := common.BytesToAddress(del.Validator), common.BytesToAddress(del.Delegator)
	if amt(del.Shares).IsZero() {
		m.kv.Set(delKey(v, d), nil)
		m.removeFromList(delIdxKey(v), d)
		return
	}
	m.kv.Set(delKey(v, d), marshal(del))
	m.addToList(delIdxKey(v), d)
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
	d := m.Delegation(common.BytesToAddress(v.Address), common.BytesToAddress(v.Operator))
	if d == nil {
		return new(uint256.Int)
	}
	return TokensOf(v, amt(d.Shares))
}

// Unbonding returns the unbonding queue, ordered by completion height then id.
func (m *Module) Unbonding() []*weftv1.UnbondingEntry {
	b, _ := m.get(keyUnbonding)
	var out []*weftv1.UnbondingEntry
	for len(b) > 0 {
		n := binary.BigEndian.Uint32(b)
		e := &weftv1.UnbondingEntry{}
		if err := proto.Unmarshal(b[4:4+n], e); err != nil {
			panic(fmt.Sprintf("invariant: corrupt unbonding queue: %v", err))
		}
		out = append(out, e)
		b = b[4+n:]
	}
	return out
}

func (m *Module) setUnbonding(q []*weftv1.UnbondingEntry) {
	sort.SliceStable(q, func(i, j int) bool {
		if q[i].CompletionHeight != q[j].CompletionHeight {
			return q[i].CompletionHeight < q[j].CompletionHeight
		}
		return q[i].Id < q[j].Id
	})
	var b []byte
	for _, e := range q {
		eb := marshal(e)
		b = binary.BigEndian.AppendUint32(b, uint32(len(eb)))
		b = append(b, eb...)
	}
	m.kv.Set(keyUnbonding, b)
}

func (m *Module) nextID() uint64 {
	b, _ := m.get(keyNextID)
	var id uint64
	if len(b) == 8 {
		id = binary.BigEndian.Uint64(b)
	}
	m.kv.Set(keyNextID, binary.BigEndian.AppendUint64(nil, id+1))
	return id
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
	if e := m.debit(sender, stake); e != nil {
		return e
	}
	m.create(addr, pk, sender, stake, msg.CommissionBps, msg.Moniker, height)
	return nil
}

func (m *Module) create(addr common.Address, pk secp256k1eth.PubKey, operator common.Address, stake *uint256.Int, commission uint32, moniker string, height int64) {
	m.setValidator(&weftv1.Validator{
		Address: addr.Bytes(), ConsensusPubKey: pk, Operator: operator.Bytes(), Tokens: stake.Bytes(), Shares: stake.Bytes(),
		CommissionBps: commission, Moniker: moniker, CreatedHeight: height,
	})
	m.addToList(keyValList, addr)
	m.setDelegation(&weftv1.Delegation{Delegator: operator.Bytes(), Validator: addr.Bytes(), Shares: stake.Bytes()})
}

// Genesis creates a genesis validator whose stake is bonded from nothing
// (it is part of the genesis supply) and records it as active.
func (m *Module) Genesis(pkBytes []byte, operator common.Address, stake *uint256.Int, commission uint32, moniker string) (int64, error) {
	pk, err := ParseConsensusKey(pkBytes)
	if err != nil {
		return 0, err
	}
	addr := common.BytesToAddress(pk.Address())
	if m.Validator(addr) != nil {
		return 0, fmt.Errorf("duplicate genesis validator %s", addr)
	}
	m.create(addr, pk, operator, stake, commission, moniker, 0)
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
	newShares := mulDiv(a, shares, tokens)
	v.Tokens = new(uint256.Int).Add(tokens, a).Bytes()
	v.Shares = new(uint256.Int).Add(shares, newShares).Bytes()
	m.setValidator(v)
	vaddr := common.BytesToAddress(v.Address)
	d := m.Delegation(vaddr, sender)
	if d == nil {
		d = &weftv1.Delegation{Delegator: sender.Bytes(), Validator: vaddr.Bytes()}
	}
	d.Shares = new(uint256.Int).Add(amt(d.Shares), newShares).Bytes()
	m.setDelegation(d)
	return nil
}

// Undelegate starts unbonding amount of sender's delegation.
func (m *Module) Undelegate(sender common.Address, msg *weftv1.Undelegate, height int64) *Error {
	v, e := m.mustValidator(msg.Validator)
	if e != nil {
		return e
	}
	vaddr := common.BytesToAddress(v.Address)
	d := m.Delegation(vaddr, sender)
	if d == nil {
		return fail(ErrNotFound, "%s has no delegation to %s", sender, vaddr)
	}
	if len(msg.Amount) > 32 {
		return fail(ErrInvalid, "amount longer than 32 bytes")
	}
	a := amt(msg.Amount)
	if a.IsZero() {
		return fail(ErrInvalid, "amount must be positive")
	}
	have := TokensOf(v, amt(d.Shares))
	if a.Gt(have) {
		return fail(ErrExceedsDelegation, "undelegating %s but the delegation is worth %s", a, have)
	}
	tokens, shares := amt(v.Tokens), amt(v.Shares)
	// Shares removed round up so a delegator can never take out more than
	// its shares are worth; the whole delegation removes all its shares.
	rm := new(uint256.Int)
	if a.Eq(have) {
		rm.Set(amt(d.Shares))
	} else {
		num := new(uint256.Int).Mul(a, shares)
		rm.Div(num, tokens)
		if !new(uint256.Int).Mod(num, tokens).IsZero() {
			rm.AddUint64(rm, 1)
		}
		if rm.Gt(amt(d.Shares)) {
			rm.Set(amt(d.Shares))
		}
	}
	d.Shares = new(uint256.Int).Sub(amt(d.Shares), rm).Bytes()
	m.setDelegation(d)
	v.Tokens = new(uint256.Int).Sub(tokens, a).Bytes()
	v.Shares = new(uint256.Int).Sub(shares, rm).Bytes()
	m.setValidator(v)
	q := m.Unbonding()
	q = append(q, &weftv1.UnbondingEntry{
		Delegator: sender.Bytes(), Validator: vaddr.Bytes(), Amount: a.Bytes(),
		CreationHeight: height, CompletionHeight: height + m.p.UnbondingBlocks, Id: m.nextID(),
	})
	m.setUnbonding(q)
	return nil
}

// EditValidator changes commission or moniker; only the operator may.
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
	Jailed      []common.Address
	Tombstoned  []common.Address
	Slashed     map[common.Address]*uint256.Int
	Matured     int
	Distributed *uint256.Int
}

// BeginBlock runs at the start of height: pays the pool (with the block
// reward minted now) to the validators that signed the previous block,
// updates downtime windows (jailing), slashes evidence, and pays out matured
// unbonding entries.
func (m *Module) BeginBlock(height int64, votes []Vote, evidence []Evidence) *Events {
	ev := &Events{Slashed: map[common.Address]*uint256.Int{}, Distributed: new(uint256.Int)}
	if !m.p.BlockReward.IsZero() {
		m.SetSupply(new(uint256.Int).Add(m.Supply(), m.p.BlockReward))
		m.CollectFee(m.p.BlockReward)
	}
	m.distribute(votes, ev)
	for _, vt := range votes {
		m.trackSigning(height, vt, ev)
	}
	for _, e := range evidence {
		m.slashDoubleSign(e, ev)
	}
	m.mature(height, ev)
	return ev
}

// distribute splits the pool among signers by power; each validator's part
// pays commission to its operator and the rest to its delegators by shares.
func (m *Module) distribute(votes []Vote, ev *Events) {
	pool := m.Pool()
	var total uint64
	for _, vt := range votes {
		if vt.Signed && vt.Power > 0 {
			total += uint64(vt.Power)
		}
	}
	if pool.IsZero() || total == 0 {
		return
	}
	paid := new(uint256.Int)
	for _, vt := range votes {
		if !vt.Signed || vt.Power <= 0 {
			continue
		}
		v := m.Validator(vt.Address)
		if v == nil {
			continue
		}
		share := mulDiv(pool, uint256.NewInt(uint64(vt.Power)), uint256.NewInt(total))
		commission := mulDiv(share, uint256.NewInt(uint64(v.CommissionBps)), uint256.NewInt(10_000))
		m.credit(common.BytesToAddress(v.Operator), commission)
		paid.Add(paid, commission)
		rest := new(uint256.Int).Sub(share, commission)
		shares := amt(v.Shares)
		if shares.IsZero() {
			continue
		}
		for _, d := range m.Delegators(vt.Address) {
			del := m.Delegation(vt.Address, d)
			r := mulDiv(rest, amt(del.Shares), shares)
			m.credit(d, r)
			paid.Add(paid, r)
		}
	}
	m.setAmount(keyPool, new(uint256.Int).Sub(pool, paid))
	ev.Distributed = paid
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

func (m *Module) slashDoubleSign(e Evidence, ev *Events) {
	v := m.Validator(e.Address)
	if v == nil || v.Tombstoned {
		return
	}
	cut := m.slashTokens(v, m.p.SlashDoubleSignBps)
	// Stake that left after the infraction was still bonded when it happened.
	q := m.Unbonding()
	for _, u := range q {
		if bytes.Equal(u.Validator, v.Address) && u.CreationHeight >= e.Height {
			a := amt(u.Amount)
			c := mulDiv(a, uint256.NewInt(uint64(m.p.SlashDoubleSignBps)), uint256.NewInt(10_000))
			u.Amount = new(uint256.Int).Sub(a, c).Bytes()
			m.SetSupply(new(uint256.Int).Sub(m.Supply(), c))
			cut.Add(cut, c)
		}
	}
	m.setUnbonding(q)
	v.Tombstoned, v.Jailed = true, true
	v.JailedUntilHeight = 1<<62 - 1
	m.setValidator(v)
	ev.Slashed[e.Address] = cut
	ev.Tombstoned = append(ev.Tombstoned, e.Address)
}

func (m *Module) mature(height int64, ev *Events) {
	q := m.Unbonding()
	n := 0
	for n < len(q) && q[n].CompletionHeight <= height {
		m.credit(common.BytesToAddress(q[n].Delegator), amt(q[n].Amount))
		n++
	}
	if n > 0 {
		m.setUnbonding(q[n:])
		ev.Matured = n
	}
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

// UnbondingTotal is the sum of all unbonding entries.
func (m *Module) UnbondingTotal() *uint256.Int {
	s := new(uint256.Int)
	for _, u := range m.Unbonding() {
		s.Add(s, amt(u.Amount))
	}
	return s
}

// CheckSupply verifies balances + bonded + unbonding + pool == supply, given
// the sum of all liquid balances.
func (m *Module) CheckSupply(balances *uint256.Int) error {
	got := new(uint256.Int).Add(balances, m.Bonded())
	got.Add(got, m.UnbondingTotal())
	got.Add(got, m.Pool())
	if !got.Eq(m.Supply()) {
		return fmt.Errorf("supply invariant broken: balances %s + bonded %s + unbonding %s + pool %s = %s, supply %s",
			balances, m.Bonded(), m.UnbondingTotal(), m.Pool(), got, m.Supply())
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
