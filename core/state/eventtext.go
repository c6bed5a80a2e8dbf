package state

import (
	"bytes"

	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// EventTexts reads up to limit events whose ids sort after after, each with
// the notes of its timeline, for a full-text index. It answers where to
// continue ("" when done); each call is one short read transaction, so a
// scan of a million events never holds one open for long.
func (eng *Engine) EventTexts(after string, limit int, fn func(ev *model.Event, notes []model.TimelineEntry)) (string, error) {
	next := ""
	err := eng.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(BucketEvent).Cursor()
		k, v := c.First()
		if after != "" {
			k, v = c.Seek([]byte(after + "/\xff")) // past after and its entries
		}
		n := 0
		var ev *model.Event
		var notes []model.TimelineEntry
		emit := func() {
			if ev != nil {
				fn(ev, notes)
				n++
			}
		}
		for ; k != nil; k, v = c.Next() {
			if i := bytes.IndexByte(k, '/'); i >= 0 {
				if ev == nil || string(k[:i]) != ev.ID || len(k) != i+5 {
					continue
				}
				var te model.TimelineEntry
				if err := decodeRecord(v, &te); err != nil {
					return err
				}
				if te.Note != "" {
					notes = append(notes, te)
				}
				continue
			}
			emit()
			if n == limit {
				next = ev.ID
				return nil
			}
			ev, notes = &model.Event{}, nil
			if err := decodeRecord(v, ev); err != nil {
				return err
			}
		}
		emit()
		return nil
	})
	return next, err
}
