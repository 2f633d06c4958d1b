package consensus

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/weftnet/weft/mempool"
	"github.com/weftnet/weft/mempool/journal"
	"github.com/weftnet/weft/txcodec"
)

// The mempool journal (package mempool/journal) keeps every tx this node
// acknowledged to a client until it is committed (Commit deletes it with
// the block) or can no longer be included (forget): a restart puts it back
// in the mempool whatever the limits on parked txs (restore). Why a tx left
// the mempool unincluded is kept there too, so its status survives a
// restart.

// DroppedReason returns why a once-accepted tx left the mempool unincluded.
func (a *App) DroppedReason(h [32]byte) (string, bool) {
	r, ok, err := a.journal.Reason(h)
	if err != nil {
		a.log.Error("read dropped tx reason", "tx", fmt.Sprintf("%x", h), "err", err)
		return "", false
	}
	return r, ok
}

// forget records why txs left the mempool unincluded, for the API's tx
// status, and takes them out of the journal.
func (a *App) forget(dropped []mempool.Dropped) {
	if err := a.journal.Forget(dropped); err != nil {
		a.log.Error("forget dropped mempool txs", "err", err)
	}
}

// loadJournal re-inserts journaled txs, each sender's in nonce order. Only
// txs that can no longer be included (a used nonce, a balance that no
// longer covers them, rules they no longer pass) leave the journal, with a
// reason.
func (a *App) loadJournal() error {
	lim, params := a.limits()
	var txs []*Tx
	var bad []journal.Record
	err := a.journal.Entries(func(h [32]byte, raw []byte) error {
		tx, rej := DecodeTx(raw, lim)
		if rej != nil {
			bad = append(bad, journal.Record{Hash: h, Reason: "after restart: " + rej.Log})
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
		if rej := a.restore(tx, params); rej != nil {
			bad = append(bad, journal.Record{Hash: tx.Hash, Reason: "after restart: " + rej.Log})
			continue
		}
		a.journal.Restored(tx.Hash)
		kept++
	}
	if len(txs) > 0 || len(bad) > 0 {
		a.log.Info("restored mempool journal", "txs", kept, "dropped", len(bad))
	}
	return a.journal.Drop(bad)
}

// restore re-inserts a journaled tx. It is checked like any tx; the limits
// on parked txs, which bound what clients and peers may add, do not apply:
// the node acknowledged it, and its gap may be filled by a tx this node
// never saw (or saw only from a peer, unjournaled) that another node
// includes.
func (a *App) restore(tx *Tx, params *Params) *txcodec.Rejection {
	rej := a.insert(tx, params, fromJournal)
	if rej == nil || (rej.Code != txcodec.CodeTooManyParked && rej.Code != txcodec.CodeNonceTooFarAhead) {
		return rej
	}
	// insert checked everything else before the mempool refused the tx for
	// parking limits alone; the mempool checks nonce and balance again.
	mtx := mempoolTx(tx, params)
	mtx.Gossip, mtx.Keep = true, true
	res, err := a.mp.Restore(mtx, a.accountState(tx.Sender), a.now())
	if err != nil {
		return mempoolRejection(err)
	}
	a.forget(res.Dropped)
	return nil
}
