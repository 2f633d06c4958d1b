package staking

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"google.golang.org/protobuf/proto"
)

// State layout. Every record a block changes is its own key, so what an
// action or a block writes is bounded by what it does, never by how many
// validators, delegations or unbonding entries exist. Records are read only
// by exact key: nothing needs prefix iteration, so the module runs on any
// Get/Set store (consensus.Overlay). A deleted record is written as an empty
// value, which reads back as present and empty: empty means absent here.
//
//	s/v/<val>                weftv1.Validator
//	s/vs/{n,i<n>,p<val>}     the set of all validators (dense set)
//	s/r/<val>                reward ratio and outstanding rewards (rewards.go)
//	s/x/<val>                the double-sign slash, once tombstoned
//	s/d/<val><del>           delegation: shares, reward ratio at its last change
//	s/ds/<val>/{n,i<n>,p<del>} the delegators of a validator (dense set)
//	s/u/<id>                 unbonding entry id (unbonding.go)
//	s/uh, s/nextid           first and next unbonding id (the queue's ends)
//	s/now                    the current block's time
//	s/pool, s/supply, s/lastset
var (
	prefixVal       = []byte("s/v/")
	prefixValSet    = []byte("s/vs/")
	prefixRewards   = []byte("s/r/")
	prefixSlash     = []byte("s/x/")
	prefixDel       = []byte("s/d/")
	prefixDelSet    = []byte("s/ds/")
	prefixUnbonding = []byte("s/u/")
	keyQueueHead    = []byte("s/uh")
	keyNextID       = []byte("s/nextid")
	keyNow          = []byte("s/now")
	keyPool         = []byte("s/pool")
	keySupply       = []byte("s/supply")
	keyLastSet      = []byte("s/lastset")
)

func key(prefix []byte, parts ...[]byte) []byte {
	k := append([]byte(nil), prefix...)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func (m *Module) get(key []byte) ([]byte, bool) {
	v, ok, err := m.kv.Get(key)
	if err != nil {
		panic(fmt.Sprintf("staking state read %q: %v", key, err))
	}
	return v, ok && len(v) > 0
}

func (m *Module) del(key []byte) { m.kv.Set(key, nil) }

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

func (m *Module) getUint(key []byte) uint64 {
	b, ok := m.get(key)
	if !ok {
		return 0
	}
	if len(b) != 8 {
		panic(fmt.Sprintf("invariant: corrupt counter %q", key))
	}
	return binary.BigEndian.Uint64(b)
}

func (m *Module) setUint(key []byte, v uint64) { m.kv.Set(key, be64(v)) }

// now is the current block's time as BeginBlockAt recorded it (zero when
// consensus gave none).
func (m *Module) now() time.Time {
	n := m.getUint(keyNow)
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(n)).UTC()
}

func (m *Module) setNow(t time.Time) {
	if t.IsZero() || t.UnixNano() <= 0 {
		m.del(keyNow)
		return
	}
	m.setUint(keyNow, uint64(t.UnixNano()))
}

// addrSet is a set of addresses kept dense under one prefix: the count at
// "n", member i at "i"+i and the position of a at "p"+a. Adding writes 3
// keys and removing 5 (the last member moves into the hole), whatever the
// size; listing reads count+1 keys.
type addrSet struct {
	m      *Module
	prefix []byte
}

func (s addrSet) countKey() []byte               { return key(s.prefix, []byte("n")) }
func (s addrSet) slotKey(i uint64) []byte        { return key(s.prefix, []byte("i"), be64(i)) }
func (s addrSet) posKey(a common.Address) []byte { return key(s.prefix, []byte("p"), a[:]) }

func (s addrSet) len() uint64 { return s.m.getUint(s.countKey()) }

func (s addrSet) has(a common.Address) bool {
	_, ok := s.m.get(s.posKey(a))
	return ok
}

func (s addrSet) add(a common.Address) {
	if s.has(a) {
		return
	}
	n := s.len()
	s.m.kv.Set(s.slotKey(n), a.Bytes())
	s.m.setUint(s.posKey(a), n)
	s.m.setUint(s.countKey(), n+1)
}

func (s addrSet) remove(a common.Address) {
	if !s.has(a) {
		return
	}
	i, last := s.m.getUint(s.posKey(a)), s.len()-1
	if i != last {
		b := s.member(last)
		s.m.kv.Set(s.slotKey(i), b.Bytes())
		s.m.setUint(s.posKey(b), i)
	}
	s.m.del(s.slotKey(last))
	s.m.del(s.posKey(a))
	s.m.setUint(s.countKey(), last)
}

func (s addrSet) member(i uint64) common.Address {
	b, ok := s.m.get(s.slotKey(i))
	if !ok || len(b) != common.AddressLength {
		panic(fmt.Sprintf("invariant: set %q has no member %d", s.prefix, i))
	}
	return common.BytesToAddress(b)
}

// list returns the members in slot order (not sorted).
func (s addrSet) list() []common.Address {
	n := s.len()
	out := make([]common.Address, n)
	for i := range out {
		out[i] = s.member(uint64(i))
	}
	return out
}

func (m *Module) validatorSet() addrSet { return addrSet{m, prefixValSet} }

func (m *Module) delegatorSet(v common.Address) addrSet {
	return addrSet{m, key(prefixDelSet, v[:], []byte("/"))}
}

// delegation is a delegation record: its shares and the validator's reward
// ratio when they last changed (rewards.go).
type delegation struct {
	shares, start *uint256.Int
}

func delKey(v, d common.Address) []byte { return key(prefixDel, v[:], d[:]) }

// delegation returns d's delegation to v (zero shares when none).
func (m *Module) delegation(v, d common.Address) delegation {
	b, ok := m.get(delKey(v, d))
	if !ok {
		return delegation{new(uint256.Int), new(uint256.Int)}
	}
	if len(b) != 64 {
		panic(fmt.Sprintf("invariant: corrupt delegation of %s to %s", d, v))
	}
	return delegation{amt(b[:32]), amt(b[32:])}
}

// setDelegation writes d's delegation to v; zero shares delete it and take
// d out of v's delegators.
func (m *Module) setDelegation(v, d common.Address, del delegation) {
	if del.shares.IsZero() {
		m.del(delKey(v, d))
		m.delegatorSet(v).remove(d)
		return
	}
	s, r := del.shares.Bytes32(), del.start.Bytes32()
	m.kv.Set(delKey(v, d), append(s[:], r[:]...))
	m.delegatorSet(v).add(d)
}
