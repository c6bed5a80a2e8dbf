package core

import (
	"bytes"
	"encoding/base64"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Page cursors are the last index or record key a page scanned, base64url
// encoded: opaque to clients, and checked against the listing's key prefix so
// a cursor from another listing (or another scope) is refused instead of
// silently starting somewhere else.

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

// pageLimit bounds a page: limit ≤ 0 or above max gives def.
func pageLimit(limit, def, max int) int {
	if limit <= 0 || limit > max {
		return def
	}
	return limit
}
