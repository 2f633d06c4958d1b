package genesis

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/secp256k1eth"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/holiman/uint256"

	"github.com/weftnet/weft/rollups"
)

// Params are the chain's fee and size parameters.
type Params struct {
	// FeePerAction is charged for every action of a transaction (decimal).
	FeePerAction string `json:"fee_per_action"`
	// FeePerDataByte is charged per byte of rollup data (decimal).
	FeePerDataByte string `json:"fee_per_data_byte"`
	// MaxTxBytes bounds a transaction's encoded size.
	MaxTxBytes int64 `json:"max_tx_bytes"`
	// MaxActions bounds the number of actions in one transaction.
	MaxActions int `json:"max_actions"`
}

// Account is a prefunded account.
type Account struct {
	// Address is a 0x-prefixed 20-byte hex address.
	Address string `json:"address"`
	// Balance is a decimal amount in the smallest unit.
	Balance string `json:"balance"`
}

// Rollup is a rollup registered at genesis.
type Rollup struct {
	Name       string `json:"name"`
	VM         string `json:"vm"`
	EVMChainID uint64 `json:"evm_chain_id,omitempty"`
}

// AppState is Weft's part of the genesis file (CometBFT's app_state).
type AppState struct {
	Params   Params    `json:"params"`
	Accounts []Account `json:"accounts"`
	Rollups  []Rollup  `json:"rollups"`
}

// Validator is a genesis validator.
type Validator struct {
	Name string `json:"name"`
	// PubKey is the 33-byte compressed secp256k1 key, hex.
	PubKey string `json:"pub_key"`
	Power  int64  `json:"power"`
}

// Doc is the whole genesis as Weft tools write it.
type Doc struct {
	ChainID     string      `json:"chain_id"`
	GenesisTime time.Time   `json:"genesis_time"`
	Validators  []Validator `json:"validators"`
	AppState    AppState    `json:"app_state"`
	// BlockMaxBytes bounds a block (CometBFT's block.max_bytes).
	BlockMaxBytes int64 `json:"block_max_bytes"`
}

// VMs lists the executor kinds a rollup may declare.
var VMs = map[string]bool{"evm": true}

// DefaultParams are the parameters new networks start with.
func DefaultParams() Params {
	return Params{
		FeePerAction:   "1000000000", // 1 gwei-equivalent per action
		FeePerDataByte: "10000000",   // 0.01 gwei-equivalent per data byte
		MaxTxBytes:     1 << 20,
		MaxActions:     64,
	}
}

// DefaultBlockMaxBytes is the block size bound of new networks.
const DefaultBlockMaxBytes = 8 << 20

// FieldError names the genesis field that is wrong.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("genesis: %s: %v", e.Field, e.Err) }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field string, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// ParseAmount parses a non-negative decimal uint256.
func ParseAmount(s string) (*uint256.Int, error) {
	if s == "" {
		return nil, errors.New("empty amount")
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return nil, fmt.Errorf("amount %q must be a non-negative decimal number", s)
	}
	v, err := uint256.FromDecimal(s)
	if err != nil {
		return nil, fmt.Errorf("amount %q: %w", s, err)
	}
	return v, nil
}

