// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package bindings

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// WeftL2BridgeMetaData contains all meta data concerning the WeftL2Bridge contract.
var WeftL2BridgeMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[],\"name\":\"ZeroRecipient\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroValue\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"from\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"withdrawalHash\",\"type\":\"bytes32\"}],\"name\":\"WithdrawalInitiated\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"depositsProcessed\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"}],\"name\":\"initiateWithdrawal\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"}],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"sentWithdrawals\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"},{\"internalType\":\"address\",\"name\":\"from\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"}],\"name\":\"withdrawalHash\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"pure\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"withdrawalNonce\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"}]",
	ID:  "WeftL2Bridge",
	Bin: "0x6080604052348015600e575f5ffd5b506102cb8061001c5f395ff3fe608060405260043610610049575f3560e01c80632091d0861461004d5780636af916681461007f5780637b259db4146100945780637eeb1773146100a9578063d3d7f60b146100bc575b5f5ffd5b348015610058575f5ffd5b5061006c61006736600461022f565b6100fa565b6040519081526020015b60405180910390f35b34801561008a575f5ffd5b5061006c60025481565b34801561009f575f5ffd5b5061006c60015481565b61006c6100b7366004610270565b610142565b3480156100c7575f5ffd5b506100ea6100d6366004610290565b5f6020819052908152604090205460ff1681565b6040519015158152602001610076565b604080516020808201969096526001600160a01b03948516818301529290931660608301526080808301919091528251808303909101815260a0909101909152805191012090565b5f345f0361016357604051637c946ed760e01b815260040160405180910390fd5b6001600160a01b03821661018a5760405163d27b444360e01b815260040160405180910390fd5b60018054905f610199836102a7565b9190505590505f6101ac823385346100fa565b5f8181526020818152604091829020805460ff1916600117905581513481529081018390529192506001600160a01b03851691339185917f9dfb73981682ae0d891dbe398cf2979c077cbcc089fb63767c85fddb51ee61b5910160405180910390a450919050565b80356001600160a01b038116811461022a575f5ffd5b919050565b5f5f5f5f60808587031215610242575f5ffd5b8435935061025260208601610214565b925061026060408601610214565b9396929550929360600135925050565b5f60208284031215610280575f5ffd5b61028982610214565b9392505050565b5f602082840312156102a0575f5ffd5b5035919050565b5f600182016102c457634e487b7160e01b5f52601160045260245ffd5b506001019056",
}

// WeftL2Bridge is an auto generated Go binding around an Ethereum contract.
type WeftL2Bridge struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *WeftL2Bridge) GetABI() abi.ABI {
	return c.abi
}

