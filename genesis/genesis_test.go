package genesis_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/weftnet/weft/genesis"
)

// maxUint256 is 2^256-1 in decimal.
const maxUint256 = "115792089237316195423570985008687907853269984665640564039457584007913129639935"

func validatorKey(t testing.TB) string {
	t.Helper()
	return hex.EncodeToString(secp256k1eth.GenPrivKey().PubKey().Bytes())
}

func validDoc(t testing.TB) *genesis.Doc {
	t.Helper()
	return &genesis.Doc{
		ChainID:     "weft-test-1",
		GenesisTime: time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600)),
		Validators: []genesis.Validator{
			{Name: "v0", PubKey: validatorKey(t), Power: 10},
			{Name: "v1", PubKey: "0x" + validatorKey(t), Power: 5},
		},
		AppState: genesis.AppState{
			Params: genesis.DefaultParams(),
			Accounts: []genesis.Account{
				{Address: "0x1111111111111111111111111111111111111111", Balance: "1000"},
				{Address: "0X2222222222222222222222222222222222222222", Balance: "0"},
			},
			Rollups: []genesis.Rollup{
				{Name: "alpha", VM: "evm", EVMChainID: 901},
				{Name: "beta-2", VM: "evm", EVMChainID: 902},
			},
		},
		BlockMaxBytes: genesis.DefaultBlockMaxBytes,
	}
}