// ParseAddress parses a 0x-prefixed 20-byte hex address.
func ParseAddress(s string) ([20]byte, error) {
	var a [20]byte
	h, ok := strings.CutPrefix(s, "0x")
	if !ok {
		h, ok = strings.CutPrefix(s, "0X")
	}
	if !ok {
		return a, fmt.Errorf("address %q must start with 0x", s)
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 20 {
		return a, fmt.Errorf("address %q must be 20 bytes of hex", s)
	}
	copy(a[:], b)
	return a, nil
}

// Validate checks the parameters.
func (p Params) Validate(prefix string) error {
	if _, err := ParseAmount(p.FeePerAction); err != nil {
		return fieldErr(prefix+".fee_per_action", "%v", err)
	}
	if _, err := ParseAmount(p.FeePerDataByte); err != nil {
		return fieldErr(prefix+".fee_per_data_byte", "%v", err)
	}
	if p.MaxTxBytes <= 0 {
		return fieldErr(prefix+".max_tx_bytes", "must be positive, got %d", p.MaxTxBytes)
	}
	if p.MaxActions <= 0 {
		return fieldErr(prefix+".max_actions", "must be positive, got %d", p.MaxActions)
	}
	return nil
}

// Validate checks the app state.
func (s *AppState) Validate() error {
	if err := s.Params.Validate("app_state.params"); err != nil {
		return err
	}
	seen := map[[20]byte]bool{}
	supply := new(uint256.Int)
	for i, a := range s.Accounts {
		f := fmt.Sprintf("app_state.accounts[%d]", i)
		addr, err := ParseAddress(a.Address)
		if err != nil {
			return fieldErr(f+".address", "%v", err)
		}
		if seen[addr] {
			return fieldErr(f+".address", "duplicate account %s", a.Address)
		}
		seen[addr] = true
		bal, err := ParseAmount(a.Balance)
		if err != nil {
			return fieldErr(f+".balance", "%v", err)
		}
		// Transfers only move balances, so a supply that fits in a uint256
		// keeps every credit from overflowing (consensus panics if one does).
		if _, overflow := supply.AddOverflow(supply, bal); overflow {
			return fieldErr(f+".balance", "total supply overflows uint256")
		}
	}
	names := map[string]bool{}
	for i, r := range s.Rollups {
		f := fmt.Sprintf("app_state.rollups[%d]", i)
		if err := rollups.ValidateName(r.Name); err != nil {
			return fieldErr(f+".name", "%v", err)
		}
		if names[r.Name] {
			return fieldErr(f+".name", "duplicate rollup %q", r.Name)
		}
		names[r.Name] = true
		if !VMs[r.VM] {
			return fieldErr(f+".vm", "unknown vm %q (known: evm)", r.VM)
		}
		if r.VM == "evm" && r.EVMChainID == 0 {
			return fieldErr(f+".evm_chain_id", "required for an evm rollup")
		}
	}
	return nil
}

// Validate checks the whole document.
func (d *Doc) Validate() error {
	if strings.TrimSpace(d.ChainID) == "" {
		return fieldErr("chain_id", "must not be empty")
	}
	if len(d.ChainID) > cmttypes.MaxChainIDLen {
		return fieldErr("chain_id", "longer than %d characters", cmttypes.MaxChainIDLen)
	}
	if d.GenesisTime.IsZero() {
		return fieldErr("genesis_time", "must be set")
	}
	if len(d.Validators) == 0 {
		return fieldErr("validators", "at least one validator is required")
	}
	keys := map[string]bool{}
	var power int64
	for i, v := range d.Validators {
		f := fmt.Sprintf("validators[%d]", i)
		pk, err := ParseValidatorKey(v.PubKey)
		if err != nil {
			return fieldErr(f+".pub_key", "%v", err)
		}
		// Compare parsed keys: "0x02AB.." and "02ab.." are the same validator,
		// and CometBFT panics on a duplicate.
		if keys[string(pk)] {
			return fieldErr(f+".pub_key", "duplicate validator key")
		}
		keys[string(pk)] = true
		if v.Power <= 0 {
			return fieldErr(f+".power", "must be positive, got %d", v.Power)
		}
		if v.Power > cmttypes.MaxTotalVotingPower-power {
			return fieldErr(f+".power", "total voting power exceeds %d", cmttypes.MaxTotalVotingPower)
		}
		power += v.Power
	}
	if d.BlockMaxBytes <= 0 {
		return fieldErr("block_max_bytes", "must be positive, got %d", d.BlockMaxBytes)
	}
	if d.AppState.Params.MaxTxBytes > d.BlockMaxBytes {
		return fieldErr("app_state.params.max_tx_bytes", "%d exceeds block_max_bytes %d", d.AppState.Params.MaxTxBytes, d.BlockMaxBytes)
	}
	return d.AppState.Validate()
}

// ParseValidatorKey parses a hex secp256k1eth (33-byte compressed) key.
func ParseValidatorKey(h string) (secp256k1eth.PubKey, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(h, "0x"))
	if err != nil {
		return nil, fmt.Errorf("not hex: %w", err)
	}
	pk, err := secp256k1eth.NewPubKeyFromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("not a secp256k1eth public key: %w", err)
	}
	return pk, nil
}

// ToCometBFT validates d and returns the CometBFT genesis document.
func (d *Doc) ToCometBFT() (*cmttypes.GenesisDoc, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	app, err := json.Marshal(d.AppState)
	if err != nil {
		return nil, err
	}
	params := cmttypes.DefaultConsensusParams()
	params.Validator.PubKeyTypes = []string{cmttypes.ABCIPubKeyTypeSecp256k1Eth}
	params.Block.MaxBytes = d.BlockMaxBytes
	g := &cmttypes.GenesisDoc{
		ChainID:         d.ChainID,
		GenesisTime:     d.GenesisTime.UTC(),
		InitialHeight:   1,
		ConsensusParams: params,
		AppState:        app,
	}
	for _, v := range d.Validators {
		pk, _ := ParseValidatorKey(v.PubKey)
		g.Validators = append(g.Validators, cmttypes.GenesisValidator{
			Address: pk.Address(), PubKey: pk, Power: v.Power, Name: v.Name,
		})
	}
	if err := g.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	return g, nil
}

// ParseAppState decodes and validates app_state from a CometBFT genesis.
func ParseAppState(raw []byte) (*AppState, error) {
	var s AppState
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fieldErr("app_state", "%v", err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// LoadCometBFT reads a CometBFT genesis file and validates Weft's app_state.
func LoadCometBFT(path string) (*cmttypes.GenesisDoc, *AppState, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	g, err := cmttypes.GenesisDocFromJSON(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("genesis %s: %w", path, err)
	}
	s, err := ParseAppState(g.AppState)
	if err != nil {
		return nil, nil, err
	}
	return g, s, nil
}
