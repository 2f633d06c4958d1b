package view

import (
	"fmt"

	"github.com/weftnet/weft/format"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// Validators is `weft query validators`: active validators first.
type Validators struct {
	Height     int64       `json:"height"`
	Validators []Validator `json:"validators"`
}

// Validator is one staking validator.
type Validator struct {
	Moniker string `json:"moniker"`
	// Address is the consensus key's (CometBFT's validator address).
	Address         string `json:"address"`
	ConsensusPubKey string `json:"consensus_pub_key"`
	Operator        string `json:"operator"`
	// Status is active (it has voting power), inactive, jailed or
	// tombstoned.
	Status        string `json:"status"`
	Tokens        string `json:"tokens"`
	Shares        string `json:"shares"`
	Power         int64  `json:"power"`
	CommissionBps uint32 `json:"commission_bps"`
	Commission    string `json:"commission"`
	// MissedBlocks counts missed votes in the current signing window.
	MissedBlocks      uint32 `json:"missed_blocks"`
	Jailed            bool   `json:"jailed"`
	JailedUntilHeight int64  `json:"jailed_until_height"`
	Tombstoned        bool   `json:"tombstoned"`
	CreatedHeight     int64  `json:"created_height"`
	// AttestationPubKey is the BLS12-381 attestation key, 0x-hex, when the
	// validator registered one.
	AttestationPubKey string `json:"attestation_pub_key,omitempty"`
}

// NewValidators is the view of a ListValidators answer.
func NewValidators(r *weftv1.ListValidatorsResponse, a Amounts) Validators {
	v := Validators{Height: r.Height, Validators: []Validator{}}
	for _, x := range r.Validators {
		v.Validators = append(v.Validators, Validator{
			Moniker: x.Moniker, Address: format.Address(x.Address), ConsensusPubKey: format.Hex(x.ConsensusPubKey),
			Operator: format.Address(x.Operator), Status: validatorStatus(x), Tokens: a.Of(x.Tokens),
			Shares: format.Raw(format.BigEndian(x.Shares)), Power: x.Power, CommissionBps: x.CommissionBps,
			Commission: Percent(x.CommissionBps), MissedBlocks: x.MissedBlocks, Jailed: x.Jailed,
			JailedUntilHeight: x.JailedUntilHeight, Tombstoned: x.Tombstoned, CreatedHeight: x.CreatedHeight,
		})
		if len(x.AttestationPubKey) > 0 {
			v.Validators[len(v.Validators)-1].AttestationPubKey = format.Hex(x.AttestationPubKey)
		}
	}
	return v
}

// validatorStatus is one word for where a validator stands.
func validatorStatus(v *weftv1.Validator) string {
	switch {
	case v.Tombstoned:
		return "tombstoned"
	case v.Jailed:
		return "jailed"
	case v.Power > 0:
		return "active"
	}
	return "inactive"
}

// Percent is basis points as a percentage: 500 is "5%", 1234 "12.34%".
func Percent(bps uint32) string {
	s := fmt.Sprintf("%d", bps/100)
	if r := bps % 100; r != 0 {
		s += fmt.Sprintf(".%02d", r)
		if r%10 == 0 {
			s = s[:len(s)-1]
		}
	}
	return s + "%"
}

// WriteText implements Viewer.
func (v Validators) WriteText(t *TextWriter) {
	t.Line("validators at height %d", v.Height)
	var rows [][]string
	for _, x := range v.Validators {
		status := x.Status
		if x.Jailed && !x.Tombstoned {
			status = fmt.Sprintf("jailed until height %d", x.JailedUntilHeight)
		}
		rows = append(rows, []string{x.Moniker, x.Address, x.Tokens, fmt.Sprint(x.Power), x.Commission, fmt.Sprint(x.MissedBlocks), status, x.Operator})
	}
	t.Table([]string{"moniker", "address", "tokens", "power", "commission", "missed", "status", "operator"}, rows, "no validators")
	// Attestation keys are 98 characters: a line each, not a column.
	for _, x := range v.Validators {
		if x.AttestationPubKey != "" {
			t.Line("%s attestation key %s", x.Moniker, x.AttestationPubKey)
		}
	}
}

// Delegations is `weft query delegations`.
type Delegations struct {
	Delegator   string       `json:"delegator"`
	Delegations []Delegation `json:"delegations"`
	Unbonding   []Unbonding  `json:"unbonding"`
}

// Delegation is a delegator's shares in one validator and what they are
// worth.
type Delegation struct {
	Validator string `json:"validator"`
	Shares    string `json:"shares"`
	Tokens    string `json:"tokens"`
}

// Unbonding is stake on its way back to the delegator's balance.
type Unbonding struct {
	ID               uint64 `json:"id"`
	Validator        string `json:"validator"`
	Amount           string `json:"amount"`
	CreationHeight   int64  `json:"creation_height"`
	CompletionHeight int64  `json:"completion_height"`
}

// NewDelegations is the view of delegator's ListDelegations answer.
func NewDelegations(delegator []byte, r *weftv1.ListDelegationsResponse, a Amounts) Delegations {
	v := Delegations{Delegator: format.Address(delegator), Delegations: []Delegation{}, Unbonding: []Unbonding{}}
	for i, d := range r.Delegations {
		var tokens []byte
		if i < len(r.Tokens) {
			tokens = r.Tokens[i]
		}
		v.Delegations = append(v.Delegations, Delegation{
			Validator: format.Address(d.Validator), Shares: format.Raw(format.BigEndian(d.Shares)), Tokens: a.Of(tokens),
		})
	}
	for _, u := range r.Unbonding {
		v.Unbonding = append(v.Unbonding, Unbonding{
			ID: u.Id, Validator: format.Address(u.Validator), Amount: a.Of(u.Amount),
			CreationHeight: u.CreationHeight, CompletionHeight: u.CompletionHeight,
		})
	}
	return v
}

// WriteText implements Viewer.
func (v Delegations) WriteText(t *TextWriter) {
	t.Line("delegations of %s", v.Delegator)
	var rows [][]string
	for _, d := range v.Delegations {
		rows = append(rows, []string{d.Validator, d.Shares, d.Tokens})
	}
	t.Table([]string{"validator", "shares", "tokens"}, rows, "no delegations")
	t.Line("")
	t.Line("unbonding")
	rows = nil
	for _, u := range v.Unbonding {
		rows = append(rows, []string{fmt.Sprint(u.ID), u.Validator, u.Amount, fmt.Sprint(u.CompletionHeight)})
	}
	t.Table([]string{"id", "validator", "amount", "completes at height"}, rows, "nothing unbonding")
}
