package keys

import (
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/tyler-smith/go-bip39"
)

// DevMnemonic is the public Hardhat/Anvil development mnemonic. Accounts
// derived from it hold no real value anywhere; never use it in production.
const DevMnemonic = "test test test test test test test test test test test junk"

// Derive returns account index i of mnemonic on path m/44'/60'/0'/0/i.
func Derive(mnemonic string, i uint32) (*ecdsa.PrivateKey, error) {
	if !bip39.IsMnemonicValid(mnemonic) {
		return nil, errors.New("invalid BIP-39 mnemonic")
	}
	seed := bip39.NewSeed(mnemonic, "")
	k, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		return nil, err
	}
	for _, idx := range []uint32{hdkeychain.HardenedKeyStart + 44, hdkeychain.HardenedKeyStart + 60, hdkeychain.HardenedKeyStart, 0, i} {
		if k, err = k.Derive(idx); err != nil {
			return nil, err
		}
	}
	ec, err := k.ECPrivKey()
	if err != nil {
		return nil, err
	}
	return crypto.ToECDSA(ec.Serialize())
}

// DevAccounts returns the first n development accounts.
func DevAccounts(n int) ([]*ecdsa.PrivateKey, error) {
	out := make([]*ecdsa.PrivateKey, n)
	for i := range out {
		k, err := Derive(DevMnemonic, uint32(i))
		if err != nil {
			return nil, err
		}
		out[i] = k
	}
	return out, nil
}

// File is the on-disk form of a key.
type File struct {
	Name       string `json:"name"`
	Address    string `json:"address"`
	PrivateKey string `json:"private_key"`
}

// Key is a loaded key.
type Key struct {
	Name    string
	Address common.Address
	Private *ecdsa.PrivateKey
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Dir is a directory of key files.
type Dir string

func (d Dir) path(name string) string { return filepath.Join(string(d), name+".json") }

// Add stores key under name (0600) and refuses to overwrite.
func (d Dir) Add(name string, key *ecdsa.PrivateKey) (*Key, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("key name %q: use 1-64 characters of letters, digits, '.', '_' or '-'", name)
	}
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return nil, err
	}
	k := &Key{Name: name, Address: crypto.PubkeyToAddress(key.PublicKey), Private: key}
	b, _ := json.MarshalIndent(File{Name: name, Address: k.Address.Hex(), PrivateKey: hex.EncodeToString(crypto.FromECDSA(key))}, "", "  ")
	f, err := os.OpenFile(d.path(name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("key %q already exists in %s", name, d)
		}
		return nil, err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, err
	}
	return k, f.Close()
}

// Load reads the key called name.
func (d Dir) Load(name string) (*Key, error) {
	b, err := os.ReadFile(d.path(name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no key named %q in %s (see `weft keys list`)", name, d)
		}
		return nil, err
	}
	return parse(b, d.path(name))
}

// LoadFile reads a key file by path.
func LoadFile(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(b, path)
}

func parse(b []byte, path string) (*Key, error) {
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	pk, err := crypto.HexToECDSA(strings.TrimPrefix(f.PrivateKey, "0x"))
	if err != nil {
		return nil, fmt.Errorf("key file %s: private_key: %w", path, err)
	}
	return &Key{Name: f.Name, Address: crypto.PubkeyToAddress(pk.PublicKey), Private: pk}, nil
}

// List returns the keys in d sorted by name.
func (d Dir) List() ([]*Key, error) {
	ents, err := os.ReadDir(string(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Key
	for _, e := range ents {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
			k, err := d.Load(name)
			if err != nil {
				return nil, err
			}
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
