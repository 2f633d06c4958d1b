package consensus

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/weftnet/weft/mempool"
)

// DroppedReason returns why a once-accepted tx left the mempool unincluded.
func (a *App) DroppedReason(h [32]byte) (string, bool) {
	a.jmu.Lock()
	defer a.jmu.Unlock()
	r, ok := a.dropped[h]
	return r, ok
}

// forget records why txs left the mempool unincluded, for the API's tx
// status, and takes them out of the journal.
func (a *App) forget(dropped []mempool.Dropped) {
	if len(dropped) == 0 {
		return
	}
	var del [][32]byte
	for _, d := range dropped {
		a.recordDropped(d.Tx.Hash, d.Reason)
		a.jmu.Lock()
		if _, ok := a.journaled[d.Tx.Hash]; ok {
			del = append(del, d.Tx.Hash)
			delete(a.journaled, d.Tx.Hash)
		}
		a.jmu.Unlock()
	}
	if err := a.store.JournalDelete(del); err != nil {
		a.log.Error("prune mempool journal", "err", err)
	}
}

func (a *App) journal(tx *Tx) error {
	if err := a.store.JournalPut(tx.Hash, tx.Raw); err != nil {
		return err
	}
	a.jmu.Lock()
	a.journaled[tx.Hash] = struct{}{}
	a.jmu.Unlock()
	return nil
}

// loadJournal re-inserts journaled txs, each sender's in nonce order.
func (a *App) loadJournal() error {
	lim, params := a.limits()
	var txs []*Tx
	var bad [][32]byte
	err := a.store.Iterate(prefixJournal, func(k, v []byte) error {
		tx, rej := DecodeTx(v, lim)
		if rej != nil {
			bad = append(bad, [32]byte(k[len(prefixJournal):]))
			return nil
		}
		txs = append(txs, tx)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read mempool journal: %w", err)
	}
	sort.Slice(txs, func(i, j int) bool {
		if c := bytes.Compare(txs[i].Sender[:], txs[j].Sender[:]); c != 0 {
			return c < 0
		}
		return txs[i].Body.Nonce < txs[j].Body.Nonce
	})
	kept := 0
	for _, tx := range txs {
		if rej := a.insert(tx, params, fromJournal); rej != nil {
			bad = append(bad, tx.Hash)
			a.recordDropped(tx.Hash, "after restart: "+rej.Log)
			continue
		}
		a.jmu.Lock()
		a.journaled[tx.Hash] = struct{}{}
		a.jmu.Unlock()
		kept++
	}
	if len(txs) > 0 {
		a.log.Info("restored mempool journal", "txs", kept, "dropped", len(bad))
	}
	return a.store.JournalDelete(bad)
}

func (a *App) recordDropped(h [32]byte, reason string) {
	a.jmu.Lock()
	defer a.jmu.Unlock()
	if _, ok := a.dropped[h]; !ok {
		a.dropOrder = append(a.dropOrder, h)
	}
	a.dropped[h] = reason
	for len(a.dropOrder) > a.cfg.MaxDropped {
		delete(a.dropped, a.dropOrder[0])
		a.dropOrder = a.dropOrder[1:]
	}
}
