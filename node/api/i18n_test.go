package api

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A problem is worded in Chinese when Accept-Language prefers it, in
// English otherwise; field and rule are the same either way.
func TestProblemsInChinese(t *testing.T) {
	f := newFixture(t)
	ask := func(lang string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/events?status=lost", nil)
		req.Header.Set("Authorization", "Bearer "+f.town)
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		return decodeResponse(t, req)
	}
	for _, c := range []struct {
		lang string
		zh   bool
	}{{"zh-CN,zh;q=0.9,en;q=0.8", true}, {"zh", true}, {"zh-Hans-CN", true}, {"en-US,en;q=0.9", false}, {"", false}, {"fr", false}, {"en;q=0.9,zh-CN;q=0.8", false}, {";;;", false}} {
		resp, m := ask(c.lang)
		if resp.StatusCode != 400 || m["field"] != "status" || m["rule"] != "enum" {
			t.Fatalf("%q: %d %v", c.lang, resp.StatusCode, m)
		}
		detail, _ := m["detail"].(string)
		chinese := strings.ContainsRune(detail, '范')
		if chinese != c.zh || (c.zh && m["title"] != "请求有误") || (c.zh != (resp.Header.Get("Content-Language") == "zh-CN")) {
			t.Errorf("Accept-Language %q: title %v, detail %q, Content-Language %q", c.lang, m["title"], detail, resp.Header.Get("Content-Language"))
		}
	}
}

// Every rule the code names has Chinese words.
func TestEveryRuleIsWorded(t *testing.T) {
	rule := regexp.MustCompile(`errs\.(?:Invalid|Conflict|Forbidden)\([^,()]+(?:\([^)]*\))?, "([^"]+)"|Rule: *"([^"]+)"`)
	seen := 0
	for _, dir := range []string{"../../core", "../../node", "../../plugins", "../../federation"} {
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.Contains(path, "testdata") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range rule.FindAllStringSubmatch(string(src), -1) {
				r := m[1] + m[2]
				if strings.Contains(r, ".") {
					continue // a plugin's own rule, in its own words
				}
				seen++
				if _, ok := zhRules[r]; !ok {
					t.Errorf("%s: rule %q has no Chinese words in zhRules", path, r)
				}
			}
			return nil
		})
	}
	if seen < 100 {
		t.Fatalf("found only %d rules: the pattern no longer matches the code", seen)
	}
}

// decodeResponse sends req and decodes its JSON answer.
func decodeResponse(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp, m
}
