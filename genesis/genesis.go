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
	// Staking are the validator-set, reward and slashing rules.
	Staking StakingParams `json:"staking"`
}

// StakingParams govern the validator set. Durations are in blocks, except
// unbonding, which is bounded in blocks and in block time (the time in the
// block headers, which every node agrees on).
type StakingParams struct {
	// MaxValidators is the size of the active set (top stakes).
	MaxValidators int `json:"max_validators"`
	// MinSelfStake is the operator's least self-delegation (decimal).
	MinSelfStake string `json:"min_self_stake"`
	// PowerReduction is how many tokens make one unit of voting power.
	PowerReduction string `json:"power_reduction"`
	// UnbondingBlocks and UnbondingTime are how long undelegated stake
	// stays slashable: it is paid back once both have passed. CometBFT's
	// evidence must expire strictly sooner (see EvidenceMaxAge), and light
	// clients trust a header for less (weft follow uses 2/3 of the time).
	UnbondingBlocks int64 `json:"unbonding_blocks"`
	// UnbondingTime is a Go duration ("504h"), at least a second.
	UnbondingTime string `json:"unbonding_time"`
	// BlockReward is minted every block and paid with the fees (decimal).
	BlockReward string `json:"block_reward"`
	// SlashDoubleSignBps is the share of stake slashed for double signing.
	SlashDoubleSignBps uint32 `json:"slash_double_sign_bps"`
	// SlashDowntimeBps is the share of stake slashed when jailed for downtime.
	SlashDowntimeBps uint32 `json:"slash_downtime_bps"`
	// SignedBlocksWindow and MaxMissedBlocks: a validator missing more than
	// MaxMissedBlocks of the last SignedBlocksWindow blocks is jailed.
	SignedBlocksWindow int64 `json:"signed_blocks_window"`
	MaxMissedBlocks    int64 `json:"max_missed_blocks"`
	// DowntimeJailBlocks is how long a downtime jail lasts.
	DowntimeJailBlocks int64 `json:"downtime_jail_blocks"`
}

// DefaultStakingParams are the staking rules new networks start with.
func DefaultStakingParams() StakingParams {
	return StakingParams{
		MaxValidators:      50,
		MinSelfStake:       "1000000000000000000", // 1 token
		PowerReduction:     "1000000000000000000", // 1 token = 1 power
		UnbondingBlocks:    20_000,
		UnbondingTime:      "504h", // 21 days
		BlockReward:        "0",
		SlashDoubleSignBps: 500, // 5%
		SlashDowntimeBps:   1,   // 0.01%
		SignedBlocksWindow: 1000,
		MaxMissedBlocks:    500,
		DowntimeJailBlocks: 3000,
	}
}

// DevnetStakingParams are DefaultStakingParams with unbonding in minutes,
// for local networks (weft testnet, devnet).
func DevnetStakingParams() StakingParams {
	p := DefaultStakingParams()
	p.UnbondingBlocks = 300
	p.UnbondingTime = "10m"
	return p
}

// UnbondingDuration parses UnbondingTime.
func (p StakingParams) UnbondingDuration() (time.Duration, error) {
	d, err := time.ParseDuration(p.UnbondingTime)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (such as \"504h\"): %w", p.UnbondingTime, err)
	}
	if d < time.Second {
		return 0, fmt.Errorf("%s is shorter than a second", d)
	}
	return d, nil
}

// EvidenceMaxAge is the CometBFT evidence age (consensus_params.evidence)
// a genesis with these parameters gets: one block less than unbonding and
// nine tenths of its time. CometBFT admits evidence until it is older than
// both bounds, and an unbonding entry is paid once both of its bounds have
// passed; with each evidence bound strictly inside the matching unbonding
// bound, stake that was bonded at an infraction is still unbonding, and
// slashable, whenever evidence of it can be committed.
func (p StakingParams) EvidenceMaxAge() (blocks int64, age time.Duration, err error) {
	t, err := p.UnbondingDuration()
	if err != nil {
		return 0, 0, err
	}
	return p.UnbondingBlocks - 1, t - t/10, nil
}

