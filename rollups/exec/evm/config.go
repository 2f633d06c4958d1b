package evm

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"

	"github.com/weftnet/weft/rollups"
)

// DefaultGasLimit is the block gas limit when Config.GasLimit is 0.
const DefaultGasLimit = 30_000_000

// Config describes one EVM rollup. Everything but Name and Dir is part of the
// chain's identity: changing it after the first start makes New fail.
type Config struct {
	// Name is the rollup's registered name; slices must carry its id.
	Name string
	// Dir holds the database; "" keeps everything in memory.
	Dir string
	// ChainID is the EIP-155 chain id of the rollup.
	ChainID uint64
	// Alloc is the genesis state. Each of Preinstalls is added at its
	// address when Alloc does not set that address: the OP Stack's
	// preinstalls (Multicall3, the deterministic deployment proxy, …), the
	// EIP-4788 beacon roots contract, so contracts can read the Weft block
	// hash, and the WeftL2Bridge predeploy (withdrawals to L1, deposit
	// count).
	Alloc types.GenesisAlloc
	// GasLimit is the block gas limit (DefaultGasLimit when 0).
	GasLimit uint64
	// FeeRecipient receives the priority fees (header Coinbase).
	FeeRecipient common.Address
	// GenesisTime is the genesis block's timestamp in seconds.
	GenesisTime uint64
	// DepositRelayer is the Weft account whose deposit items credit L1
	// deposits (zero: deposits are refused).
	DepositRelayer common.Address
}

// Check validates the config.
func (c *Config) Check() error {
	if err := rollups.ValidateName(c.Name); err != nil {
		return err
	}
	if c.ChainID == 0 {
		return errors.New("evm executor: chain id must not be 0")
	}
	if c.GasLimit != 0 && c.GasLimit < params.TxGas {
		return fmt.Errorf("evm executor: gas limit %d is below one transfer (%d)", c.GasLimit, params.TxGas)
	}
	return nil
}

func (c *Config) gasLimit() uint64 {
	if c.GasLimit == 0 {
		return DefaultGasLimit
	}
	return c.GasLimit
}

// NewChainConfig returns the rollup chain's rules: every fork through Cancun
// active at genesis, post-merge, with Cancun's blob schedule.
func NewChainConfig(chainID uint64) *params.ChainConfig {
	zero := uint64(0)
	return &params.ChainConfig{
		ChainID:                 new(big.Int).SetUint64(chainID),
		HomesteadBlock:          big.NewInt(0),
		EIP150Block:             big.NewInt(0),
		EIP155Block:             big.NewInt(0),
		EIP158Block:             big.NewInt(0),
		ByzantiumBlock:          big.NewInt(0),
		ConstantinopleBlock:     big.NewInt(0),
		PetersburgBlock:         big.NewInt(0),
		IstanbulBlock:           big.NewInt(0),
		MuirGlacierBlock:        big.NewInt(0),
		BerlinBlock:             big.NewInt(0),
		LondonBlock:             big.NewInt(0),
		ArrowGlacierBlock:       big.NewInt(0),
		GrayGlacierBlock:        big.NewInt(0),
		MergeNetsplitBlock:      big.NewInt(0),
		ShanghaiTime:            &zero,
		CancunTime:              &zero,
		TerminalTotalDifficulty: big.NewInt(0),
		BlobScheduleConfig:      &params.BlobScheduleConfig{Cancun: params.DefaultCancunBlobConfig},
	}
}

// genesis returns the genesis specification for cfg. Extra holds Weft height
// 0 so every block, genesis included, carries a decodable height.
func (c *Config) genesis(chainConfig *params.ChainConfig) *core.Genesis {
	alloc := make(types.GenesisAlloc, len(c.Alloc)+16)
	for addr, acc := range c.Alloc {
		alloc[addr] = acc
	}
	addPreinstalls(alloc, c.ChainID)
	return &core.Genesis{
		Config:     chainConfig,
		Alloc:      alloc,
		GasLimit:   c.gasLimit(),
		Timestamp:  c.GenesisTime,
		BaseFee:    big.NewInt(params.InitialBaseFee),
		Difficulty: big.NewInt(0),
		ExtraData:  encodeWeftHeight(0),
	}
}
