// Package console is the web console every node serves: static files
// embedded in the binary (no CDN, no build step at run time) that talk
// only to /api/v1, so anything the console does a client can do. The
// pages decide what to offer from GET /api/v1/session and each event's
// actions, both of which core/access answers.
//
// Two entry points: / is the 综治中心 console, /m/ the grid worker's phone
// view (an installable PWA that keeps offline reports and syncs them with
// an Idempotency-Key each).
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var files embed.FS

// Static is the console's files, rooted at its top directory.
func Static() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	return sub
}

// policy lets the console run its own scripts and nothing else: no inline
// script, no other origin, no framing. Leaflet and ECharts set inline
// styles, and previews are blob: URLs.
const policy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"connect-src 'self'; worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Console serves the console's files.
type Console struct {
	root fs.FS
	fsrv http.Handler
}

// Handler serves the console: its files, with / and /m/ answering their
// index.html. Pages are routed in the URL's fragment (#/queue), so no other
// path is a page; Serves says which paths are the console's, and the node
// answers every other one itself.
func Handler() *Console {
	root := Static()
	return &Console{root: root, fsrv: http.FileServerFS(root)}
}

// Serves reports whether path is one of the console's: a file, or a
// directory with an index.html (/, /m/, and /m without its slash).
func (c *Console) Serves(urlPath string) bool {
	p := strings.TrimPrefix(path.Clean(urlPath), "/")
	if p == "" {
		p = "."
	}
	st, err := fs.Stat(c.root, p)
	if err != nil {
		return false
	}
	return !st.IsDir() || exists(c.root, path.Join(p, "index.html"))
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !c.Serves(r.URL.Path) {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", policy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	switch {
	case strings.HasPrefix(p, "vendor/"):
		// Versioned by their directory's README: safe to keep a day.
		h.Set("Cache-Control", "public, max-age=86400")
	default:
		// Our own files change with the binary: revalidate each time
		// (the embed FS has no modification times, so no 304s).
		h.Set("Cache-Control", "no-cache")
	}
	if p == "m/sw.js" {
		h.Set("Service-Worker-Allowed", "/m/")
	}
	c.fsrv.ServeHTTP(w, r)
}

func exists(root fs.FS, name string) bool {
	_, err := fs.Stat(root, name)
	return err == nil
}
