package consensus

import (
	"errors"

	"github.com/holiman/uint256"
	"google.golang.org/protobuf/proto"

	"github.com/weftnet/weft/consensus/staking"
	"github.com/weftnet/weft/mempool/journal"
	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// SumBalances adds up every account balance in s's committed state.
func SumBalances(s *Store) (*uint256.Int, error) {
	sum := new(uint256.Int)
	err := s.Iterate(prefixAccount, func(_, v []byte) error {
		acc := &weftv1.Account{}
		if err := proto.Unmarshal(v, acc); err != nil {
			return err
		}
		sum.Add(sum, balanceOf(acc))
		return nil
	})
	return sum, err
}

// CheckSupply checks the staking supply invariant over a's committed state:
// every balance + bonded + unbonding + reward pool equals the supply.
func CheckSupply(a *App) error {
	_, p := a.limits()
	if p == nil {
		return errors.New("chain not initialised")
	}
	sum, err := SumBalances(a.store)
	if err != nil {
		return err
	}
	return view{NewOverlay(a.store)}.staking(p).CheckSupply(sum)
}

// StakingOf is the staking module over a's committed state (writes are
// discarded).
func StakingOf(a *App) *staking.Module {
	_, p := a.limits()
	return view{NewOverlay(a.store)}.staking(p)
}

// CrashAfter makes s's next chunked commits stop after step ("staged" or
// "applied") and return an error, as a crash there would leave the store.
func CrashAfter(s *Store, step string) { s.crashAfter = step }

// JournalHas reports whether the mempool journal in s holds the tx h.
func JournalHas(s *Store, h [32]byte) bool {
	_, ok, err := s.Get(journal.Key(h))
	return err == nil && ok
}

// JournalPut writes a tx into s's mempool journal as an earlier run that
// acknowledged it would have.
func JournalPut(s *Store, h [32]byte, raw []byte) error {
	return journal.New(s.db, 0, 0).Put(h, raw)
}
