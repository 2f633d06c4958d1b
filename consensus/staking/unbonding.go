package staking

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// The unbonding queue is one key per entry, by id, between a head (the
// oldest entry not paid yet) and the next id: adding an entry writes two
// keys and a block reads only the entries it pays, plus one.
//
// Ids follow creation, and so do both maturity bounds (creation height +
// unbonding_blocks, creation block time + unbonding_time, block times only
// increase), so the queue is ordered by maturity: paying from the head until
// an entry is not due pays exactly the due entries. Were the parameters ever
// shortened, later entries would wait behind earlier ones: late, never early.
//
// At most maxMaturePerBlock entries are paid per block, so a block's work
// stays bounded when many entries come due at once (say the chain stopped
// for a while); the rest are paid in the next blocks.
//
// A double-sign slash reaches the entries of its validator created at or
// after the infraction height and before the slash, lazily: the slash is
// recorded once on the validator (it is tombstoned, so there is never a
// second) and each entry's cut is taken, and burnt from the supply, when it
// is paid. Until then the supply still holds the entry's full amount, so
// balances + bonded + unbonding (as created) + pool + outstanding rewards =
// supply holds exactly at every step.

// maxMaturePerBlock bounds the unbonding entries one block pays.
const maxMaturePerBlock = 1000

// Entry is an unbonding entry.
type Entry struct {
	ID                   uint64
	Delegator, Validator common.Address
	// Amount is what the entry pays: its amount at creation less the cut
	// of a double-sign slash that reached it.
	Amount *uint256.Int
	// CreationHeight is the height of the Undelegate.
	CreationHeight int64
	// The entry is paid in the first block whose height is at least
	// CompletionHeight and whose time is at least CompletionTime (zero: no
	// time bound, when consensus gave no block time).
	CompletionHeight int64
	CompletionTime   time.Time
}

func entryKey(id uint64) []byte { return key(prefixUnbonding, be64(id)) }

// entry layout: delegator(20) validator(20) creation(8) completion
// height(8) completion time in unix ns, 0 for none(8) amount(rest).
func encodeEntry(e *Entry) []byte {
	b := make([]byte, 0, 64+32)
	b = append(b, e.Delegator[:]...)
	b = append(b, e.Validator[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.CreationHeight))
	b = binary.BigEndian.AppendUint64(b, uint64(e.CompletionHeight))
	var t uint64
	if !e.CompletionTime.IsZero() {
		t = uint64(e.CompletionTime.UnixNano())
	}
	b = binary.BigEndian.AppendUint64(b, t)
	return append(b, e.Amount.Bytes()...)
}

// loadEntry reads entry id, with its amount as created.
func (m *Module) loadEntry(id uint64) *Entry {
	b, ok := m.get(entryKey(id))
	if !ok || len(b) < 64 || len(b) > 96 {
		panic(fmt.Sprintf("invariant: unbonding entry %d missing or corrupt", id))
	}
	e := &Entry{
		ID: id, Delegator: common.BytesToAddress(b[:20]), Validator: common.BytesToAddress(b[20:40]),
		CreationHeight:   int64(binary.BigEndian.Uint64(b[40:48])),
		CompletionHeight: int64(binary.BigEndian.Uint64(b[48:56])),
		Amount:           amt(b[64:]),
	}
	if t := binary.BigEndian.Uint64(b[56:64]); t != 0 {
		e.CompletionTime = time.Unix(0, int64(t)).UTC()
	}
	return e
}

// enqueue adds an unbonding entry for amount of d's stake in v, created now.
func (m *Module) enqueue(d, v common.Address, amount *uint256.Int, height int64) {
	e := &Entry{
		Delegator: d, Validator: v, Amount: amount,
		CreationHeight: height, CompletionHeight: height + m.p.UnbondingBlocks,
	}
	if now := m.now(); !now.IsZero() {
		e.CompletionTime = now.Add(m.p.UnbondingTime)
	}
	id := m.getUint(keyNextID)
	m.kv.Set(entryKey(id), encodeEntry(e))
	m.setUint(keyNextID, id+1)
}

