package main

import (
	"bytes"
	"math"
	"testing"

	"github.com/google/pprof/profile"
)

// synthProfile builds a CPU profile with one sample per stack (frames
// innermost first, each location one frame unless the frame lists
// several names joined by "|", which become one location's inlined lines,
// innermost first), each sample worth ms milliseconds of CPU.
type synthStack struct {
	frames []string
	ms     int64
}

func synthProfile(t *testing.T, stacks []synthStack) []byte {
	t.Helper()
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        10_000_000,
		DurationNanos: 8e9,
	}
	funcs := map[string]*profile.Function{}
	fn := func(name string) *profile.Function {
		if f, ok := funcs[name]; ok {
			return f
		}
		f := &profile.Function{ID: uint64(len(funcs) + 1), Name: name, SystemName: name}
		funcs[name] = f
		p.Function = append(p.Function, f)
		return f
	}
	for _, st := range stacks {
		var locs []*profile.Location
		for _, fr := range st.frames {
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Address: uint64(0x1000 + len(p.Location))}
			for _, name := range splitBar(fr) {
				loc.Line = append(loc.Line, profile.Line{Function: fn(name), Line: 1})
			}
			p.Location = append(p.Location, loc)
			locs = append(locs, loc)
		}
		p.Sample = append(p.Sample, &profile.Sample{Location: locs, Value: []int64{st.ms / 10, st.ms * 1e6}})
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func splitBar(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '|' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

const (
	fRecover    = "github.com/ethereum/go-ethereum/crypto/secp256k1._Cfunc_secp256k1_ext_ecdsa_recover"
	fSigToPub   = "github.com/ethereum/go-ethereum/crypto.SigToPub"
	fDecodeTx   = "github.com/weftnet/weft/consensus.DecodeTx"
	fExecute    = "github.com/weftnet/weft/consensus.(*App).execute"
	fFinalize   = "github.com/weftnet/weft/consensus.(*App).FinalizeBlock"
	fSubmit     = "github.com/weftnet/weft/consensus.(*App).Submit"
	fCheckTx    = "github.com/weftnet/weft/consensus.(*App).CheckTx"
	fCmtCons    = "github.com/cometbft/cometbft/consensus.(*State).finalizeCommit"
	fRPCServe   = "github.com/cometbft/cometbft/rpc/jsonrpc/server.makeHTTPHandler.func2"
	fHTTPServe  = "net/http.(*conn).serve"
	fGoexit     = "runtime.goexit"
	fMalloc     = "runtime.mallocgc"
	fProtoUnm   = "google.golang.org/protobuf/proto.UnmarshalOptions.unmarshal"
	fBadgerSet  = "github.com/dgraph-io/badger/v4.(*Txn).SetEntry"
	fStoreCmt   = "github.com/weftnet/weft/consensus.(*Store).Commit"
	fAppCommit  = "github.com/weftnet/weft/consensus.(*App).Commit"
	fSHA        = "crypto/internal/fips140/sha256.blockAMD64"
	fValidate   = "github.com/weftnet/weft/p2p.(*Feed).validateTxBatch"
	fPubsub     = "github.com/libp2p/go-libp2p-pubsub.(*validation).validateWorker"
	fWAL        = "github.com/cometbft/cometbft/consensus.(*BaseWAL).Write"
	fWrite      = "syscall.write"
	fLevelDB    = "github.com/cometbft/cometbft-db.(*GoLevelDB).Set"
	fJournalPut = "github.com/weftnet/weft/mempool/journal.(*Journal).Put"
	fPoolInsert = "github.com/weftnet/weft/mempool.(*Pool).Insert"
	fGCWorker   = "runtime.gcBgMarkWorker"
	fGCDrain    = "runtime.gcDrain"
	fMain       = "main.main"
)

// TestAttributionRule checks the documented rule on a synthetic profile:
// the innermost frame a rule names wins, the longest prefix wins among
// rules, transparent rules and unnamed library frames defer to the frames
// around them, inlined frames count innermost first, and stacks no rule
// names are the runtime's or other.
func TestAttributionRule(t *testing.T) {
	stacks := []synthStack{
		// A recovery inside block execution is a signature check.
		{[]string{fRecover, fSigToPub, fDecodeTx, fExecute, fFinalize, fCmtCons, fGoexit}, 100},
		// Decoding (transparent) inside CheckTx is admission, and an
		// allocation is charged to the frames around it.
		{[]string{fMalloc, fProtoUnm, fDecodeTx, fSubmit, fCheckTx, fRPCServe, fHTTPServe, fGoexit}, 20},
		// HTTP parsing with no CometBFT frame is still RPC ingress.
		{[]string{fMalloc, "net/http.(*conn).readRequest", fHTTPServe, fGoexit}, 10},
		// A badger write from Commit is storage, not execution.
		{[]string{fMalloc, fBadgerSet, fStoreCmt, fAppCommit, fCmtCons, fGoexit}, 30},
		// sha256 inside gossip validation is gossip.
		{[]string{fSHA, fValidate, fPubsub, fGoexit}, 40},
		// The WAL is storage although its package is CometBFT's consensus
		// (longest prefix), and cometbft-db is not "cometbft".
		{[]string{fWrite, fWAL, fCmtCons, fGoexit}, 50},
		{[]string{fLevelDB, fCmtCons, fGoexit}, 60},
		// mempool/journal is storage, mempool admission.
		{[]string{fJournalPut, fPoolInsert, fGoexit}, 70},
		{[]string{fMalloc, fPoolInsert, fGoexit}, 80},
		// One location with inlined lines: the innermost line wins.
		{[]string{fRecover + "|" + fExecute, fGoexit}, 5},
		{[]string{"github.com/weftnet/weft/consensus.getIn|" + fValidate, fGoexit}, 7},
		// CometBFT's libraries are transparent: an event encoded for an
		// RPC subscriber is RPC, not consensus; a vote verified inside
		// consensus is a vote signature check.
		{[]string{"github.com/cometbft/cometbft/libs/json.encodeReflect", "github.com/cometbft/cometbft/abci/types.(*ExecTxResult).MarshalJSON",
			"github.com/cometbft/cometbft/rpc/core.(*Environment).Subscribe.func1", fGoexit}, 11},
		{[]string{"github.com/cometbft/cometbft/types.(*Block).Hash", fCmtCons, fGoexit}, 13},
		{[]string{"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa.RecoverCompact", "github.com/cometbft/cometbft/crypto/secp256k1eth.PubKey.VerifySignature",
			"github.com/cometbft/cometbft/types.(*Vote).Verify", fCmtCons, fGoexit}, 17},
		// The curve library is transparent: under go-ethereum (built
		// without cgo) it is a tx signature check.
		{[]string{"github.com/decred/dcrd/dcrec/secp256k1/v4.(*FieldVal).SquareVal", "github.com/ethereum/go-ethereum/crypto.sigToPub", fSigToPub, fDecodeTx, fSubmit, fGoexit}, 19},
		// Nothing named: background GC is the runtime's, main is other.
		{[]string{fGCDrain, fGCWorker, fGoexit}, 90},
		{[]string{fMalloc, "main.work", fMain, "runtime.main", fGoexit}, 3},
	}
	pc, err := cpuByComponent(bytes.NewReader(synthProfile(t, stacks)), newAttributor(attributionRules))
	if err != nil {
		t.Fatal(err)
	}
	if pc.durS != 8 {
		t.Errorf("duration %v s, want 8", pc.durS)
	}
	got := pc.byComp
	// The deciding frames: the named frame, or the leaf of a stack no
	// rule names.
	if v := pc.byFrame["storage"][fWAL]; math.Abs(v-0.05) > 1e-9 {
		t.Errorf("storage by %s: %.3f s, want 0.050", fWAL, v)
	}
	if v := pc.byFrame["sig"][fRecover]; math.Abs(v-0.105) > 1e-9 {
		t.Errorf("sig by %s: %.3f s, want 0.105", fRecover, v)
	}
	if v := pc.byFrame["runtime"][fGCDrain]; math.Abs(v-0.09) > 1e-9 {
		t.Errorf("runtime by %s: %.3f s, want 0.090", fGCDrain, v)
	}
	want := map[string]float64{
		"sig": 0.105 + 0.019, "votesig": 0.017, "admission": 0.1, "rpc": 0.01 + 0.011, "consensus": 0.013, "storage": 0.03 + 0.05 + 0.06 + 0.07 + 0.007,
		"gossip": 0.04, "runtime": 0.09, "other": 0.003,
	}
	for k, v := range want {
		if math.Abs(got[k]-v) > 1e-9 {
			t.Errorf("%s: %.3f s, want %.3f", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && v != 0 {
			t.Errorf("%s: %.3f s, want none", k, v)
		}
	}
}

func TestPkgPath(t *testing.T) {
	for fn, want := range map[string]string{
		"runtime.mallocgc": "runtime",
		"github.com/dgraph-io/badger/v4.(*Txn).SetEntry":           "github.com/dgraph-io/badger/v4",
		"github.com/a/b.F[go.shape.struct { X github.com/c/d.T }]": "github.com/a/b",
		"internal/runtime/syscall.Syscall6":                        "internal/runtime/syscall",
		"github.com/weftnet/weft/consensus.(*App).execute.func1":   "github.com/weftnet/weft/consensus",
		"gopkg.in/yaml%2ev3.unmarshal":                             "gopkg.in/yaml%2ev3",
	} {
		if got := pkgPath(fn); got != want {
			t.Errorf("pkgPath(%q) = %q, want %q", fn, got, want)
		}
	}
}

// TestBudgetPerTxAndByte checks the division by what committed.
func TestBudgetPerTxAndByte(t *testing.T) {
	b := &cpuBudget{Nodes: 4, ProfileS: 8, Txs: 10_000, TxBytes: 250}
	b.fill(map[string]float64{"sig": 1.2, "gossip": 0.3, "other": 0.5})
	if b.ProfiledCPUS != 2 {
		t.Errorf("profiled %v, want 2", b.ProfiledCPUS)
	}
	sig := b.entry("sig")
	if sig.UsPerTx != 120 || sig.NsPerByte != 480 || sig.Share != 0.6 {
		t.Errorf("sig %+v, want 120 µs/tx, 480 ns/B, share 0.6", sig)
	}
	if e := b.entry("exec"); e.CPUS != 0 || e.UsPerTx != 0 {
		t.Errorf("exec %+v, want zero", e)
	}
	if len(b.Components) != len(components) {
		t.Errorf("%d components, want %d", len(b.Components), len(components))
	}
}

// TestPairSteps compares both systems at the highest offered rate neither
// saturated.
func TestPairSteps(t *testing.T) {
	bd := &cpuBudget{}
	w := &systemResult{Steps: []*stepResult{{OfferedTxS: 500, Budget: bd}, {OfferedTxS: 1000, Budget: bd}, {OfferedTxS: 1500, Budget: bd, Saturated: true}}}
	k := &systemResult{Steps: []*stepResult{{OfferedTxS: 500, Budget: bd}, {OfferedTxS: 1000, Budget: bd}, {OfferedTxS: 1500, Budget: bd}}}
	ws, ks := pairSteps(w, k)
	if ws == nil || ks == nil || ws.OfferedTxS != 1000 || ks.OfferedTxS != 1000 {
		t.Fatalf("paired %v and %v, want both at 1000", ws, ks)
	}
	k.Steps[0].Saturated, k.Steps[1].Saturated, w.Steps[0].Saturated, w.Steps[1].Saturated = true, true, true, true
	if ws, ks = pairSteps(w, k); ws.OfferedTxS != 1500 || ks.OfferedTxS != 1500 {
		t.Errorf("all saturated: paired %v and %v, want the highest both ran", ws.OfferedTxS, ks.OfferedTxS)
	}
}