// CheckEvidence refuses CometBFT evidence parameters under which evidence
// could still be committed after the stake it should slash has unbonded.
func (p StakingParams) CheckEvidence(ev cmttypes.EvidenceParams) error {
	t, err := p.UnbondingDuration()
	if err != nil {
		return fieldErr("app_state.params.staking.unbonding_time", "%v", err)
	}
	if ev.MaxAgeNumBlocks >= p.UnbondingBlocks {
		return fieldErr("consensus_params.evidence.max_age_num_blocks",
			"%d must be below app_state.params.staking.unbonding_blocks %d, or a double signer's unbonding stake could leave before its evidence expires",
			ev.MaxAgeNumBlocks, p.UnbondingBlocks)
	}
	if ev.MaxAgeDuration >= t {
		return fieldErr("consensus_params.evidence.max_age_duration",
			"%s must be below app_state.params.staking.unbonding_time %s, or a double signer's unbonding stake could leave before its evidence expires",
			ev.MaxAgeDuration, t)
	}
	return nil
}

// Validate checks the staking parameters.
func (p StakingParams) Validate(prefix string) error {
	if p.MaxValidators <= 0 {
		return fieldErr(prefix+".max_validators", "must be positive, got %d", p.MaxValidators)
	}
	if _, err := ParseAmount(p.MinSelfStake); err != nil {
		return fieldErr(prefix+".min_self_stake", "%v", err)
	}
	if pr, err := ParseAmount(p.PowerReduction); err != nil || pr.IsZero() {
		return fieldErr(prefix+".power_reduction", "must be a positive amount")
	}
	// Evidence expires one block earlier, and must live at least a block.
	if p.UnbondingBlocks < 2 {
		return fieldErr(prefix+".unbonding_blocks", "must be at least 2, got %d", p.UnbondingBlocks)
	}
	if _, err := p.UnbondingDuration(); err != nil {
		return fieldErr(prefix+".unbonding_time", "%v", err)
	}
	if _, err := ParseAmount(p.BlockReward); err != nil {
		return fieldErr(prefix+".block_reward", "%v", err)
	}
	if p.SlashDoubleSignBps > 10_000 {
		return fieldErr(prefix+".slash_double_sign_bps", "at most 10000, got %d", p.SlashDoubleSignBps)
	}
	if p.SlashDowntimeBps > 10_000 {
		return fieldErr(prefix+".slash_downtime_bps", "at most 10000, got %d", p.SlashDowntimeBps)
	}
	if p.SignedBlocksWindow <= 0 || p.SignedBlocksWindow > 100_000 {
		return fieldErr(prefix+".signed_blocks_window", "must be in 1..100000, got %d", p.SignedBlocksWindow)
	}
	if p.MaxMissedBlocks < 0 || p.MaxMissedBlocks >= p.SignedBlocksWindow {
		return fieldErr(prefix+".max_missed_blocks", "must be in 0..signed_blocks_window-1, got %d", p.MaxMissedBlocks)
	}
	if p.DowntimeJailBlocks <= 0 {
		return fieldErr(prefix+".downtime_jail_blocks", "must be positive, got %d", p.DowntimeJailBlocks)
	}
	return nil
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
	// Weight is the rollup's weight in the fair shares of block space the
	// block builder gives rollups with data waiting (0 means 1).
	Weight uint32 `json:"weight,omitempty"`
}

// MaxRollupWeight bounds Rollup.Weight.
const MaxRollupWeight = 1 << 20

// AppState is Weft's part of the genesis file (CometBFT's app_state).
type AppState struct {
	Params   Params    `json:"params"`
	Accounts []Account `json:"accounts"`
	Rollups  []Rollup  `json:"rollups"`
	// Validators are the genesis validators' stakes; Doc.ToCometBFT fills
	// them from Doc.Validators and CometBFT's validator set must match.
	Validators []StakedValidator `json:"validators"`
}

