package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/google/pprof/profile"
)

// The CPU budget attributes every sample of the validators' CPU profiles to
// one component by the functions on its stack.
//
// The rule: walk the stack from the innermost frame (the function that was
// running) outwards, inlined frames included, and take the component of the
// first frame that a rule names. A rule is a prefix of a function's full
// name (package path, then type and method); a frame matches a rule when
// its name starts with the prefix followed by '.', '/' or nothing, so
// "github.com/dgraph-io/badger/v4" matches that package and its
// subpackages, "github.com/weftnet/weft/consensus.(*Store)" that type's
// methods. When several rules match one frame, the longest prefix wins. A
// rule may be transparent (component ""): its frames are skipped, so that
// shared code (tx decoding, hashing) is charged to whoever called it.
// Library code no rule names (protobuf, sha256, the allocator, syscalls)
// is likewise charged to the innermost named frame around it: an
// allocation inside badger is storage, a sha256 inside gossip validation is
// gossip. A stack no rule names at all is the Go runtime's when all its
// frames are the runtime's (background GC, the scheduler, idle netpoll),
// and "other" otherwise.
//
// The innermost named frame says what kind of work the CPU did: a
// signature recovered while executing a block is a signature check, a
// badger write made from Commit is storage. The RPC line includes what
// node0 spends feeding the harness its NewBlock events.

// component is one line of the budget.
type component struct {
	Key   string
	Label string
}

// components, in the order the budget prints them.
var components = []component{
	{"sig", "tx signature checks (secp256k1 recovery)"},
	{"votesig", "vote signature checks (CometBFT)"},
	{"admission", "mempool (admission, CheckTx, upkeep)"},
	{"gossip", "gossip (p2p, pubsub, transports)"},
	{"consensus", "consensus (CometBFT)"},
	{"exec", "execution (ABCI proposal, finalize, state)"},
	{"storage", "storage (badger, CometBFT stores, WAL)"},
	{"rpc", "RPC (ingress; node0's block feed)"},
	{"runtime", "Go runtime alone (GC, scheduler)"},
	{"other", "other (logging, metrics, unnamed)"},
}

