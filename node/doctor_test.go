package node

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core/keyfile"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/federation/tlsutil"
)

// doctorSetup writes a sound three-replica config (TLS, keys, data dir,
// plugin dir) and answers its path and the config.
func doctorSetup(t *testing.T) (string, *Config) {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca")
	if err := tlsutil.NewCA(ca, "doctor CA"); err != nil {
		t.Fatal(err)
	}
	if err := tlsutil.NewReplicaCert(ca, dir, "500110", "n1", []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys.json")
	if err := keyfile.WriteNew(keys, seal.AES256GCM); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "data"), 0o700)
	os.MkdirAll(filepath.Join(dir, "plugins"), 0o755)
	// Peers that answer: listeners standing in for the other replicas.
	var peers []PeerConfig
	for _, id := range []string{"n2", "n3"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		peers = append(peers, PeerConfig{ID: id, Raft: ln.Addr().String(), HTTP: "127.0.0.1:1"})
	}
	free := freePort(t)
	c := &Config{NodeID: "n1", Jurisdiction: "500110", DataDir: filepath.Join(dir, "data"), HTTP: free, Raft: "127.0.0.1:7001",
		KeyFile: keys, PluginDir: filepath.Join(dir, "plugins"),
		Peers: append([]PeerConfig{{ID: "n1", Raft: "127.0.0.1:7001", HTTP: free}}, peers...),
		TLS:   tlsutil.Files{CA: filepath.Join(ca, "ca.pem"), Cert: filepath.Join(dir, "n1.pem"), Key: filepath.Join(dir, "n1-key.pem")}}
	return writeDoctorConfig(t, dir, c), c
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writeDoctorConfig(t *testing.T, dir string, c *Config) string {
	raw, _ := json.MarshalIndent(c, "", "  ")
	path := filepath.Join(dir, "node.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// worst answers the worst level among a check's findings, and their text.
func worst(fs []Finding, check string) (string, string) {
	level, text := "", ""
	rank := map[string]int{"": 0, DoctorOK: 1, DoctorWarn: 2, DoctorFail: 3}
	for _, f := range fs {
		if f.Check == check {
			text += f.Text + "\n"
			if rank[f.Level] > rank[level] {
				level = f.Level
			}
		}
	}
	return level, text
}

func TestDoctorPassesASoundNode(t *testing.T) {
	path, _ := doctorSetup(t)
	for _, f := range Doctor(context.Background(), path) {
		if f.Level != DoctorOK {
			t.Errorf("%s %s: %s", f.Level, f.Check, f.Text)
		}
	}
}

// Each problem is found, named, and says what to do; the doctor changes
// nothing it looks at.
func TestDoctorFindsProblems(t *testing.T) {
	for _, c := range []struct {
		name, check, level, says string
		breakIt                  func(t *testing.T, c *Config)
	}{
		{"keys readable by others", "keys", DoctorWarn, "chmod 600", func(t *testing.T, c *Config) { os.Chmod(c.KeyFile, 0o644) }},
		{"keys missing", "keys", DoctorFail, "fengqiao keygen", func(t *testing.T, c *Config) { os.Remove(c.KeyFile) }},
		{"keys corrupt", "keys", DoctorFail, "does not load", func(t *testing.T, c *Config) { os.WriteFile(c.KeyFile, []byte("{}"), 0o600) }},
		{"certificate of another replica", "tls", DoctorFail, "does not name replica n1", func(t *testing.T, c *Config) {
			dir := filepath.Dir(c.TLS.Cert)
			if err := tlsutil.NewReplicaCert(filepath.Dir(c.TLS.CA), dir, "500110", "n9", []string{"127.0.0.1"}); err != nil {
				t.Fatal(err)
			}
			os.Rename(filepath.Join(dir, "n9.pem"), c.TLS.Cert)
			os.Rename(filepath.Join(dir, "n9-key.pem"), c.TLS.Key)
		}},
		{"certificate from another CA", "tls", DoctorFail, "not signed by", func(t *testing.T, c *Config) {
			other := filepath.Join(t.TempDir(), "other")
			tlsutil.NewCA(other, "other CA")
			os.Rename(filepath.Join(other, "ca.pem"), c.TLS.CA)
		}},
		{"a peer down", "peers", DoctorWarn, "does not answer", func(t *testing.T, c *Config) { c.Peers[1].Raft = freePort(t) }},
		{"quorum lost", "peers", DoctorFail, "no quorum", func(t *testing.T, c *Config) { c.Peers[1].Raft, c.Peers[2].Raft = freePort(t), freePort(t) }},
		{"plugin writable by others", "plugins", DoctorFail, "chmod go-w", func(t *testing.T, c *Config) {
			p := filepath.Join(c.PluginDir, "qijiang")
			os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755)
			os.Chmod(p, 0o777)
		}},
		{"API address taken", "listen", DoctorFail, "not a Fengqiao node", func(t *testing.T, c *Config) {
			ln, err := net.Listen("tcp", c.HTTP)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
		}},
		{"data dir not a directory", "data", DoctorFail, "not a directory", func(t *testing.T, c *Config) {
			os.RemoveAll(c.DataDir)
			os.WriteFile(c.DataDir, nil, 0o600)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path, cfg := doctorSetup(t)
			c.breakIt(t, cfg)
			writeDoctorConfig(t, filepath.Dir(path), cfg)
			before, _ := os.ReadFile(cfg.KeyFile)
			level, text := worst(Doctor(context.Background(), path), c.check)
			if level != c.level || !strings.Contains(text, c.says) {
				t.Errorf("%s: %s %q, want %s saying %q", c.check, level, text, c.level, c.says)
			}
			if after, _ := os.ReadFile(cfg.KeyFile); string(after) != string(before) {
				t.Error("the doctor changed the key file")
			}
		})
	}
	// A config that does not load stops at the first finding, naming the field.
	dir := t.TempDir()
	bad := filepath.Join(dir, "node.json")
	os.WriteFile(bad, []byte(`{"node_id":"n1","data_dir":"/tmp","key_file":"k","http":"nonsense"}`), 0o600)
	fs := Doctor(context.Background(), bad)
	if len(fs) != 1 || fs[0].Level != DoctorFail || fs[0].Check != "config" || !strings.Contains(fs[0].Text, "http") {
		t.Errorf("a bad config: %+v", fs)
	}
}
