package core

import (
	"context"
	"errors"
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/state"
)

// RowError is a refused row of an import: its number as the caller counts
// rows, and why, naming the field and rule.
type RowError struct {
	Row    int    `json:"row"`
	Field  string `json:"field,omitempty"`
	Rule   string `json:"rule,omitempty"`
	Detail string `json:"detail"`
}

// ImportResult is what an import did: how many rows it kept, and each row
// it refused.
type ImportResult struct {
	Imported int        `json:"imported"`
	Refused  []RowError `json:"refused"`
}

// importBatch is how many rows one transaction of an import holds.
const importBatch = 2000

// rowError describes a row's refusal.
func rowError(row int, err error) RowError {
	re := RowError{Row: row, Detail: err.Error()}
	var fe *errs.FieldError
	if errors.As(err, &fe) {
		re.Field, re.Rule, re.Detail = fe.Field, fe.Rule, fe.Msg
	}
	return re
}

// importRows proposes a command per row next yields, made by add,
// importBatch to a transaction, preparing the next batch (sealing is the
// costly part) while the previous one applies. A row next or add refuses,
// or apply rejects, is reported and the rest go on; an error of the log
// itself stops the import. Each row is its own command, so the caller's
// idempotency key is dropped.
func importRows[T any](ctx context.Context, s *Store, next func() (row int, in T, err error, ok bool),
	add func(context.Context, T) (*state.Command, error), progress func(done int)) (ImportResult, error) {
	ctx = withoutKey(ctx)
	res := ImportResult{Refused: []RowError{}}
	type flight struct {
		rows []int
		res  []state.Result
		err  error
		done chan struct{}
	}
	done := 0
	wait := func(f *flight) error {
		<-f.done
		if f.err != nil {
			return f.err
		}
		for i, r := range f.res {
			if r.Err != nil {
				res.Refused = append(res.Refused, rowError(f.rows[i], r.Err))
			} else {
				res.Imported++
			}
		}
		done += len(f.rows)
		if progress != nil {
			progress(done)
		}
		return nil
	}
	var prev *flight
	for more := true; more; {
		f := &flight{done: make(chan struct{})}
		cmds := make([]*state.Command, 0, importBatch)
		for len(cmds) < importBatch {
			row, in, err, ok := next()
			if !ok {
				more = false
				break
			}
			var c *state.Command
			if err == nil {
				c, err = add(ctx, in)
			}
			if err != nil {
				res.Refused = append(res.Refused, rowError(row, err))
				done++
				continue
			}
			f.rows = append(f.rows, row)
			cmds = append(cmds, c)
		}
		if len(cmds) == 0 {
			close(f.done)
		} else {
			go func() {
				defer close(f.done)
				f.res, f.err = s.applyCommands(ctx, cmds)
			}()
		}
		if prev != nil {
			if err := wait(prev); err != nil {
				<-f.done
				return res, err
			}
		}
		prev = f
	}
	if prev != nil {
		if err := wait(prev); err != nil {
			return res, err
		}
	}
	slices.SortFunc(res.Refused, func(a, b RowError) int { return a.Row - b.Row })
	return res, nil
}