// attributionRules maps function-name prefixes to components (see above).
var attributionRules = map[string]string{
	// Signature checks: tx signature recovery (go-ethereum's crypto, with
	// cgo or on decred without); CometBFT's vote signatures (secp256k1eth
	// for Weft, ed25519 for the kvstore baseline) apart. The curve
	// libraries themselves are transparent: their caller says which.
	"github.com/ethereum/go-ethereum/crypto/secp256k1":       "sig",
	"github.com/ethereum/go-ethereum/crypto.SigToPub":        "sig",
	"github.com/ethereum/go-ethereum/crypto.Ecrecover":       "sig",
	"github.com/ethereum/go-ethereum/crypto.VerifySignature": "sig",
	"github.com/ethereum/go-ethereum/crypto.Sign":            "sig",
	"github.com/decred/dcrd/dcrec/secp256k1":                 "",
	"github.com/btcsuite/btcd/btcec":                         "",
	"github.com/cometbft/cometbft/crypto/secp256k1eth":       "votesig",
	"github.com/cometbft/cometbft/crypto/secp256k1":          "votesig",
	"github.com/cometbft/cometbft/crypto/ed25519":            "votesig",
	"github.com/oasisprotocol/curve25519-voi":                "",
	"crypto/ed25519":                                                           "",
	"crypto/internal/fips140/ed25519":                                          "",
	"crypto/internal/fips140/edwards25519":                                     "",
	"filippo.io/edwards25519":                                                  "",
	"github.com/weftnet/weft/consensus.DecodeTx":                               "", // decoding: charged to its caller
	"github.com/weftnet/weft/consensus.(*Tx)":                                  "",
	"github.com/weftnet/weft/txcodec":                                          "",
	"github.com/weftnet/weft/mempool":                                          "admission",
	"github.com/weftnet/weft/consensus.(*App).Submit":                          "admission",
	"github.com/weftnet/weft/consensus.(*App).insert":                          "admission",
	"github.com/weftnet/weft/consensus.(*App).CheckTx":                         "admission",
	"github.com/weftnet/weft/consensus.(*App).InsertTx":                        "admission",
	"github.com/weftnet/weft/consensus.(*App).checkStaking":                    "admission",
	"github.com/weftnet/weft/consensus.mempoolTx":                              "admission",
	"github.com/cometbft/cometbft/mempool":                                     "admission",
	"github.com/cometbft/cometbft/abci/example/kvstore.(*Application).CheckTx": "admission",

	"github.com/libp2p":                                  "gossip",
	"github.com/quic-go":                                 "gossip",
	"github.com/multiformats":                            "gossip",
	"github.com/flynn/noise":                             "gossip",
	"github.com/weftnet/weft/p2p":                        "gossip",
	"github.com/weftnet/weft/node.(*Node).publishTxs":    "gossip",
	"github.com/cometbft/cometbft/p2p":                   "gossip",
	"github.com/cometbft/cometbft/lp2p":                  "gossip",
	"github.com/cometbft/cometbft/mempool.(*Reactor)":    "gossip",
	"github.com/cometbft/cometbft/mempool.(*AppReactor)": "gossip",

	"github.com/cometbft/cometbft": "consensus",
	// CometBFT's shared libraries, encodings and plumbing: charged to
	// whoever calls them (an event encoded for an RPC subscriber is RPC,
	// a tx hashed by the mempool is admission).
	"github.com/cometbft/cometbft/libs":          "",
	"github.com/cometbft/cometbft/proto":         "",
	"github.com/cometbft/cometbft/types":         "",
	"github.com/cometbft/cometbft/abci/types":    "",
	"github.com/cometbft/cometbft/abci/client":   "",
	"github.com/cometbft/cometbft/proxy":         "",
	"github.com/cometbft/cometbft/crypto/tmhash": "",
	"github.com/cometbft/cometbft/crypto/merkle": "",

	"github.com/weftnet/weft/consensus":         "exec",
	"github.com/weftnet/weft/rollups":           "exec",
	"github.com/ethereum/go-ethereum/core":      "exec",
	"github.com/cometbft/cometbft/abci/example": "exec",

	"github.com/dgraph-io":                                 "storage",
	"github.com/cometbft/cometbft-db":                      "storage",
	"github.com/syndtr/goleveldb":                          "storage",
	"github.com/cockroachdb/pebble":                        "storage",
	"github.com/cometbft/cometbft/store":                   "storage",
	"github.com/cometbft/cometbft/state.dbStore":           "storage",
	"github.com/cometbft/cometbft/state.(*dbStore)":        "storage",
	"github.com/cometbft/cometbft/state/indexer":           "storage",
	"github.com/cometbft/cometbft/state/txindex":           "storage",
	"github.com/cometbft/cometbft/consensus.(*BaseWAL)":    "storage",
	"github.com/cometbft/cometbft/consensus.(*WALEncoder)": "storage",
	"github.com/cometbft/cometbft/libs/autofile":           "storage",
	"github.com/weftnet/weft/mempool/journal":              "storage",
	"github.com/weftnet/weft/consensus.(*Store)":           "storage",
	"github.com/weftnet/weft/consensus.(*snapshot)":        "storage",
	"github.com/weftnet/weft/consensus.getIn":              "storage",

	"github.com/cometbft/cometbft/rpc":          "rpc",
	"net/http":                                  "rpc",
	"golang.org/x/net/http2":                    "rpc",
	"google.golang.org/grpc":                    "rpc",
	"github.com/gorilla/websocket":              "rpc",
	"github.com/weftnet/weft/node.(*apiServer)": "rpc",
	"github.com/weftnet/weft/rollups/rpc":       "rpc",

	"github.com/cometbft/cometbft/libs/log":  "other",
	"log/slog":                               "other",
	"github.com/go-kit":                      "other",
	"github.com/prometheus":                  "other",
	"github.com/weftnet/weft/node.cmtLogger": "other",
}

