package host

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fengqiao/fengqiao/core/model"
)

// build compiles a test plugin and returns its path and checksum.
func build(t *testing.T, pkg string) (string, string) { return buildTB(t, pkg) }

func buildTB(t testing.TB, pkg string) (string, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, out)
	}
	sum, err := FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	return bin, sum
}

func TestStartChecksumAndCalls(t *testing.T) {
	bin, sum := build(t, "../sdk/testdata/echo")
	p, err := Start(context.Background(), Config{Name: "echo", Path: bin, SHA256: sum,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	if p.Desc.Name != "echo" || len(p.Desc.Hooks) != 2 {
		t.Fatalf("describe: %+v", p.Desc)
	}
	v, err := p.ValidateEvent(context.Background(), &model.Report{Category: "dispute", Description: "邻里纠纷"}, "500110")
	if err != nil || len(v) != 1 {
		t.Fatalf("validate: %+v %v", v, err)
	}
	// A wrong checksum starts nothing and names the plugin.
	_, err = Start(context.Background(), Config{Name: "echo-copy", Path: bin, SHA256: strings.Repeat("0", 64)})
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "echo-copy") {
		t.Fatalf("a wrong checksum: %v", err)
	}
	if _, err := Start(context.Background(), Config{Name: "x", Path: bin, SHA256: "not hex"}); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("a malformed checksum: %v", err)
	}
}

// A call has a deadline: a plugin that hangs costs the caller its deadline,
// not more, and the error names the plugin.
func TestCallDeadline(t *testing.T) {
	bin, sum := build(t, "./testdata/slow")
	p, err := Start(context.Background(), Config{Name: "slow", Path: bin, SHA256: sum, CallTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	t0 := time.Now()
	_, err = p.ValidateEvent(context.Background(), &model.Report{}, "")
	took := time.Since(t0)
	if err == nil || !strings.Contains(err.Error(), "plugin slow") ||
		status.Code(errors.Unwrap(err)) != codes.DeadlineExceeded && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a hanging call: %v", err)
	}
	if took > 5*time.Second { // 300 ms, and a loaded machine's scheduling
		t.Fatalf("the deadline of 300 ms took %s", took)
	}
}

// TestMain doubles as a node for TestPluginDiesWithTheNode: with the
// helper variable set it starts a plugin, prints its pid and waits.
func TestMain(m *testing.M) {
	if os.Getenv("FENGQIAO_HOST_HELPER") != "" {
		p, err := Start(context.Background(), Config{Name: "echo", Path: os.Getenv("FENGQIAO_HOST_HELPER"), SHA256: os.Getenv("FENGQIAO_HOST_SUM")})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(p.client.ReattachConfig().Pid)
		select {}
	}
	goleak.VerifyTestMain(m,
		// go-plugin polls a reattached plugin's pid once a second until it
		// is gone; the test stops the process, the poll ends a tick later.
		goleak.IgnoreTopFunction("github.com/hashicorp/go-plugin/internal/cmdrunner.pidWait"),
		goleak.Cleanup(func(code int) {
			if regionBins.dir != "" {
				os.RemoveAll(regionBins.dir)
			}
			os.Exit(code)
		}))
}

// A node killed with -9 leaves no plugin running: the kernel's parent-death
// signal ends it (go-plugin #10).
func TestPluginDiesWithTheNode(t *testing.T) {
	bin, sum := build(t, "../sdk/testdata/echo")
	node := exec.Command(os.Args[0], "-test.run", "^$")
	node.Env = append(os.Environ(), "FENGQIAO_HOST_HELPER="+bin, "FENGQIAO_HOST_SUM="+sum)
	out, _ := node.StdoutPipe()
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	pid, perr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || perr != nil {
		node.Process.Kill()
		t.Fatalf("the node said %q: %v %v", line, err, perr)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the plugin is not running: %v", err)
	}
	node.Process.Signal(syscall.SIGKILL)
	node.Wait()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatal("the plugin outlived the node killed with -9")
		}
	}
}