func TestValidDocValidates(t *testing.T) {
	d := validDoc(t)
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	d.AppState.Accounts, d.AppState.Rollups = nil, nil
	if err := d.Validate(); err != nil {
		t.Fatalf("no accounts and no rollups: %v", err)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	ed := hex.EncodeToString(ed25519.GenPrivKey().PubKey().Bytes())
	for _, tc := range []struct {
		name  string
		field string
		mut   func(d *genesis.Doc)
	}{
		{"empty chain id", "chain_id", func(d *genesis.Doc) { d.ChainID = "" }},
		{"blank chain id", "chain_id", func(d *genesis.Doc) { d.ChainID = "  \t" }},
		{"long chain id", "chain_id", func(d *genesis.Doc) { d.ChainID = strings.Repeat("c", cmttypes.MaxChainIDLen+1) }},
		{"no genesis time", "genesis_time", func(d *genesis.Doc) { d.GenesisTime = time.Time{} }},
		{"no validators", "validators", func(d *genesis.Doc) { d.Validators = nil }},
		{"key not hex", "validators[0].pub_key", func(d *genesis.Doc) { d.Validators[0].PubKey = "zz" }},
		{"empty key", "validators[0].pub_key", func(d *genesis.Doc) { d.Validators[0].PubKey = "" }},
		{"short key", "validators[1].pub_key", func(d *genesis.Doc) { d.Validators[1].PubKey = d.Validators[1].PubKey[:40] }},
		{"ed25519 key", "validators[0].pub_key", func(d *genesis.Doc) { d.Validators[0].PubKey = ed }},
		{"point not on curve", "validators[0].pub_key", func(d *genesis.Doc) { d.Validators[0].PubKey = "02" + strings.Repeat("ff", 32) }},
		{"duplicate key", "validators[1].pub_key", func(d *genesis.Doc) { d.Validators[1].PubKey = d.Validators[0].PubKey }},
		{"duplicate key spelled differently", "validators[1].pub_key", func(d *genesis.Doc) {
			d.Validators[1].PubKey = "0x" + strings.ToUpper(d.Validators[0].PubKey)
		}},
		{"zero power", "validators[0].power", func(d *genesis.Doc) { d.Validators[0].Power = 0 }},
		{"negative power", "validators[1].power", func(d *genesis.Doc) { d.Validators[1].Power = -3 }},
		{"total power too large", "validators[1].power", func(d *genesis.Doc) {
			d.Validators[0].Power = cmttypes.MaxTotalVotingPower
			d.Validators[1].Power = 1
		}},
		{"power overflowing int64", "validators[1].power", func(d *genesis.Doc) {
			d.Validators[1].Power = math.MaxInt64
		}},
		{"zero block size", "block_max_bytes", func(d *genesis.Doc) { d.BlockMaxBytes = 0 }},
		{"tx bigger than block", "app_state.params.max_tx_bytes", func(d *genesis.Doc) {
			d.AppState.Params.MaxTxBytes = d.BlockMaxBytes + 1
		}},
		{"zero max tx bytes", "app_state.params.max_tx_bytes", func(d *genesis.Doc) { d.AppState.Params.MaxTxBytes = 0 }},
		{"zero max actions", "app_state.params.max_actions", func(d *genesis.Doc) { d.AppState.Params.MaxActions = 0 }},
		{"empty fee per action", "app_state.params.fee_per_action", func(d *genesis.Doc) { d.AppState.Params.FeePerAction = "" }},
		{"negative fee per action", "app_state.params.fee_per_action", func(d *genesis.Doc) { d.AppState.Params.FeePerAction = "-1" }},
		{"hex fee per action", "app_state.params.fee_per_action", func(d *genesis.Doc) { d.AppState.Params.FeePerAction = "0x10" }},
		{"fractional fee per byte", "app_state.params.fee_per_data_byte", func(d *genesis.Doc) { d.AppState.Params.FeePerDataByte = "1.5" }},
		{"bad account address", "app_state.accounts[1].address", func(d *genesis.Doc) { d.AppState.Accounts[1].Address = "2222222222222222222222222222222222222222" }},
		{"short account address", "app_state.accounts[0].address", func(d *genesis.Doc) { d.AppState.Accounts[0].Address = "0x1111" }},
		{"duplicate account", "app_state.accounts[1].address", func(d *genesis.Doc) {
			d.AppState.Accounts[1].Address = strings.ToUpper(d.AppState.Accounts[0].Address[2:])
			d.AppState.Accounts[1].Address = "0x" + d.AppState.Accounts[1].Address
		}},
		{"empty balance", "app_state.accounts[1].balance", func(d *genesis.Doc) { d.AppState.Accounts[1].Balance = "" }},
		{"negative balance", "app_state.accounts[1].balance", func(d *genesis.Doc) { d.AppState.Accounts[1].Balance = "-5" }},
		{"plus balance", "app_state.accounts[1].balance", func(d *genesis.Doc) { d.AppState.Accounts[1].Balance = "+5" }},
		{"word balance", "app_state.accounts[0].balance", func(d *genesis.Doc) { d.AppState.Accounts[0].Balance = "lots" }},
		{"balance over 2^256", "app_state.accounts[1].balance", func(d *genesis.Doc) {
			d.AppState.Accounts[1].Balance = maxUint256[:len(maxUint256)-1] + "6"
		}},
		// Transfers credit balances with an overflow check that panics: the
		// total supply must fit in a uint256.
		{"total supply over 2^256", "app_state.accounts[1].balance", func(d *genesis.Doc) {
			d.AppState.Accounts[1].Balance = maxUint256
		}},
		{"empty rollup name", "app_state.rollups[0].name", func(d *genesis.Doc) { d.AppState.Rollups[0].Name = "" }},
		{"upper-case rollup name", "app_state.rollups[1].name", func(d *genesis.Doc) { d.AppState.Rollups[1].Name = "Beta" }},
		{"duplicate rollup", "app_state.rollups[1].name", func(d *genesis.Doc) { d.AppState.Rollups[1].Name = "alpha" }},
		{"unknown vm", "app_state.rollups[0].vm", func(d *genesis.Doc) { d.AppState.Rollups[0].VM = "wasm" }},
		{"evm without chain id", "app_state.rollups[1].evm_chain_id", func(d *genesis.Doc) { d.AppState.Rollups[1].EVMChainID = 0 }},
		{"rollup weight too high", "app_state.rollups[1].weight", func(d *genesis.Doc) { d.AppState.Rollups[1].Weight = genesis.MaxRollupWeight + 1 }},
		// EIP-155: a tx signed for one rollup would be valid on the other.
		{"duplicate evm chain id", "app_state.rollups[1].evm_chain_id", func(d *genesis.Doc) { d.AppState.Rollups[1].EVMChainID = d.AppState.Rollups[0].EVMChainID }},
		{"duplicate evm chain id further down", "app_state.rollups[2].evm_chain_id", func(d *genesis.Doc) {
			d.AppState.Rollups = append(d.AppState.Rollups, genesis.Rollup{Name: "gamma", VM: "evm", EVMChainID: 901})
		}},
		{"no unbonding time", "app_state.params.staking.unbonding_time", func(d *genesis.Doc) { d.AppState.Params.Staking.UnbondingTime = "" }},
		{"unbonding time in days", "app_state.params.staking.unbonding_time", func(d *genesis.Doc) { d.AppState.Params.Staking.UnbondingTime = "21d" }},
		{"negative unbonding time", "app_state.params.staking.unbonding_time", func(d *genesis.Doc) { d.AppState.Params.Staking.UnbondingTime = "-504h" }},
		{"unbonding time under a second", "app_state.params.staking.unbonding_time", func(d *genesis.Doc) { d.AppState.Params.Staking.UnbondingTime = "999ms" }},
		{"one unbonding block", "app_state.params.staking.unbonding_blocks", func(d *genesis.Doc) { d.AppState.Params.Staking.UnbondingBlocks = 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := validDoc(t)
			tc.mut(d)
			err := d.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			var fe *genesis.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a FieldError", err)
			}
			if fe.Field != tc.field {
				t.Fatalf("error names %q, want %q (%v)", fe.Field, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.field+":") {
				t.Fatalf("message %q does not name %q", err, tc.field)
			}
			if _, err := d.ToCometBFT(); !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("ToCometBFT: %v", err)
			}
		})
	}
}