// StakedValidator is a genesis validator's staking record.
type StakedValidator struct {
	Name          string `json:"name"`
	PubKey        string `json:"pub_key"`
	Operator      string `json:"operator"`
	Stake         string `json:"stake"`
	CommissionBps uint32 `json:"commission_bps"`
	// AttestationPubKey and AttestationPop: as in Validator.
	AttestationPubKey string `json:"attestation_pub_key,omitempty"`
	AttestationPop    string `json:"attestation_pop,omitempty"`
}

// Validator is a genesis validator.
type Validator struct {
	Name string `json:"name"`
	// PubKey is the 33-byte compressed secp256k1 key, hex.
	PubKey string `json:"pub_key"`
	// Power is the validator's voting power; it must equal
	// stake / power_reduction.
	Power int64 `json:"power"`
	// Operator is the validator's operator account (default: the address of
	// the consensus key).
	Operator string `json:"operator,omitempty"`
	// Stake is the operator's genesis self-delegation (decimal; default
	// power × power_reduction). It is bonded, not part of any balance.
	Stake string `json:"stake,omitempty"`
	// CommissionBps is the operator's cut of rewards (basis points).
	CommissionBps uint32 `json:"commission_bps,omitempty"`
	// AttestationPubKey is the optional 48-byte compressed BLS12-381
	// attestation key (package attest/bls), hex; AttestationPop is its
	// 96-byte proof of possession, hex, which must verify.
	AttestationPubKey string `json:"attestation_pub_key,omitempty"`
	AttestationPop    string `json:"attestation_pop,omitempty"`
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
		Staking:        DefaultStakingParams(),
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
	return p.Staking.Validate(prefix + ".staking")
}

// Validate checks the app state.
func (s *AppState) Validate() error {
	if err := s.Params.Validate("app_state.params"); err != nil {
		return err
	}
	supply := new(uint256.Int)
	if err := s.validateAccounts(supply); err != nil {
		return err
	}
	if err := s.validateValidators(supply); err != nil {
		return err
	}
	return s.validateRollups()
}

// validateAccounts checks the accounts and adds their balances to supply.
func (s *AppState) validateAccounts(supply *uint256.Int) error {
	seen := map[[20]byte]bool{}
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
	return nil
}

// validateValidators checks the genesis validators and adds their stake
// to supply.
func (s *AppState) validateValidators(supply *uint256.Int) error {
	minStake, _ := ParseAmount(s.Params.Staking.MinSelfStake)
	vkeys := map[string]bool{}
	attestKeys := attestationKeys{}
	for i, v := range s.Validators {
		f := fmt.Sprintf("app_state.validators[%d]", i)
		pk, err := ParseValidatorKey(v.PubKey)
		if err != nil {
			return fieldErr(f+".pub_key", "%v", err)
		}
		if vkeys[string(pk)] {
			return fieldErr(f+".pub_key", "duplicate validator key")
		}
		vkeys[string(pk)] = true
		if err := attestKeys.add(f, v.AttestationPubKey, v.AttestationPop); err != nil {
			return err
		}
		if _, err := ParseAddress(v.Operator); err != nil {
			return fieldErr(f+".operator", "%v", err)
		}
		st, err := ParseAmount(v.Stake)
		if err != nil {
			return fieldErr(f+".stake", "%v", err)
		}
		if st.Lt(minStake) {
			return fieldErr(f+".stake", "%s is below params.staking.min_self_stake %s", st, minStake)
		}
		if _, overflow := supply.AddOverflow(supply, st); overflow {
			return fieldErr(f+".stake", "total supply overflows uint256")
		}
		if v.CommissionBps > 10_000 {
			return fieldErr(f+".commission_bps", "at most 10000, got %d", v.CommissionBps)
		}
	}
	return nil
}