// NewWeftL2Bridge creates a new instance of WeftL2Bridge.
func NewWeftL2Bridge() *WeftL2Bridge {
	parsed, err := WeftL2BridgeMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &WeftL2Bridge{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *WeftL2Bridge) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackDepositsProcessed is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6af91668.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function depositsProcessed() view returns(uint256)
func (weftL2Bridge *WeftL2Bridge) PackDepositsProcessed() []byte {
	enc, err := weftL2Bridge.abi.Pack("depositsProcessed")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDepositsProcessed is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6af91668.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function depositsProcessed() view returns(uint256)
func (weftL2Bridge *WeftL2Bridge) TryPackDepositsProcessed() ([]byte, error) {
	return weftL2Bridge.abi.Pack("depositsProcessed")
}

// UnpackDepositsProcessed is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x6af91668.
//
// Solidity: function depositsProcessed() view returns(uint256)
func (weftL2Bridge *WeftL2Bridge) UnpackDepositsProcessed(data []byte) (*big.Int, error) {
	out, err := weftL2Bridge.abi.Unpack("depositsProcessed", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackInitiateWithdrawal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x7eeb1773.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function initiateWithdrawal(address to) payable returns(uint256 nonce)
func (weftL2Bridge *WeftL2Bridge) PackInitiateWithdrawal(to common.Address) []byte {
	enc, err := weftL2Bridge.abi.Pack("initiateWithdrawal", to)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackInitiateWithdrawal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x7eeb1773.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function initiateWithdrawal(address to) payable returns(uint256 nonce)
func (weftL2Bridge *WeftL2Bridge) TryPackInitiateWithdrawal(to common.Address) ([]byte, error) {
	return weftL2Bridge.abi.Pack("initiateWithdrawal", to)
}

// UnpackInitiateWithdrawal is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x7eeb1773.
//
// Solidity: function initiateWithdrawal(address to) payable returns(uint256 nonce)
func (weftL2Bridge *WeftL2Bridge) UnpackInitiateWithdrawal(data []byte) (*big.Int, error) {
	out, err := weftL2Bridge.abi.Unpack("initiateWithdrawal", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackSentWithdrawals is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd3d7f60b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function sentWithdrawals(bytes32 ) view returns(bool)
func (weftL2Bridge *WeftL2Bridge) PackSentWithdrawals(arg0 [32]byte) []byte {
	enc, err := weftL2Bridge.abi.Pack("sentWithdrawals", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSentWithdrawals is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd3d7f60b.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function sentWithdrawals(bytes32 ) view returns(bool)
func (weftL2Bridge *WeftL2Bridge) TryPackSentWithdrawals(arg0 [32]byte) ([]byte, error) {
	return weftL2Bridge.abi.Pack("sentWithdrawals", arg0)
}

// UnpackSentWithdrawals is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xd3d7f60b.
//
// Solidity: function sentWithdrawals(bytes32 ) view returns(bool)
func (weftL2Bridge *WeftL2Bridge) UnpackSentWithdrawals(data []byte) (bool, error) {
	out, err := weftL2Bridge.abi.Unpack("sentWithdrawals", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackWithdrawalHash is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2091d086.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function withdrawalHash(uint256 nonce, address from, address to, uint256 value) pure returns(bytes32)
func (weftL2Bridge *WeftL2Bridge) PackWithdrawalHash(nonce *big.Int, from common.Address, to common.Address, value *big.Int) []byte {
	enc, err := weftL2Bridge.abi.Pack("withdrawalHash", nonce, from, to, value)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackWithdrawalHash is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2091d086.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function withdrawalHash(uint256 nonce, address from, address to, uint256 value) pure returns(bytes32)
func (weftL2Bridge *WeftL2Bridge) TryPackWithdrawalHash(nonce *big.Int, from common.Address, to common.Address, value *big.Int) ([]byte, error) {
	return weftL2Bridge.abi.Pack("withdrawalHash", nonce, from, to, value)
}

// UnpackWithdrawalHash is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x2091d086.
//
// Solidity: function withdrawalHash(uint256 nonce, address from, address to, uint256 value) pure returns(bytes32)
func (weftL2Bridge *WeftL2Bridge) UnpackWithdrawalHash(data []byte) ([32]byte, error) {
	out, err := weftL2Bridge.abi.Unpack("withdrawalHash", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackWithdrawalNonce is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x7b259db4.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function withdrawalNonce() view returns(uint256)
func (weftL2Bridge *WeftL2Bridge) PackWithdrawalNonce() []byte {
	enc, err := weftL2Bridge.abi.Pack("withdrawalNonce")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackWithdrawalNonce is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x7b259db4.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function withdrawalNonce() view returns(uint256)
func (weftL2Bridge *WeftL2Bridge) TryPackWithdrawalNonce() ([]byte, error) {
	return weftL2Bridge.abi.Pack("withdrawalNonce")
}

// UnpackWithdrawalNonce is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x7b259db4.
//
// Solidity: function withdrawalNonce() view returns(uint256)
func (weftL2Bridge *WeftL2Bridge) UnpackWithdrawalNonce(data []byte) (*big.Int, error) {
	out, err := weftL2Bridge.abi.Unpack("withdrawalNonce", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// WeftL2BridgeWithdrawalInitiated represents a WithdrawalInitiated event raised by the WeftL2Bridge contract.
type WeftL2BridgeWithdrawalInitiated struct {
	Nonce          *big.Int
	From           common.Address
	To             common.Address
	Value          *big.Int
	WithdrawalHash [32]byte
	Raw            *types.Log // Blockchain specific contextual infos
}

const WeftL2BridgeWithdrawalInitiatedEventName = "WithdrawalInitiated"

// ContractEventName returns the user-defined event name.
func (WeftL2BridgeWithdrawalInitiated) ContractEventName() string {
	return WeftL2BridgeWithdrawalInitiatedEventName
}

// UnpackWithdrawalInitiatedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event WithdrawalInitiated(uint256 indexed nonce, address indexed from, address indexed to, uint256 value, bytes32 withdrawalHash)
func (weftL2Bridge *WeftL2Bridge) UnpackWithdrawalInitiatedEvent(log *types.Log) (*WeftL2BridgeWithdrawalInitiated, error) {
	event := "WithdrawalInitiated"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != weftL2Bridge.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(WeftL2BridgeWithdrawalInitiated)
	if len(log.Data) > 0 {
		if err := weftL2Bridge.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range weftL2Bridge.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// UnpackError attempts to decode the provided error data using user-defined
// error definitions.
func (weftL2Bridge *WeftL2Bridge) UnpackError(raw []byte) (any, error) {
	if bytes.Equal(raw[:4], weftL2Bridge.abi.Errors["ZeroRecipient"].ID.Bytes()[:4]) {
		return weftL2Bridge.UnpackZeroRecipientError(raw[4:])
	}
	if bytes.Equal(raw[:4], weftL2Bridge.abi.Errors["ZeroValue"].ID.Bytes()[:4]) {
		return weftL2Bridge.UnpackZeroValueError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// WeftL2BridgeZeroRecipient represents a ZeroRecipient error raised by the WeftL2Bridge contract.
type WeftL2BridgeZeroRecipient struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroRecipient()
func WeftL2BridgeZeroRecipientErrorID() common.Hash {
	return common.HexToHash("0xd27b44434400f41bccba90cdfad4d72c6c290b6d2304333570252b0a1dc90ded")
}

// UnpackZeroRecipientError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroRecipient()
func (weftL2Bridge *WeftL2Bridge) UnpackZeroRecipientError(raw []byte) (*WeftL2BridgeZeroRecipient, error) {
	out := new(WeftL2BridgeZeroRecipient)
	if err := weftL2Bridge.abi.UnpackIntoInterface(out, "ZeroRecipient", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// WeftL2BridgeZeroValue represents a ZeroValue error raised by the WeftL2Bridge contract.
type WeftL2BridgeZeroValue struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroValue()
func WeftL2BridgeZeroValueErrorID() common.Hash {
	return common.HexToHash("0x7c946ed78134c23eac50c0c02964d68f22dd28448c070d39c9f8e8389b217469")
}

// UnpackZeroValueError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroValue()
func (weftL2Bridge *WeftL2Bridge) UnpackZeroValueError(raw []byte) (*WeftL2BridgeZeroValue, error) {
	out := new(WeftL2BridgeZeroValue)
	if err := weftL2Bridge.abi.UnpackIntoInterface(out, "ZeroValue", raw); err != nil {
		return nil, err
	}
	return out, nil
}
