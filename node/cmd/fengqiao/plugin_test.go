package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/plugins/host"
)

// serve --dev --plugins DIR registers and enables every plugin binary in
// DIR, printing each checksum; the CLI lists them, checks one, and refuses
// a registration whose checksum is wrong, naming the plugin.
func TestServeDevWithPlugins(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	for _, name := range []string{"points", "mediation"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), "../../../examples/plugins/"+name).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", name, err, out)
		}
	}
	const token = "fq_plugin_process_test_token_0123"
	var said []string
	_, url := startDevSaying(t, bin, token, &said, "--plugins", dir)
	for _, name := range []string{"points", "mediation"} {
		sum, _ := host.FileSHA256(filepath.Join(dir, name))
		if !slices.Contains(said, "plugin "+name+" sha256 "+sum) {
			t.Fatalf("serve --dev did not print %s's checksum: %q", name, said)
		}
	}
	cli := func(args ...string) (string, error) {
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), "FENGQIAO_TOKEN="+token)
		out, err := c.CombinedOutput()
		return string(out), err
	}
	var out string
	var err error
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, err = cli("plugin", "list", "--addr", url)
		if err == nil && strings.Count(out, "running") == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin list: %v\n%s", err, out)
		}
	}
	if !strings.Contains(out, "points") || !strings.Contains(out, "dev@1.0.0:ok") {
		t.Fatalf("plugin list:\n%s", out)
	}
	if out, err = cli("plugin", "check", filepath.Join(dir, "points")); err != nil || !strings.Contains(out, "every check passed") {
		t.Fatalf("plugin check: %v\n%s", err, out)
	}
	out, err = cli("plugin", "register", "points", "--sha256", strings.Repeat("0", 64), "--jurisdiction", "500110", "--addr", url)
	if err == nil || !strings.Contains(out, "points") || !strings.Contains(out, "checksum") {
		t.Fatalf("a wrong checksum: %v\n%s", err, out)
	}
	// A plugin's own route, through the node's authentication.
	req, _ := http.NewRequest("GET", url+"/api/v1/plugins/points/leaderboard?jurisdiction=500110", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 400 || body["field"] != "jurisdiction" {
		t.Fatalf("the points plugin asked about a county: %d %v", resp.StatusCode, body)
	}
	if out, err = cli("plugin", "disable", "mediation", "--addr", url); err != nil || !strings.Contains(out, "disabled") {
		t.Fatalf("plugin disable: %v\n%s", err, out)
	}
}
