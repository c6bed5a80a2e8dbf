package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
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
		body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
		if err != nil {
			return "", bodyError(err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}
