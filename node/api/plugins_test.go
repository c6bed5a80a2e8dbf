package api

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/fengqiao/fengqiao/plugins/host"
)

// pluginBins builds each test plugin once: the board plugin in testdata
// and the example plugins.
var pluginBins = struct {
	sync.Mutex
	dir   string
	built map[string]error
}{built: map[string]error{}}

// buildPlugin builds the main package pkg (relative to this directory) as
// name, once per test binary, and answers the binary's path.
func buildPlugin(t *testing.T, name, pkg string) string {
	t.Helper()
	pluginBins.Lock()
	defer pluginBins.Unlock()
	if pluginBins.dir == "" {
		dir, err := os.MkdirTemp("", "fengqiao-plugins-")
		if err != nil {
			t.Fatal(err)
		}
		pluginBins.dir = dir
	}
	bin := filepath.Join(pluginBins.dir, name)
	err, done := pluginBins.built[name]
	if !done {
		if out, berr := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); berr != nil {
			err = &buildError{berr, string(out)}
		}
		pluginBins.built[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func buildBoard(t *testing.T) string { return buildPlugin(t, "board", "./testdata/board") }

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// withPlugins runs a plugin manager on the fixture's store with the board
// plugin registered and enabled for the county.
func (f *fixture) withPlugins(t *testing.T) *host.Manager {
	return f.withPlugin(t, "board", buildBoard(t))
}

// withPlugin runs a plugin manager on the fixture's store with the binary
// bin registered as file name and enabled for the county.
func (f *fixture) withPlugin(t *testing.T, name, bin string) *host.Manager {
	t.Helper()
	dir := t.TempDir()
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), raw, 0o755); err != nil {
		t.Fatal(err)
	}
	m := host.NewManager(host.Options{Store: f.b.s, Dir: dir, Node: "only"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	f.api.Plugins = m
	sum, _ := host.FileSHA256(filepath.Join(dir, name))
	v, err := m.Register(ctx, host.Registration{File: name, SHA256: sum, Jurisdictions: []string{"511083"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.EnableWhenReported(ctx, v.Name, v.Version, []string{"only"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); m.Statuses()[v.Name].State != host.StateRunning; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s does not run: %+v", v.Name, m.Statuses())
		}
	}
	return m
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pluginBins.dir != "" {
		os.RemoveAll(pluginBins.dir)
	}
	os.Exit(code)
}

// The catalog and a plugin's own routes over HTTP: listed with their
// state, documented in OpenAPI, served behind the route's permission and
// the caller's scope, and gone once the plugin is disabled.
func TestPluginsOverHTTP(t *testing.T) {
	f := newFixture(t)
	f.withPlugins(t)
	var list pluginsView
	f.do("GET", "/api/v1/plugins", f.sys, nil, &list)
	if len(list.Plugins) != 1 || list.Plugins[0].Active == nil || list.Plugins[0].Status == nil || list.Plugins[0].Status.State != host.StateRunning ||
		len(list.Plugins[0].Reports) != 1 || list.Plugins[0].Node != "only" {
		t.Fatalf("the catalog: %+v", list)
	}
	// Its routes are in the document, which still validates.
	resp, doc := f.do("GET", "/api/v1/openapi.json", "", nil, nil)
	item, _ := doc["paths"].(map[string]any)["/api/v1/plugins/board/items/{id}"].(map[string]any)
	if resp.StatusCode != 200 || item["put"] == nil || item["put"].(map[string]any)["x-permission"] != "act" {
		t.Fatalf("the document lacks the plugin's routes: %v", item)
	}
	raw, _ := json.Marshal(doc)
	if d, err := openapi3.NewLoader().LoadFromData(raw); err != nil || d.Validate(context.Background()) != nil {
		t.Fatalf("the document with plugin routes does not validate: %v", err)
	}
	// Served, with the node's checks.
	var got map[string]any
	if resp, _ := f.do("GET", "/api/v1/plugins/board/board?jurisdiction=511083001", f.town, nil, &got); resp.StatusCode != 200 ||
		got["jurisdiction"] != "511083001" || got["role"] != "township_operator" {
		t.Fatalf("a plugin route: %d %v", resp.StatusCode, got)
	}
	if resp, _ := f.do("PUT", "/api/v1/plugins/board/items/9", f.admin, map[string]any{"n": 1}, &got); resp.StatusCode != 200 ||
		got["params"].(map[string]any)["id"] != "9" || got["jurisdiction"] != "511083" {
		t.Fatalf("a route with a wildcard: %d %v", resp.StatusCode, got)
	}
	if resp, m := f.do("GET", "/api/v1/plugins/board/nothing", f.admin, nil, nil); resp.StatusCode != 404 || m["field"] != "path" {
		t.Fatalf("an unknown plugin route: %d %v", resp.StatusCode, m)
	}
	if resp, m := f.do("POST", "/api/v1/plugins", f.sys, host.Registration{File: "board", SHA256: strings.Repeat("0", 64), Jurisdictions: []string{"511083"}}, nil); resp.StatusCode != 400 ||
		!strings.Contains(fmt.Sprint(m["detail"]), "board") {
		t.Fatalf("registering a binary with the wrong checksum: %d %v", resp.StatusCode, m)
	}
	// Disabled: its routes are gone; enabled again through the API.
	if resp, _ := f.do("POST", "/api/v1/plugins/board/disable", f.sys, nil, nil); resp.StatusCode != 204 {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, _ := f.do("GET", "/api/v1/plugins/board/board", f.admin, nil, nil)
		if resp.StatusCode == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a disabled plugin's route answers %d", resp.StatusCode)
		}
	}
	if resp, m := f.do("POST", "/api/v1/plugins/board/enable", f.sys, enableRequest{Version: "1.0.0"}, nil); resp.StatusCode != 200 || m["version"] != "1.0.0" {
		t.Fatalf("enable: %d %v", resp.StatusCode, m)
	}
	if resp, m := f.do("POST", "/api/v1/plugins/board/enable", f.sys, enableRequest{Version: "2.0.0"}, nil); resp.StatusCode != 404 || m["field"] != "version" {
		t.Fatalf("enabling a version never registered: %d %v", resp.StatusCode, m)
	}
}
