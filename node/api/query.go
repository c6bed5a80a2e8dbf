package api

import (
	"net/url"
	"strings"

	"github.com/fengqiao/fengqiao/core/errs"
)

// checkQuery refuses a query string that does not parse, naming the
// parameter: net/url drops a malformed pair without a word, which would
// turn ?limit=%zz into the default limit and ?cursor=%%% into the first
// page.
func checkQuery(raw string) error {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if strings.Contains(pair, ";") {
			return errs.Invalid("query", "format", "a query separates parameters with &, not ;")
		}
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return errs.Invalid("query", "escape", "a parameter name holds a malformed %%-escape")
		}
		if _, err := url.QueryUnescape(v); err != nil {
			return errs.Invalid(key, "escape", "%s holds a malformed %%-escape", key)
		}
	}
	return nil
}