func TestToCometBFT(t *testing.T) {
	d := validDoc(t)
	g, err := d.ToCometBFT()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.ValidateAndComplete(); err != nil {
		t.Fatalf("CometBFT rejects the genesis: %v", err)
	}
	if g.ChainID != d.ChainID || g.InitialHeight != 1 || !g.GenesisTime.Equal(d.GenesisTime) || g.GenesisTime.Location() != time.UTC {
		t.Fatalf("header fields: %q %d %v", g.ChainID, g.InitialHeight, g.GenesisTime)
	}
	if got := g.ConsensusParams.Validator.PubKeyTypes; len(got) != 1 || got[0] != cmttypes.ABCIPubKeyTypeSecp256k1Eth {
		t.Fatalf("pub key types %v", got)
	}
	if g.ConsensusParams.Block.MaxBytes != d.BlockMaxBytes {
		t.Fatalf("block max bytes %d", g.ConsensusParams.Block.MaxBytes)
	}
	if err := g.ConsensusParams.ValidateBasic(); err != nil {
		t.Fatal(err)
	}
	if len(g.Validators) != len(d.Validators) {
		t.Fatalf("%d validators", len(g.Validators))
	}
	for i, v := range g.Validators {
		want, _ := hex.DecodeString(strings.TrimPrefix(d.Validators[i].PubKey, "0x"))
		if v.PubKey.Type() != secp256k1eth.KeyType || !bytes.Equal(v.PubKey.Bytes(), want) {
			t.Fatalf("validator %d key %s %x", i, v.PubKey.Type(), v.PubKey.Bytes())
		}
		if !bytes.Equal(v.Address, v.PubKey.Address()) || len(v.Address) != 20 {
			t.Fatalf("validator %d address %x", i, v.Address)
		}
		if v.Power != d.Validators[i].Power || v.Name != d.Validators[i].Name {
			t.Fatalf("validator %d: %+v", i, v)
		}
	}
	// The validator set CometBFT builds from it is sound.
	vals := make([]*cmttypes.Validator, len(g.Validators))
	for i, v := range g.Validators {
		vals[i] = cmttypes.NewValidator(v.PubKey, v.Power)
	}
	if err := cmttypes.NewValidatorSet(vals).ValidateBasic(); err != nil {
		t.Fatal(err)
	}
	app, err := genesis.ParseAppState(g.AppState)
	if err != nil {
		t.Fatal(err)
	}
	want := d.AppState
	if want.Validators, err = d.Staked(); err != nil {
		t.Fatal(err)
	}
	if len(want.Validators) != len(d.Validators) {
		t.Fatalf("staked validators: %d, want %d", len(want.Validators), len(d.Validators))
	}
	if !reflect.DeepEqual(*app, want) {
		t.Fatalf("app state round trip: %+v", app)
	}

	// Written to disk in CometBFT's format, it loads back.
	path := filepath.Join(t.TempDir(), "genesis.json")
	if err := g.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	g2, app2, err := genesis.LoadCometBFT(path)
	if err != nil {
		t.Fatal(err)
	}
	if g2.ChainID != d.ChainID || !bytes.Equal(g2.ValidatorHash(), g.ValidatorHash()) || !reflect.DeepEqual(*app2, want) {
		t.Fatal("loaded genesis differs")
	}
	if _, _, err := genesis.LoadCometBFT(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("loaded a missing file")
	}
}