// due reports whether e may be paid in the block of height and time now.
func (e *Entry) due(height int64, now time.Time) bool {
	if height < e.CompletionHeight {
		return false
	}
	return e.CompletionTime.IsZero() || (!now.IsZero() && !now.Before(e.CompletionTime))
}

// slashRecord is a double-sign slash: the infraction height, the height of
// the block that slashed, and the share cut.
type slashRecord struct {
	infraction, at int64
	bps            uint32
}

func (m *Module) slashRecord(v common.Address) (slashRecord, bool) {
	b, ok := m.get(key(prefixSlash, v[:]))
	if !ok {
		return slashRecord{}, false
	}
	if len(b) != 20 {
		panic(fmt.Sprintf("invariant: corrupt slash record of %s", v))
	}
	return slashRecord{int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:])), binary.BigEndian.Uint32(b[16:])}, true
}

func (m *Module) setSlashRecord(v common.Address, r slashRecord) {
	b := binary.BigEndian.AppendUint64(nil, uint64(r.infraction))
	b = binary.BigEndian.AppendUint64(b, uint64(r.at))
	m.kv.Set(key(prefixSlash, v[:]), binary.BigEndian.AppendUint32(b, r.bps))
}

// cut is what the slash of e's validator, if any, takes from e: the stake
// left at or after the infraction, and before the slash, was bonded when
// the validator misbehaved.
func (m *Module) cut(e *Entry) *uint256.Int {
	r, ok := m.slashRecord(e.Validator)
	if !ok || e.CreationHeight < r.infraction || e.CreationHeight >= r.at {
		return new(uint256.Int)
	}
	return mulDiv(e.Amount, uint256.NewInt(uint64(r.bps)), uint256.NewInt(10_000))
}

// mature pays the due entries at the head of the queue, at most
// maxMaturePerBlock of them, burning the slash cut of each.
func (m *Module) mature(height int64, now time.Time, ev *Events) {
	head, next := m.getUint(keyQueueHead), m.getUint(keyNextID)
	id := head
	burnt := new(uint256.Int)
	for ; id < next && id-head < maxMaturePerBlock; id++ {
		e := m.loadEntry(id)
		if !e.due(height, now) {
			break
		}
		c := m.cut(e)
		m.credit(e.Delegator, new(uint256.Int).Sub(e.Amount, c))
		burnt.Add(burnt, c)
		m.del(entryKey(id))
	}
	if id == head {
		return
	}
	m.setUint(keyQueueHead, id)
	if !burnt.IsZero() {
		m.SetSupply(new(uint256.Int).Sub(m.Supply(), burnt))
	}
	ev.Matured = int(id - head)
	ev.BurntUnbonding = burnt
}

// entries returns the queue in order, with amounts as created.
func (m *Module) entries() []*Entry {
	var out []*Entry
	for id, next := m.getUint(keyQueueHead), m.getUint(keyNextID); id < next; id++ {
		out = append(out, m.loadEntry(id))
	}
	return out
}

// UnbondingEntries returns the unbonding queue in maturity order, each
// entry with what it will pay. It reads the whole queue: for queries.
func (m *Module) UnbondingEntries() []Entry {
	var out []Entry
	for _, e := range m.entries() {
		x := *e
		x.Amount = new(uint256.Int).Sub(e.Amount, m.cut(e))
		out = append(out, x)
	}
	return out
}

// Unbonding returns the unbonding queue in maturity order (completion
// height, then id), each entry with what it will pay.
func (m *Module) Unbonding() []*weftv1.UnbondingEntry {
	var out []*weftv1.UnbondingEntry
	for _, e := range m.UnbondingEntries() {
		out = append(out, &weftv1.UnbondingEntry{
			Delegator: e.Delegator.Bytes(), Validator: e.Validator.Bytes(), Amount: e.Amount.Bytes(),
			CreationHeight: e.CreationHeight, CompletionHeight: e.CompletionHeight, Id: e.ID,
		})
	}
	return out
}

// UnbondingTotal is the sum of all unbonding entries as created: what the
// supply still holds for them (a slash's cut is burnt when the entry is
// paid).
func (m *Module) UnbondingTotal() *uint256.Int {
	s := new(uint256.Int)
	for _, e := range m.entries() {
		s.Add(s, e.Amount)
	}
	return s
}
