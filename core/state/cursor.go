package state

import (
	"bytes"
	"encoding/base64"

	"github.com/fengqiao/fengqiao/core/errs"
	"go.etcd.io/bbolt"
)

// cursorKey decodes after ("" is the first page) for a listing whose keys
// start with pre.
func cursorKey(after string, pre []byte) ([]byte, error) {
	if after == "" {
		return nil, nil
	}
	k, err := base64.RawURLEncoding.DecodeString(after)
	if err != nil || len(k) == 0 || !bytes.HasPrefix(k, pre) {
		return nil, errs.Invalid("cursor", "format", "cursor does not belong to this listing")
	}
	return k, nil
}

// cursorOf encodes the key a page stopped after; nil (the listing is done)
// gives "".
func cursorOf(last []byte) string {
	if last == nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(last)
}

// PageLimit bounds a page: limit ≤ 0 or above max gives def.
func PageLimit(limit, def, max int) int {
	if limit <= 0 || limit > max {
		return def
	}
	return limit
}

// refsPage is one page of a listing through an index: the records of target
// that index keys under pre name, from the cursor after on.
func refsPage[T any](e *Engine, index, target, pre []byte, after string, limit int) ([]T, string, error) {
	return cursorPage(e, pre, after, func(tx *bbolt.Tx, from []byte) ([]T, []byte, error) {
		return pageRefs[T](tx, index, target, pre, from, limit, nil)
	})
}

// valuesPage is one page of the records of bucket keyed under pre, from the
// cursor after on.
func valuesPage[T any](e *Engine, bucket, pre []byte, after string, limit int) ([]T, string, error) {
	return cursorPage(e, pre, after, func(tx *bbolt.Tx, from []byte) ([]T, []byte, error) {
		return PageValues[T](tx, bucket, pre, from, limit, nil, nil)
	})
}

// cursorPage decodes the cursor, reads one page in a read transaction and
// encodes where the next page starts.
func cursorPage[T any](e *Engine, pre []byte, after string, page func(tx *bbolt.Tx, from []byte) ([]T, []byte, error)) ([]T, string, error) {
	from, err := cursorKey(after, pre)
	if err != nil {
		return nil, "", err
	}
	var out []T
	var last []byte
	err = e.View(func(tx *bbolt.Tx) (err error) {
		out, last, err = page(tx, from)
		return err
	})
	return out, cursorOf(last), err
}
