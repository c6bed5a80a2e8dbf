package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"

	"github.com/fengqiao/fengqiao/node/tables"
)

// requestDigest hashes what a keyed request asks: its method, path, query
// and body (a form already parsed, as Open311's, by its sorted fields). The
// body is read here, within the size limit, and put back for the handler.
func requestDigest(r *http.Request) (string, error) {
	h := sha256.New()
	io.WriteString(h, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+"\n")
	if r.PostForm != nil {
		io.WriteString(h, r.PostForm.Encode())
	} else if r.Body != nil {
		// The largest body any route takes (a table to import); the route's
		// handler holds the body to its own limit as it reads it again.
		body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, tables.MaxFile))
		if err != nil {
			return "", bodyError(err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}
