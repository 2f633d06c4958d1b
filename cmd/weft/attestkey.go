package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/weftnet/weft/format"
	"github.com/weftnet/weft/keys"
)

// addAttestationKeyFlags adds the flags that register a BLS attestation key
// with create-validator or edit.
func addAttestationKeyFlags(c *cobra.Command, home bool) {
	usage := "BLS attestation key file to register (its public key and proof of possession go in the tx)"
	if home {
		usage += "; default: --validator-home's config/" + keys.AttestationKeyFile + " when it exists"
	}
	c.Flags().String("attestation-key", "", usage)
	c.Flags().Bool("new-attestation-key", false, "generate the --attestation-key file (0600) first; it must not exist")
}

// attestationKey reads the attestation key the flags name: nil, nil when
// they name none. With --new-attestation-key it generates the file first
// and says so on w.
func attestationKey(cmd *cobra.Command, w io.Writer) (*keys.AttestationKey, error) {
	path, _ := cmd.Flags().GetString("attestation-key")
	gen, _ := cmd.Flags().GetBool("new-attestation-key")
	home := ""
	if cmd.Flags().Lookup("validator-home") != nil {
		home, _ = cmd.Flags().GetString("validator-home")
	}
	if path == "" && home != "" {
		def := keys.AttestationKeyPath(home)
		if _, err := os.Stat(def); err == nil || gen {
			path = def
		}
	}
	switch {
	case path == "" && gen:
		return nil, errors.New("--new-attestation-key needs --attestation-key FILE (or --validator-home DIR)")
	case path == "":
		return nil, nil
	case gen:
		k, err := keys.GenerateAttestationKey(path)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "wrote attestation key %s (public key %s)\n", path, format.Hex(k.Public))
		return k, nil
	}
	k, err := keys.LoadAttestationKey(path)
	if err != nil {
		return nil, fmt.Errorf("--attestation-key: %w", err)
	}
	return k, nil
}
