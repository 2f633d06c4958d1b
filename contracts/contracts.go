package contracts

import (
	_ "embed"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

//go:embed build/WeftL2Bridge.runtime.bin
var l2BridgeRuntimeHex string

// L2BridgeAddress is where every Weft EVM rollup's genesis places the
// WeftL2Bridge predeploy.
var L2BridgeAddress = common.HexToAddress("0x5745465400000000000000000000000000000001")

// L2BridgeRuntime returns the runtime code of WeftL2Bridge (for genesis).
func L2BridgeRuntime() []byte {
	return common.FromHex(strings.TrimSpace(l2BridgeRuntimeHex))
}

// Storage slots of WeftL2Bridge (see src/WeftL2Bridge.sol).
var (
	// L2BridgeWithdrawalsSlot holds the mapping sentWithdrawals.
	L2BridgeWithdrawalsSlot = common.BigToHash(common.Big0)
	// L2BridgeDepositsSlot holds depositsProcessed.
	L2BridgeDepositsSlot = common.BigToHash(common.Big2)
)