// attributor caches each function name's rule.
type attributor struct {
	rules map[string]string
	cache map[string]ruleHit
}

type ruleHit struct {
	comp    string
	matched bool
}

func newAttributor(rules map[string]string) *attributor {
	return &attributor{rules: rules, cache: map[string]ruleHit{}}
}

// frameRule is the component of the longest rule matching function name
// fn, and whether any rule matched.
func (a *attributor) frameRule(fn string) (string, bool) {
	if h, ok := a.cache[fn]; ok {
		return h.comp, h.matched
	}
	var best string
	var h ruleHit
	for prefix, comp := range a.rules {
		if len(prefix) <= len(best) || !strings.HasPrefix(fn, prefix) {
			continue
		}
		if rest := fn[len(prefix):]; rest != "" && rest[0] != '.' && rest[0] != '/' {
			continue
		}
		best, h = prefix, ruleHit{comp, true}
	}
	a.cache[fn] = h
	return h.comp, h.matched
}

// stack attributes one stack, frames innermost first: its component and
// the frame that decided it (the leaf when no rule named a frame).
func (a *attributor) stack(frames []string) (comp, frame string) {
	runtimeOnly := true
	for _, fn := range frames {
		c, ok := a.frameRule(fn)
		if ok && c != "" {
			return c, fn
		}
		if !isRuntime(fn) {
			runtimeOnly = false
		}
	}
	if len(frames) == 0 {
		return "other", ""
	}
	if runtimeOnly {
		return "runtime", frames[0]
	}
	return "other", frames[0]
}

// isRuntime reports whether fn belongs to the Go runtime.
func isRuntime(fn string) bool {
	p := pkgPath(fn)
	return p == "runtime" || strings.HasPrefix(p, "runtime/") || strings.HasPrefix(p, "internal/runtime/")
}

// pkgPath is the package path of a function's full name.
func pkgPath(fn string) string {
	if i := strings.IndexByte(fn, '['); i >= 0 {
		fn = fn[:i] // type arguments may hold other paths
	}
	slash := strings.LastIndexByte(fn, '/')
	if dot := strings.IndexByte(fn[slash+1:], '.'); dot >= 0 {
		return fn[:slash+1+dot]
	}
	return fn
}

// profileCPU is a profile's CPU time in seconds by component, and by
// deciding frame within each component.
type profileCPU struct {
	byComp  map[string]float64
	byFrame map[string]map[string]float64
	// durS is how long the profile ran.
	durS float64
}

// cpuByComponent parses a CPU profile and sums its CPU time per component.
func cpuByComponent(r io.Reader, a *attributor) (*profileCPU, error) {
	p, err := profile.Parse(r)
	if err != nil {
		return nil, err
	}
	vi := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			vi = i
		}
	}
	if vi < 0 {
		return nil, fmt.Errorf("not a CPU profile (sample types %v)", p.SampleType)
	}
	out := &profileCPU{byComp: map[string]float64{}, byFrame: map[string]map[string]float64{}, durS: float64(p.DurationNanos) / 1e9}
	var frames []string
	for _, s := range p.Sample {
		frames = frames[:0]
		for _, loc := range s.Location {
			for _, ln := range loc.Line { // innermost (inlined) first
				if ln.Function != nil {
					frames = append(frames, ln.Function.Name)
				}
			}
		}
		comp, frame := a.stack(frames)
		v := float64(s.Value[vi]) / 1e9
		out.byComp[comp] += v
		if out.byFrame[comp] == nil {
			out.byFrame[comp] = map[string]float64{}
		}
		out.byFrame[comp][frame] += v
	}
	return out, nil
}
