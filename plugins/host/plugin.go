package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/fengqiao/fengqiao/core/errs"
	pluginv1 "github.com/fengqiao/fengqiao/plugins/proto/fengqiao/plugin/v1"
	"github.com/fengqiao/fengqiao/plugins/sdk"
)

// Defaults of a plugin's Config.
const (
	DefaultStartTimeout = 10 * time.Second
	DefaultCallTimeout  = 2 * time.Second
	// MaxResponse bounds one answer from a plugin.
	MaxResponse = 4 << 20
)

// ErrChecksum is a plugin binary whose SHA-256 is not the one expected.
var ErrChecksum = errors.New("plugin checksum mismatch")

// Config describes one plugin process.
type Config struct {
	Name   string
	Path   string // the binary, inside the node's plugin directory
	SHA256 string // hex; the binary must hash to it
	Config []byte // the catalog's config, one JSON object, sent with Describe
	// Jurisdictions are those the catalog says it serves, sent with Describe.
	Jurisdictions []string
	Logger        *slog.Logger
	StartTimeout  time.Duration // default DefaultStartTimeout
	CallTimeout   time.Duration // default DefaultCallTimeout, per call
	// Reattach, when set, talks to a plugin already running (under a
	// debugger, FENGQIAO_PLUGIN_REATTACH) instead of starting Path; it
	// skips the checksum, so it is for development only.
	Reattach *plugin.ReattachConfig
	// Host, if set, is served to the plugin over go-plugin's broker.
	Host pluginv1.HostServiceServer
	// Observe, if set, is told of every hook call: its hook, how long it
	// took and its error (metrics).
	Observe func(hook string, took time.Duration, err error)
}

// Plugin is a started plugin.
type Plugin struct {
	cfg     Config
	client  *plugin.Client
	svc     pluginv1.PluginServiceClient
	Desc    *Description
	batch   hookBatchers
	noBatch atomic.Bool // the plugin serves no batch hooks
}

// Start starts the plugin, checks its checksum and protocol version, and
// asks it to describe itself. Every error names the plugin.
func Start(ctx context.Context, cfg Config) (*Plugin, error) {
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	who := cfg.Name // in messages; a binary being registered has no name yet
	if who == "" {
		who = filepath.Base(cfg.Path)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cc := &plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{sdk.ProtocolVersion: {sdk.PluginKey: &sdk.GRPCPlugin{}}},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     cfg.StartTimeout,
		GRPCDialOptions:  []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxResponse))},
		Logger:           hclog.New(&hclog.LoggerOptions{Name: who, Output: &slogWriter{log: cfg.Logger, plugin: who}, JSONFormat: true, Level: hclog.Info}),
	}
	if cfg.Reattach != nil {
		cc.Reattach = cfg.Reattach
		// go-plugin negotiates no version on reattach: name the set.
		cc.Plugins = cc.VersionedPlugins[sdk.ProtocolVersion]
	} else {
		sum, err := hex.DecodeString(cfg.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return nil, errs.Invalid("sha256", "format", "plugin %s: the checksum must be 64 hex digits", who)
		}
		// go-plugin checks the checksum too, as it starts the binary;
		// reading it first gives a clear error and starts nothing.
		if got, err := FileSHA256(cfg.Path); err != nil {
			return nil, fmt.Errorf("plugin %s: %w", who, err)
		} else if got != cfg.SHA256 {
			return nil, fmt.Errorf("plugin %s: %s hashes to %s, not %s: %w", who, cfg.Path, got, cfg.SHA256, ErrChecksum)
		}
		cmd := exec.Command(cfg.Path)
		ownGroup(cmd)
		cc.Cmd = cmd
		cc.SecureConfig = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
		cc.AutoMTLS = true
	}
	client := plugin.NewClient(cc)
	p := &Plugin{cfg: cfg, client: client}
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("plugin %s: start: %w", who, err)
	}
	raw, err := rpc.Dispense(sdk.PluginKey)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("plugin %s: %w", who, err)
	}
	conn := raw.(*sdk.Conn)
	p.svc = conn.Plugin
	p.initBatchers()
	var hostID uint32
	if cfg.Host != nil {
		hostID = conn.Broker.NextId()
		go conn.Broker.AcceptAndServe(hostID, func(opts []grpc.ServerOption) *grpc.Server {
			s := grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(1<<20))...)
			pluginv1.RegisterHostServiceServer(s, cfg.Host)
			return s
		})
	}
	cctx, cancel := context.WithTimeout(ctx, cfg.CallTimeout)
	defer cancel()
	d, err := p.svc.Describe(cctx, &pluginv1.DescribeRequest{Config: cfg.Config, HostService: hostID, Jurisdictions: cfg.Jurisdictions})
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("plugin %s: describe: %w", who, err)
	}
	if p.Desc, err = decodeDescription(cfg.Name, d); err != nil {
		client.Kill()
		return nil, err
	}
	if p.cfg.Name == "" { // a binary being registered or checked: now it has a name
		p.cfg.Name = p.Desc.Name
	}
	return p, nil
}

// Ping asks the plugin's process whether it still answers (go-plugin's
// health service).
func (p *Plugin) Ping() error {
	c, err := p.client.Client()
	if err != nil {
		return fmt.Errorf("plugin %s: %w", p.cfg.Name, err)
	}
	if err := c.Ping(); err != nil {
		return fmt.Errorf("plugin %s: ping: %w", p.cfg.Name, err)
	}
	return nil
}

// Exited reports whether the plugin's process has ended.
func (p *Plugin) Exited() bool { return p.client.Exited() }

// Kill stops the plugin's process. A reattached plugin belongs to whoever
// started it: only the connection to it is closed.
func (p *Plugin) Kill() {
	if p.cfg.Reattach != nil {
		if c, err := p.client.Client(); err == nil {
			c.Close()
		}
	}
	p.client.Kill()
}

// FileSHA256 is the hex SHA-256 of a file.
func FileSHA256(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}
