package console

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Result()
}

// The console's files and its two indexes are served with the content
// security policy; nothing else is the console's (the node answers it).
func TestHandlerServesPagesAndFiles(t *testing.T) {
	h := Handler()
	for path, want := range map[string]string{
		"/": "综治中心工作台", "/m/": "网格员",
		"/js/app.js": "hashchange", "/vendor/leaflet/leaflet.js": "Leaflet",
	} {
		resp := get(t, h, path)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, want %q in the answer", path, resp.StatusCode, want)
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, resp.Header)
		}
	}
	for _, path := range []string{"/js/nothing.js", "/vendor/x.css", "/metrics", "/queue", "/m/queue", "/vendor/"} {
		if resp := get(t, h, path); resp.StatusCode != 404 || h.Serves(path) {
			t.Errorf("%s: %d, want 404 and not the console's", path, resp.StatusCode)
		}
	}
	if !h.Serves("/m") || !h.Serves("/js/app.js") {
		t.Error("/m and /js/app.js are the console's")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	if rec.Code != 405 {
		t.Errorf("POST /: %d", rec.Code)
	}
}

// Nothing is loaded from another origin, and no page runs inline script
// (the policy forbids it, so it would silently not run).
func TestNoOtherOriginNoInlineScript(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`)
	inline := regexp.MustCompile(`(?is)<script(?:\s[^>]*)?>\s*[^<\s]`)
	fs.WalkDir(Static(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		b, _ := fs.ReadFile(Static(), p)
		if external.Match(b) {
			t.Errorf("%s loads from another origin", p)
		}
		if m := inline.Find(b); m != nil {
			t.Errorf("%s has an inline script: %s", p, m)
		}
		return nil
	})
}

// Each vendored library is there with its licence, at the version the
// vendor README names.
func TestVendoredWithLicences(t *testing.T) {
	for file, want := range map[string]string{
		"vendor/leaflet/leaflet.js":           "Leaflet 1.9.4",
		"vendor/leaflet/LICENSE":              "Volodymyr Agafonkin",
		"vendor/leaflet.heat/leaflet-heat.js": "heatLayer",
		"vendor/leaflet.heat/LICENSE":         "Vladimir Agafonkin",
		"vendor/echarts/echarts.min.js":       "6.1.0",
		"vendor/echarts/LICENSE":              "Apache License",
		"vendor/echarts/NOTICE":               "Apache ECharts",
	} {
		b, err := fs.ReadFile(Static(), file)
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %v, want %q in it", file, err, want)
		}
	}
}
