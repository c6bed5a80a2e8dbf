package api

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/node/tables"
)

// importProgress is a line of an import's answer: rows done so far, and at
// the end what was kept and each row refused.
type importProgress struct {
	Done     int             `json:"done"`
	Imported *int            `json:"imported,omitempty"`
	Refused  []core.RowError `json:"refused,omitempty"`
	Error    *Problem        `json:"error,omitempty"`
}

// tableFormat is the upload's format: ?format=, else its Content-Type.
func tableFormat(r *http.Request) (string, error) {
	switch f := r.URL.Query().Get("format"); f {
	case tables.XLSX, tables.CSV:
		return f, nil
	case "":
		if strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
			return tables.CSV, nil
		}
		return tables.XLSX, nil
	default:
		return "", errs.Invalid("format", "enum", "format must be xlsx or csv")
	}
}

type tableRow struct {
	row  int
	vals map[string]string
}

// importTable reads the uploaded table and runs run over its rows. The
// header is checked before the answer starts, so a file that is not the
// table is a problem; after that the answer is NDJSON: {"done":n} after
// each batch, and a last line with "imported" and "refused" (or "error",
// should the file break off part way).
func (s *Server) importTable(w http.ResponseWriter, r *http.Request, cols []tables.Column,
	run func(next func() (int, map[string]string, bool), progress func(int)) (core.ImportResult, error)) error {
	format, err := tableFormat(r)
	if err != nil {
		return err
	}
	rows := make(chan tableRow, 256)
	readErr := make(chan error, 1)
	ctx := r.Context()
	go func() {
		defer close(rows)
		readErr <- tables.Read(r.Body, format, cols, func(row int, vals map[string]string) error {
			select {
			case rows <- tableRow{row, maps.Clone(vals)}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	first, ok := <-rows
	if !ok {
		if err := <-readErr; err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w)
	pending := &first
	next := func() (int, map[string]string, bool) {
		if pending != nil {
			p := pending
			pending = nil
			return p.row, p.vals, ok
		}
		t, more := <-rows
		return t.row, t.vals, more
	}
	res, err := run(next, func(done int) {
		enc.Encode(importProgress{Done: done})
		rc.Flush()
	})
	for range rows { // the reader stops at a log error too
	}
	if err == nil {
		err = <-readErr
	}
	last := importProgress{Done: res.Imported + len(res.Refused), Imported: &res.Imported, Refused: res.Refused}
	if err != nil {
		status, kind := statusOf(err)
		p := Problem{Type: "https://fengqiao.dev/problems/" + kind, Title: http.StatusText(status), Status: status, Detail: err.Error()}
		if fe := (*errs.FieldError)(nil); errors.As(err, &fe) {
			p.Field, p.Rule, p.Detail = fe.Field, fe.Rule, fe.Msg
		}
		last.Error = &p
	}
	return enc.Encode(last)
}

func (s *Server) importPeople(w http.ResponseWriter, r *http.Request) error {
	return s.importTable(w, r, tables.People, func(next func() (int, map[string]string, bool), progress func(int)) (core.ImportResult, error) {
		return s.b.Store().People.Import(r.Context(), func() (int, model.PersonInput, error, bool) {
			row, v, ok := next()
			if !ok {
				return 0, model.PersonInput{}, nil, false
			}
			kind, err := code(v["kind"], "kind", model.ResidentKindLabels)
			return row, model.PersonInput{ID: v["id"], Name: v["name"], IDNumber: v["id_number"], Kind: kind,
				Jurisdiction: v["jurisdiction"], Grid: v["grid"], House: v["house"]}, err, true
		}, progress)
	})
}

func (s *Server) importHouses(w http.ResponseWriter, r *http.Request) error {
	return s.importTable(w, r, tables.Houses, func(next func() (int, map[string]string, bool), progress func(int)) (core.ImportResult, error) {
		return s.b.Store().Houses.Import(r.Context(), func() (int, model.House, error, bool) {
			row, v, ok := next()
			if !ok {
				return 0, model.House{}, nil, false
			}
			h := model.House{ID: v["id"], Address: v["address"], Jurisdiction: v["jurisdiction"], Grid: v["grid"]}
			var err error
			if v["use"] != "" {
				h.Use, err = code(v["use"], "use", model.HouseUseLabels)
			}
			if err == nil {
				h.Rented, err = yes(v["rented"], "rented")
			}
			return row, h, err, true
		}, progress)
	})
}

// code reads a coded value given as its code or its Chinese label.
func code(v, field string, labels map[string]string) (string, error) {
	if _, ok := labels[v]; ok {
		return v, nil
	}
	for c, l := range labels {
		if l == v {
			return c, nil
		}
	}
	names := slices.Sorted(maps.Values(labels))
	return "", errs.Invalid(field, "enum", "%q is not one of %s", v, strings.Join(names, "、"))
}

// yes reads 是/否 (or true/false, 1/0); empty is no.
func yes(v, field string) (bool, error) {
	switch strings.ToLower(v) {
	case "是", "true", "1", "y", "yes":
		return true, nil
	case "", "否", "false", "0", "n", "no":
		return false, nil
	}
	return false, errs.Invalid(field, "bool", "%q is not 是 or 否", v)
}
