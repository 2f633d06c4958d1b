package settlement

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/weftnet/weft/contracts/bindings"
)

// ContractError is a revert of WeftInbox or WeftRegistry with one of their
// custom errors, decoded from the revert data an RPC error carries.
type ContractError struct {
	Contract string         // "WeftInbox" or "WeftRegistry"
	Name     string         // the Solidity error name, e.g. "WrongIndex"
	Args     map[string]any // decoded arguments by name
	// Value is the typed struct from contracts/bindings (e.g.
	// *bindings.WeftInboxWrongIndex), for callers that switch on type.
	Value any
	// Err is the RPC error the revert came in.
	Err error

	sig string
}

func (e *ContractError) Error() string {
	return "execution reverted: " + e.Contract + "." + e.sig
}

func (e *ContractError) Unwrap() error { return e.Err }

// IsContractError reports whether err is a revert with the named custom
// error (of either contract).
func IsContractError(err error, name string) bool {
	var ce *ContractError
	return errors.As(err, &ce) && ce.Name == name
}

type errorTable struct {
	contract string
	abi      abi.ABI
	unpack   func([]byte) (any, error)
}

var revertTables = func() []errorTable {
	in, reg := bindings.NewWeftInbox(), bindings.NewWeftRegistry()
	return []errorTable{
		{"WeftInbox", in.GetABI(), in.UnpackError},
		{"WeftRegistry", reg.GetABI(), reg.UnpackError},
	}
}()

// RevertData extracts the revert data from an RPC error (eth_call or
// eth_estimateGas); nil if there is none.
func RevertData(err error) []byte {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return nil
	}
	s, ok := de.ErrorData().(string)
	if !ok {
		return nil
	}
	b, derr := hexutil.Decode(s)
	if derr != nil {
		return nil
	}
	return b
}

// DecodeRevert turns an RPC error carrying a WeftInbox/WeftRegistry custom
// error into a *ContractError (which wraps err); any other error, or nil,
// is returned unchanged.
func DecodeRevert(err error) error {
	if err == nil {
		return nil
	}
	data := RevertData(err)
	if len(data) < 4 {
		return err
	}
	for _, t := range revertTables {
		for name, e := range t.abi.Errors {
			if !bytes.Equal(data[:4], e.ID[:4]) {
				continue
			}
			vals, uerr := e.Inputs.Unpack(data[4:])
			if uerr != nil {
				return err
			}
			ce := &ContractError{Contract: t.contract, Name: name, Args: map[string]any{}, Err: err}
			parts := make([]string, len(vals))
			for i, v := range vals {
				n := e.Inputs[i].Name
				ce.Args[n] = v
				if b, ok := v.([32]byte); ok {
					parts[i] = fmt.Sprintf("%s: %#x", n, b)
				} else {
					parts[i] = fmt.Sprintf("%s: %v", n, v)
				}
			}
			ce.sig = name + "(" + strings.Join(parts, ", ") + ")"
			if v, uerr := t.unpack(data); uerr == nil {
				ce.Value = v
			}
			return ce
		}
	}
	// A require string (e.g. the trie library's "Incomplete Proof!"): geth's
	// error message already carries it.
	return err
}
