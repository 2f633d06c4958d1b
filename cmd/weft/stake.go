package main

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cometbft/cometbft/privval"
	"github.com/holiman/uint256"
	"github.com/spf13/cobra"

	"github.com/weftnet/weft/client"
	"github.com/weftnet/weft/genesis"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// consensusPubKey reads --consensus-pubkey (hex) or the validator key file
// of --validator-home.
func consensusPubKey(cmd *cobra.Command) ([]byte, error) {
	if h, _ := cmd.Flags().GetString("consensus-pubkey"); h != "" {
		b, err := hex.DecodeString(strings.TrimPrefix(h, "0x"))
		if err != nil {
			return nil, fmt.Errorf("--consensus-pubkey is not hex: %w", err)
		}
		return b, nil
	}
	home, _ := cmd.Flags().GetString("validator-home")
	if home == "" {
		return nil, fmt.Errorf("give --consensus-pubkey HEX or --validator-home DIR (whose config/priv_validator_key.json signs blocks)")
	}
	pv := privval.LoadFilePVEmptyState(filepath.Join(home, "config", "priv_validator_key.json"), "")
	pk, err := pv.GetPubKey()
	if err != nil {
		return nil, err
	}
	return pk.Bytes(), nil
}

func validatorFlag(cmd *cobra.Command) ([20]byte, error) {
	s, _ := cmd.Flags().GetString("validator")
	a, err := genesis.ParseAddress(s)
	if err != nil {
		return a, fmt.Errorf("--validator: %w", err)
	}
	return a, nil
}

// stakeCmd is `weft tx stake`: the validator staking transactions.
func stakeCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "stake", Short: "Validator staking: create, delegate, undelegate, edit, unjail"}
	delegate := stakeAmountCmd("delegate", "Bond tokens to a validator", client.Delegate)
	undelegate := stakeAmountCmd("undelegate", "Start unbonding tokens from a validator", client.Undelegate)
	for _, c := range []*cobra.Command{stakeCreateValidatorCmd(), delegate, undelegate, stakeEditCmd(), stakeUnjailCmd()} {
		cmd.AddCommand(addEnvHelp(c))
	}
	return cmd
}

// stakeCreateValidatorCmd is `weft tx stake create-validator`: create a
// validator operated by --from, bonding --self-stake.
func stakeCreateValidatorCmd() *cobra.Command {
	create := &cobra.Command{
		Use: "create-validator", Short: "Create a validator operated by --from, bonding --self-stake", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pk, err := consensusPubKey(cmd)
			if err != nil {
				return err
			}
			stake, err := amountFlag(cmd, "self-stake")
			if err != nil {
				return err
			}
			ak, err := attestationKey(cmd, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			comm, _ := cmd.Flags().GetUint32("commission-bps")
			moniker, _ := cmd.Flags().GetString("moniker")
			act := client.CreateValidator(pk, stake, comm, moniker)
			if ak != nil {
				cv := act.GetCreateValidator()
				cv.AttestationPubKey, cv.AttestationPop = ak.Public, ak.Pop
			}
			return sendTx(cmd, act)
		},
	}
	addAttestationKeyFlags(create, true)
	create.Flags().String("consensus-pubkey", "", "33-byte compressed secp256k1 consensus key, hex")
	create.Flags().String("validator-home", "", "node home whose config/priv_validator_key.json is the consensus key")
	create.Flags().String("self-stake", "", "amount to bond: "+amountUsage)
	create.Flags().Uint32("commission-bps", 500, "commission in basis points (500 = 5%)")
	create.Flags().String("moniker", "", "validator name")
	return create
}

// stakeAmountCmd is a staking subcommand that sends mk(--validator,
// --amount), e.g. delegate and undelegate.
func stakeAmountCmd(use, short string, mk func(v [20]byte, amt *uint256.Int) *weftv1.Action) *cobra.Command {
	c := &cobra.Command{
		Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := validatorFlag(cmd)
			if err != nil {
				return err
			}
			a, err := amountFlag(cmd, "amount")
			if err != nil {
				return err
			}
			return sendTx(cmd, mk(v, a))
		},
	}
	c.Flags().String("validator", "", "validator address (0x, 20 bytes)")
	c.Flags().String("amount", "", "amount: "+amountUsage)
	return c
}

// stakeEditCmd is `weft tx stake edit`: change a validator's commission,
// moniker or attestation key.
func stakeEditCmd() *cobra.Command {
	edit := &cobra.Command{
		Use: "edit", Short: "Change your validator's commission, moniker or attestation key", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := validatorFlag(cmd)
			if err != nil {
				return err
			}
			ev := &weftv1.EditValidator{Validator: v[:]}
			if cmd.Flags().Changed("commission-bps") {
				ev.HasCommission = true
				ev.CommissionBps, _ = cmd.Flags().GetUint32("commission-bps")
			}
			ev.Moniker, _ = cmd.Flags().GetString("moniker")
			ak, err := attestationKey(cmd, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if ak != nil {
				ev.AttestationPubKey, ev.AttestationPop = ak.Public, ak.Pop
			}
			return sendTx(cmd, &weftv1.Action{Kind: &weftv1.Action_EditValidator{EditValidator: ev}})
		},
	}
	addAttestationKeyFlags(edit, false)
	edit.Flags().String("validator", "", "validator address (0x, 20 bytes)")
	edit.Flags().Uint32("commission-bps", 0, "new commission in basis points")
	edit.Flags().String("moniker", "", "new moniker")
	return edit
}

// stakeUnjailCmd is `weft tx stake unjail`: return a jailed validator to
// candidacy.
func stakeUnjailCmd() *cobra.Command {
	unjail := &cobra.Command{
		Use: "unjail", Short: "Return your jailed validator to candidacy", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := validatorFlag(cmd)
			if err != nil {
				return err
			}
			return sendTx(cmd, client.Unjail(v))
		},
	}
	unjail.Flags().String("validator", "", "validator address (0x, 20 bytes)")
	return unjail
}
