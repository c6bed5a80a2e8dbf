package sdk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fengqiao/fengqiao/core/model"
	pluginv1 "github.com/fengqiao/fengqiao/plugins/proto/fengqiao/plugin/v1"
	"github.com/fengqiao/fengqiao/plugins/sdk"
)

// What a plugin author imports pulls in neither the engine nor consensus.
func TestSDKIsLight(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/fengqiao/fengqiao/plugins/sdk").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "go.etcd.io/bbolt") || strings.HasPrefix(dep, "github.com/hashicorp/raft") ||
			dep == "github.com/fengqiao/fengqiao/core/state" || dep == "github.com/fengqiao/fengqiao/core" {
			t.Fatalf("plugins/sdk depends on %s", dep)
		}
	}
}

// buildEcho builds the test plugin into a temporary directory.
func buildEcho(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "echo")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/echo")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the test plugin: %v\n%s", err, out)
	}
	return bin
}

// A plugin built on the SDK starts under go-plugin over gRPC although it
// prints to stdout before the handshake, declares the hooks it implements,
// serves them, and refuses the ones it does not.
func TestServeOverGoPlugin(t *testing.T) {
	bin := buildEcho(t)
	logs := &syncBuf{}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{sdk.ProtocolVersion: {sdk.PluginKey: &sdk.GRPCPlugin{}}},
		Cmd:              exec.Command(bin),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     20 * time.Second,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug, JSONFormat: true}),
	})
	defer client.Kill()
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	raw, err := rpc.Dispense(sdk.PluginKey)
	if err != nil {
		t.Fatal(err)
	}
	c := raw.(*sdk.Conn).Plugin
	ctx := context.Background()
	d, err := c.Describe(ctx, &pluginv1.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "echo" || !slices.Equal(d.Hooks, []pluginv1.Hook{pluginv1.Hook_HOOK_VALIDATE_EVENT, pluginv1.Hook_HOOK_ENRICH_EVENT}) ||
		len(d.Categories) != 1 || len(d.Jobs) != 1 || d.Jobs[0].Cron != "0 8 * * *" {
		t.Fatalf("describe: %+v", d)
	}
	report := func(desc string) []byte {
		b, _ := json.Marshal(model.Report{Category: "dispute", Description: desc, Grid: "500110001001001"})
		return b
	}
	v, err := c.ValidateEvent(ctx, &pluginv1.ValidateEventRequest{Report: report("邻里纠纷"), Jurisdiction: "500110"})
	if err != nil || len(v.Problems) != 1 || v.Problems[0].Field != "description" {
		t.Fatalf("validate: %+v %v", v, err)
	}
	if v, err := c.ValidateEvent(ctx, &pluginv1.ValidateEventRequest{Report: report("网格内邻里纠纷")}); err != nil || len(v.Problems) != 0 {
		t.Fatalf("validate a good report: %+v %v", v, err)
	}
	e, err := c.EnrichEvent(ctx, &pluginv1.EnrichEventRequest{Report: report("网格"), Jurisdiction: "500110"})
	if err != nil || e.Urgency != model.UrgencyUrgent || string(e.Ext["echo.seen"]) != "true" {
		t.Fatalf("enrich: %+v %v", e, err)
	}
	if _, err := c.RouteEvent(ctx, &pluginv1.RouteEventRequest{Event: []byte(`{}`)}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("a hook not served: %v", err)
	}
	if _, err := c.ValidateEvent(ctx, &pluginv1.ValidateEventRequest{Report: []byte("{")}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a malformed report: %v", err)
	}
	// The stray line and the plugin's structured log reach the host's log.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got := logs.String()
		if strings.Contains(got, "a stray line on stdout before the handshake") && strings.Contains(got, `"@message":"enriching"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the host's log lacks the plugin's output:\n%s", got)
		}
	}
}

// syncBuf is a buffer the host's logger and the test share.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A plugin exits when the process that started it dies, so a node killed
// with -9 leaves nothing running.
func TestPluginExitsWithItsParent(t *testing.T) {
	bin := buildEcho(t)
	// A shell starts the plugin and reports its pid, then waits; the shell
	// is killed with -9.
	sh := exec.Command("sh", "-c", bin+" & echo $!; wait")
	sh.Env = append(os.Environ(), sdk.Handshake.MagicCookieKey+"="+sdk.Handshake.MagicCookieValue, "PLUGIN_PROTOCOL_VERSIONS=1")
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("pid %q: %v", line, err)
	}
	time.Sleep(500 * time.Millisecond) // let it reach Serve
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the plugin did not start: %v", err)
	}
	sh.Process.Kill()
	sh.Wait()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); err != nil {
			return // gone
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatal("the plugin outlived its parent by 10 s")
		}
	}
}