func TestParseAppState(t *testing.T) {
	d := validDoc(t)
	good, err := json.Marshal(d.AppState)
	if err != nil {
		t.Fatal(err)
	}
	s, err := genesis.ParseAppState(good)
	if err != nil || !reflect.DeepEqual(*s, d.AppState) {
		t.Fatalf("good app state: %v", err)
	}
	// Unknown fields are rejected at every level: a typo must not silently
	// fall back to a default.
	var m map[string]any
	if err := json.Unmarshal(good, &m); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mut  func(m map[string]any)
	}{
		{"top level", func(m map[string]any) { m["validatorz"] = []any{} }},
		{"params", func(m map[string]any) { m["params"].(map[string]any)["fee_per_tx"] = "1" }},
		{"account", func(m map[string]any) { m["accounts"].([]any)[1].(map[string]any)["nonce"] = 3 }},
		{"rollup", func(m map[string]any) { m["rollups"].([]any)[0].(map[string]any)["chain_id"] = 3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c map[string]any
			_ = json.Unmarshal(good, &c)
			tc.mut(c)
			b, _ := json.Marshal(c)
			_, err := genesis.ParseAppState(b)
			var fe *genesis.FieldError
			if !errors.As(err, &fe) || fe.Field != "app_state" || !strings.Contains(err.Error(), "unknown field") {
				t.Fatalf("got %v", err)
			}
		})
	}
	for _, tc := range []struct {
		name, raw, field string
	}{
		{"empty", "", "app_state"},
		{"not json", "{", "app_state"},
		{"wrong type", `{"params": []}`, "app_state"},
		{"null", "null", "app_state.params.fee_per_action"},
		{"invalid content", strings.Replace(string(good), `"alpha"`, `"ALPHA"`, 1), "app_state.rollups[0].name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := genesis.ParseAppState([]byte(tc.raw))
			var fe *genesis.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("got %v, want field %q", err, tc.field)
			}
		})
	}
}

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"0", "0"},
		{"1", "1"},
		{"1000000000000000000000", "1000000000000000000000"},
		{maxUint256, maxUint256},
		{"", ""},
		{"-1", ""},
		{"+1", ""},
		{"0x1", ""},
		{"1e3", ""},
		{" 1", ""},
		{"1.0", ""},
		{maxUint256 + "0", ""},
	} {
		v, err := genesis.ParseAmount(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("ParseAmount(%q) = %s, want an error", tc.in, v.Dec())
			}
			continue
		}
		if err != nil || v.Dec() != tc.want {
			t.Errorf("ParseAmount(%q) = %v, %v", tc.in, v, err)
		}
	}
}

func TestParseAddress(t *testing.T) {
	want := [20]byte{0xab, 0xcd}
	for _, s := range []string{"0xabcd000000000000000000000000000000000000", "0XABCD000000000000000000000000000000000000"} {
		if a, err := genesis.ParseAddress(s); err != nil || a != want {
			t.Errorf("ParseAddress(%q) = %x, %v", s, a, err)
		}
	}
	for _, s := range []string{"", "0x", "abcd000000000000000000000000000000000000", "0xabcd", "0x" + strings.Repeat("00", 21), "0x" + strings.Repeat("zz", 20)} {
		if _, err := genesis.ParseAddress(s); err == nil {
			t.Errorf("ParseAddress(%q) accepted", s)
		}
	}
}

func TestParseValidatorKey(t *testing.T) {
	k := secp256k1eth.GenPrivKey().PubKey()
	for _, s := range []string{hex.EncodeToString(k.Bytes()), "0x" + hex.EncodeToString(k.Bytes())} {
		pk, err := genesis.ParseValidatorKey(s)
		if err != nil || !pk.Equals(k) {
			t.Errorf("ParseValidatorKey(%q): %v", s, err)
		}
	}
	// An uncompressed key is not accepted: keys are 33 bytes.
	if _, err := genesis.ParseValidatorKey("04" + strings.Repeat("11", 64)); err == nil {
		t.Error("accepted a 65-byte key")
	}
}

