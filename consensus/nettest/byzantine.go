package nettest

import (
	"context"
	"fmt"
	"math/rand"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"

	"github.com/weftnet/weft/consensus"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
	"github.com/weftnet/weft/txcodec"
)

// Attack is a kind of hostile block.
type Attack int

// The hostile blocks HostileProposer builds. Each has exactly one fault:
// everything else (commitment item, nonces, fees, signatures) is right, so
// a rejection for any other reason shows up as a wrong reason.
const (
	// AttackOversizedTx adds a signed tx larger than max_tx_bytes.
	AttackOversizedTx Attack = iota
	// AttackDuplicateTx includes one tx twice (a user tx of the honest block
	// when it has one), with the commitment over both copies.
	AttackDuplicateTx
	// AttackWrongCommitment makes sure the block carries rollup data and
	// puts first the commitment of another block (the one without its last
	// rollup data tx).
	AttackWrongCommitment
	// AttackWriteHeavy appends valid txs of max_actions delegations each
	// (staking actions count the most state writes per byte) until the
	// block's writes exceed consensus.MaxBlockWrites.
	AttackWriteHeavy
	// AttackGarbage proposes random bytes, no commitment item.
	AttackGarbage
	// AttackGarbageTx appends random bytes after a right commitment item.
	AttackGarbageTx
)

// AllAttacks lists every attack.
var AllAttacks = []Attack{AttackOversizedTx, AttackDuplicateTx, AttackWrongCommitment, AttackWriteHeavy, AttackGarbage, AttackGarbageTx}

func (a Attack) String() string {
	switch a {
	case AttackOversizedTx:
		return "oversized-tx"
	case AttackDuplicateTx:
		return "duplicate-tx"
	case AttackWrongCommitment:
		return "wrong-commitment"
	case AttackWriteHeavy:
		return "write-heavy"
	case AttackGarbage:
		return "garbage"
	case AttackGarbageTx:
		return "garbage-tx"
	}
	return fmt.Sprintf("attack(%d)", int(a))
}

// Hostile is a hostile proposal HostileProposer made.
type Hostile struct {
	Height int64
	Attack Attack
	Digest [32]byte // TxsDigest, as in Verdict
	Txs    int
	Bytes  int64
	// Carried are the user txs of the honest block it kept.
	Carried [][32]byte
}

// HostileProposer turns a validator into a byzantine proposer: its
// PrepareProposal builds the honest block and returns a hostile one made
// from it, cycling through its attacks. Everything else is the honest app.
// Its hostile txs are signed by an account nobody else uses, whose nonce
// therefore stays 0 while no hostile block commits.
type HostileProposer struct {
	nw       *Network
	attacker Account
	target   common.Address // the validator the write-heavy txs delegate to
	attacks  []Attack
	heavy    [][]byte // the write-heavy txs, signed once

	mu   sync.Mutex
	next int
	made []Hostile
	errs []string
	rng  *rand.Rand
}

// NewHostileProposer makes hostile blocks with attacks (AllAttacks when
// none), signing its txs with attacker, which must be funded and used by
// nothing else. Set a node's Wrap to its Wrap method.
func NewHostileProposer(nw *Network, attacker Account, attacks ...Attack) *HostileProposer {
	if len(attacks) == 0 {
		attacks = AllAttacks
	}
	h := &HostileProposer{
		nw: nw, attacker: attacker, target: nw.Nodes[0].Address(), attacks: attacks,
		rng: rand.New(rand.NewSource(nw.Seed ^ 0x6a09e667f3bcc908)),
	}
	// Write-heavy: enough txs of max_actions one-unit delegations each that
	// their write bound passes MaxBlockWrites, every one valid on its own.
	acts := make([]*weftv1.Action, nw.Params.MaxActions)
	for i := range acts {
		acts[i] = Delegate(h.target, 1)
	}
	perTx := 2 + 16*len(acts) // consensus/limits.go: writesPerTx + writesPerStaking each
	for nonce := 0; nonce*perTx <= consensus.MaxBlockWrites; nonce++ {
		h.heavy = append(h.heavy, nw.SignTx(attacker.Key, uint64(nonce), acts...))
	}
	return h
}

