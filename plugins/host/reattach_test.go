package host

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
)

// A plugin run by hand for a debugger (FENGQIAO_PLUGIN_DEBUG=1) prints the
// FENGQIAO_PLUGIN_REATTACH value; a node given it talks to that process
// instead of starting one.
func TestReattachToAPluginUnderADebugger(t *testing.T) {
	cmd := exec.Command(regionBin(t, ""))
	cmd.Env = append(os.Environ(), "FENGQIAO_PLUGIN_DEBUG=1")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	sc := bufio.NewScanner(out)
	var value string
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), ReattachEnv+"="); ok {
			value = strings.Trim(v, "'")
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	ra, err := ParseReattach(value)
	if err != nil || ra["region"] == nil {
		t.Fatalf("the printed value %q: %v", value, err)
	}
	p, err := Start(context.Background(), Config{Name: "region", Reattach: ra["region"]})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	problems, err := p.ValidateEvent(context.Background(), &model.Report{Category: "dispute", Description: "拒绝"}, "511083")
	if err != nil || len(problems) != 1 {
		t.Fatalf("a call to the reattached plugin: %v %v", problems, err)
	}
	if _, err := ParseReattach(`{"x":{"Protocol":"netrpc","Addr":{"Network":"unix","String":"/tmp/s"}}}`); err == nil {
		t.Fatal("a netrpc reattach config was accepted")
	}
}