// TestEvidenceExpiresBeforeUnbonding: the genesis gives CometBFT evidence
// ages strictly inside unbonding, in blocks and in time, so stake bonded at
// an infraction is still unbonding whenever its evidence can be committed;
// a genesis file whose evidence outlives unbonding is refused.
func TestEvidenceExpiresBeforeUnbonding(t *testing.T) {
	for _, sp := range []genesis.StakingParams{genesis.DefaultStakingParams(), genesis.DevnetStakingParams()} {
		d := validDoc(t)
		d.AppState.Params.Staking = sp
		g, err := d.ToCometBFT()
		if err != nil {
			t.Fatal(err)
		}
		unbonding, _ := sp.UnbondingDuration()
		ev := g.ConsensusParams.Evidence
		if ev.MaxAgeNumBlocks >= sp.UnbondingBlocks || ev.MaxAgeDuration >= unbonding || ev.MaxAgeNumBlocks <= 0 || ev.MaxAgeDuration <= 0 {
			t.Fatalf("unbonding %d blocks, %s: evidence max age %d blocks, %s", sp.UnbondingBlocks, unbonding, ev.MaxAgeNumBlocks, ev.MaxAgeDuration)
		}
		if err := g.ConsensusParams.ValidateBasic(); err != nil {
			t.Fatal(err)
		}
		blocks, age, err := sp.EvidenceMaxAge()
		if err != nil || blocks != ev.MaxAgeNumBlocks || age != ev.MaxAgeDuration {
			t.Fatalf("EvidenceMaxAge %d %s %v, genesis has %d %s", blocks, age, err, ev.MaxAgeNumBlocks, ev.MaxAgeDuration)
		}
	}
	if p := genesis.DefaultStakingParams(); p.UnbondingTime != "504h" {
		t.Fatalf("production unbonding time %q, want 21 days", p.UnbondingTime)
	}
	if d, _ := genesis.DevnetStakingParams().UnbondingDuration(); d > 15*time.Minute {
		t.Fatalf("devnet unbonding time %s: want minutes", d)
	}

	d := validDoc(t)
	d.AppState.Params.Staking = genesis.DevnetStakingParams() // 300 blocks, 10m
	for _, tc := range []struct {
		name  string
		mut   func(ev *cmttypes.EvidenceParams)
		field string
	}{
		{"as generated", func(*cmttypes.EvidenceParams) {}, ""},
		{"just inside", func(ev *cmttypes.EvidenceParams) {
			ev.MaxAgeNumBlocks, ev.MaxAgeDuration = 299, 10*time.Minute-time.Nanosecond
		}, ""},
		{"blocks as long as unbonding", func(ev *cmttypes.EvidenceParams) { ev.MaxAgeNumBlocks = 300 }, "consensus_params.evidence.max_age_num_blocks"},
		{"CometBFT's default blocks", func(ev *cmttypes.EvidenceParams) { ev.MaxAgeNumBlocks = 100_000 }, "consensus_params.evidence.max_age_num_blocks"},
		{"time as long as unbonding", func(ev *cmttypes.EvidenceParams) { ev.MaxAgeDuration = 10 * time.Minute }, "consensus_params.evidence.max_age_duration"},
		{"CometBFT's default time", func(ev *cmttypes.EvidenceParams) { ev.MaxAgeDuration = 48 * time.Hour }, "consensus_params.evidence.max_age_duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := d.ToCometBFT()
			if err != nil {
				t.Fatal(err)
			}
			tc.mut(&g.ConsensusParams.Evidence)
			path := filepath.Join(t.TempDir(), "genesis.json")
			if err := g.SaveAs(path); err != nil {
				t.Fatal(err)
			}
			_, _, err = genesis.LoadCometBFT(path)
			var fe *genesis.FieldError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
				t.Fatalf("got %v, want an error naming %s", err, tc.field)
			}
		})
	}
}

// FuzzParseAppState: any bytes either fail to parse with an error or give
// an app state that validates and survives a round trip through JSON
// unchanged; nothing panics.
func FuzzParseAppState(f *testing.F) {
	good, err := json.Marshal(validDoc(f).AppState)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"params":null}`))
	f.Add([]byte(`{"accounts":[{"address":"0x1111111111111111111111111111111111111111","balance":"1e3"}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := genesis.ParseAppState(raw)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed app state does not validate: %v", err)
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := genesis.ParseAppState(again)
		if err != nil || !reflect.DeepEqual(s, s2) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