// validateRollups checks the genesis rollups: names, vms, and EVM chain ids
// unique among them.
func (s *AppState) validateRollups() error {
	names := map[string]bool{}
	chainIDs := map[uint64]string{}
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
		// EIP-155 signatures commit to the chain id: two rollups sharing one
		// would each accept the other's transactions.
		if other, taken := chainIDs[r.EVMChainID]; taken && r.EVMChainID != 0 {
			return fieldErr(f+".evm_chain_id", "%d is already rollup %q's: a transaction signed for one would replay on the other", r.EVMChainID, other)
		}
		chainIDs[r.EVMChainID] = r.Name
		if r.Weight > MaxRollupWeight {
			return fieldErr(f+".weight", "%d is above the maximum %d", r.Weight, MaxRollupWeight)
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
	attestKeys := attestationKeys{}
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
		if err := attestKeys.add(f, v.AttestationPubKey, v.AttestationPop); err != nil {
			return err
		}
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
	staked, err := d.Staked()
	if err != nil {
		return nil, err
	}
	as := d.AppState
	as.Validators = staked
	app, err := json.Marshal(as)
	if err != nil {
		return nil, err
	}
	params := cmttypes.DefaultConsensusParams()
	params.Validator.PubKeyTypes = []string{cmttypes.ABCIPubKeyTypeSecp256k1Eth}
	params.Block.MaxBytes = d.BlockMaxBytes
	// Evidence must expire while the stake it slashes is still unbonding.
	if params.Evidence.MaxAgeNumBlocks, params.Evidence.MaxAgeDuration, err = d.AppState.Params.Staking.EvidenceMaxAge(); err != nil {
		return nil, err
	}
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

// Staked resolves each validator's operator (default: the consensus key's
// address) and stake (default: power × power_reduction) and checks that the
// stake gives exactly the declared power.
func (d *Doc) Staked() ([]StakedValidator, error) {
	pr, err := ParseAmount(d.AppState.Params.Staking.PowerReduction)
	if err != nil || pr.IsZero() {
		return nil, fieldErr("app_state.params.staking.power_reduction", "must be a positive amount")
	}
	out := make([]StakedValidator, len(d.Validators))
	for i, v := range d.Validators {
		f := fmt.Sprintf("validators[%d]", i)
		pk, err := ParseValidatorKey(v.PubKey)
		if err != nil {
			return nil, fieldErr(f+".pub_key", "%v", err)
		}
		op := v.Operator
		if op == "" {
			op = "0x" + hex.EncodeToString(pk.Address())
		}
		if _, err := ParseAddress(op); err != nil {
			return nil, fieldErr(f+".operator", "%v", err)
		}
		stake := v.Stake
		if stake == "" {
			stake = new(uint256.Int).Mul(uint256.NewInt(uint64(v.Power)), pr).Dec()
		}
		st, err := ParseAmount(stake)
		if err != nil {
			return nil, fieldErr(f+".stake", "%v", err)
		}
		if p := new(uint256.Int).Div(st, pr); !p.IsUint64() || p.Uint64() != uint64(v.Power) {
			return nil, fieldErr(f+".power", "%d does not match stake %s / power_reduction %s", v.Power, st, pr)
		}
		out[i] = StakedValidator{Name: v.Name, PubKey: hex.EncodeToString(pk), Operator: op, Stake: st.Dec(), CommissionBps: v.CommissionBps,
			AttestationPubKey: v.AttestationPubKey, AttestationPop: v.AttestationPop}
	}
	return out, nil
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

// LoadCometBFT reads a CometBFT genesis file and validates Weft's app_state
// and the evidence parameters against it.
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
	if err := s.Params.Staking.CheckEvidence(g.ConsensusParams.Evidence); err != nil {
		return nil, nil, fmt.Errorf("genesis %s: %w", path, err)
	}
	return g, s, nil
}