// Wrap is a Node.Wrap: app with this PrepareProposal.
func (h *HostileProposer) Wrap(app *consensus.App) abci.Application {
	return &hostileApp{App: app, h: h}
}

// Made returns the hostile proposals built so far.
func (h *HostileProposer) Made() []Hostile {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Hostile(nil), h.made...)
}

// Errors are the harness's own mistakes in building hostile blocks (say,
// its commitment does not match the app's on an honest block).
func (h *HostileProposer) Errors() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.errs...)
}

type hostileApp struct {
	*consensus.App
	h *HostileProposer
}

// PrepareProposal must stay total and within MaxTxBytes (CometBFT refuses
// to propose otherwise), so a hostile block that would not fit falls back
// to the honest one.
func (a *hostileApp) PrepareProposal(ctx context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	resp, err := a.App.PrepareProposal(ctx, req)
	if err != nil {
		return resp, err
	}
	txs := a.h.build(req.Height, resp.Txs, req.MaxTxBytes)
	return &abci.ResponsePrepareProposal{Txs: txs}, nil
}

// ProcessProposal refuses the node's own hostile blocks without running
// them. CometBFT runs ProcessProposal on the proposer's own block too, and
// stops gossiping it meanwhile (its consensus lock is held): executing a
// write-heavy block first (about a second under the race detector) would
// keep it from the honest nodes until their propose timeout, so that they
// would never judge it.
func (a *hostileApp) ProcessProposal(ctx context.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	d := TxsDigest(req.Height, req.Txs)
	for _, m := range a.h.Made() {
		if m.Digest == d {
			return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
		}
	}
	return a.App.ProcessProposal(ctx, req)
}

func (h *HostileProposer) build(height int64, honest [][]byte, maxBytes int64) [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(honest) == 0 || string(Commitment(height, honest[1:])) != string(honest[0]) {
		h.errs = append(h.errs, fmt.Sprintf("height %d: the harness's commitment differs from the app's on the honest block", height))
		return honest
	}
	attack := h.attacks[h.next%len(h.attacks)]
	h.next++
	user := honest[1:]
	var body [][]byte
	var out [][]byte
	switch attack {
	case AttackOversizedTx:
		big := make([]byte, h.nw.Params.MaxTxBytes)
		h.rng.Read(big)
		body = append([][]byte{h.nw.SignTx(h.attacker.Key, 0, RollupData("alpha", big))}, user...)
	case AttackDuplicateTx:
		dup, rest := h.nw.SignTx(h.attacker.Key, 0, Transfer(h.attacker.Addr, 1)), [][]byte(nil)
		if len(user) > 0 {
			dup, rest = user[0], user[1:]
		}
		body = append([][]byte{dup, dup}, rest...)
	case AttackWrongCommitment:
		data := make([]byte, 64)
		h.rng.Read(data)
		body = append(append([][]byte(nil), user...), h.nw.SignTx(h.attacker.Key, 0, RollupData("beta", data)))
		out = append([][]byte{Commitment(height, body[:len(body)-1])}, body...)
	case AttackWriteHeavy:
		body = append(append([][]byte(nil), user...), h.heavy...)
	case AttackGarbage:
		for range 3 {
			g := make([]byte, 1+h.rng.Intn(512))
			h.rng.Read(g)
			out = append(out, g)
		}
	case AttackGarbageTx:
		g := make([]byte, 1+h.rng.Intn(512))
		h.rng.Read(g)
		body = append(append([][]byte(nil), user...), g)
	}
	if out == nil {
		out = append([][]byte{Commitment(height, body)}, body...)
	}
	var size int64
	for _, tx := range out {
		size += int64(len(tx)) + 8 // proto overhead of a tx in Data, bounded
	}
	if size > maxBytes {
		h.errs = append(h.errs, fmt.Sprintf("height %d: %s block of %d bytes does not fit %d", height, attack, size, maxBytes))
		return honest
	}
	var carried [][32]byte
	if attack != AttackGarbage {
		for _, tx := range user {
			carried = append(carried, txcodec.TxHash(tx))
		}
	}
	h.made = append(h.made, Hostile{Height: height, Attack: attack, Digest: TxsDigest(height, out), Txs: len(out), Bytes: size, Carried: carried})
	return out
}
