package model

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// goList runs go list in the module with the given arguments.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

// The model is what a plugin author imports: it must pull in neither the
// storage engine nor consensus.
func TestModelPullsInNeitherBboltNorRaft(t *testing.T) {
	for _, dep := range goList(t, "-deps", "github.com/fengqiao/fengqiao/core/model") {
		if strings.HasPrefix(dep, "go.etcd.io/bbolt") || strings.HasPrefix(dep, "github.com/hashicorp/raft") {
			t.Fatalf("core/model depends on %s", dep)
		}
	}
}

// bboltImporters are the only packages that may import bbolt directly.
var bboltImporters = []string{
	"github.com/fengqiao/fengqiao/core/state",
	"github.com/fengqiao/fengqiao/federation/raftstore",
}

func TestOnlyTheEngineAndTheLogStoreImportBbolt(t *testing.T) {
	lines := goList(t, "-f", `{{.ImportPath}}:{{join .Imports ","}}`, "github.com/fengqiao/fengqiao/...")
	for _, l := range lines {
		pkg, imports, _ := strings.Cut(l, ":")
		if slices.Contains(strings.Split(imports, ","), "go.etcd.io/bbolt") && !slices.Contains(bboltImporters, pkg) {
			t.Fatalf("%s imports bbolt; only %v may", pkg, bboltImporters)
		}
	}
}

// The dependency direction of DESIGN.md: core imports none of federation,
// plugins/host and node; federation imports neither node nor plugins/host.
func TestDependencyDirection(t *testing.T) {
	const mod = "github.com/fengqiao/fengqiao/"
	rules := map[string][]string{
		mod + "core/...":       {mod + "federation", mod + "plugins/host", mod + "node"},
		mod + "federation/...": {mod + "node", mod + "plugins/host"},
		mod + "plugins/sdk":    {mod + "core/state", mod + "federation", mod + "node"},
	}
	for pattern, banned := range rules {
		for _, l := range goList(t, "-deps", "-f", "{{.ImportPath}}", pattern) {
			for _, b := range banned {
				if l == b || strings.HasPrefix(l, b+"/") {
					t.Errorf("%s pulls in %s", pattern, l)
				}
			}
		}
	}
}
