// Package keys owns account keys on disk: one JSON file per key, written
// 0600, named by a local key name; BIP-39/BIP-44 derivation from a mnemonic
// (m/44'/60'/0'/0/i, as Ethereum wallets do); and the well-known development
// accounts of Hardhat and Anvil so users' existing tooling works on a devnet;
// and validators' BLS attestation key files (attestation.go, package
// attest/bls), written 0600 in a node home's config directory.
// It is a leaf (no other Weft package but attest/bls) shared by the CLI,
// devnet and node.
package keys
