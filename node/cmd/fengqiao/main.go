// Command fengqiao runs a Fengqiao node.
//
//	fengqiao serve --dev [--http 127.0.0.1:8080] [--data DIR]
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/fengqiao/fengqiao/node"
)

func main() {
	if err := root().Execute(); err != nil {
		os.Exit(1)
	}
}

func root() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "fengqiao",
		Short:         "枫桥 — grid-based social governance node",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	cmd.AddCommand(serve(), keygen(), keysCmd(), operator(), backupCmd(), restoreCmd(), auditCmd(), tlsCmd(), importCmd(), tokenCmd(), demoCmd(), federationCmd(), pluginCmd(), doctorCmd())
	return cmd
}

func serve() *cobra.Command {
	var (
		dev      bool
		config   string
		httpAddr string
		data     string
		level    string
		plugins  string
	)
	cmd := &cobra.Command{
		Use:   "serve (--dev | --config FILE)",
		Short: "Run a node",
		Long: `serve --dev runs one replica of 綦江区 (500110) with its real townships and villages,
derived grids and sample data, and serves HTTP API v1. The admin token (dev_root: every
role, accepted only in development mode; scope 500110) is FENGQIAO_TOKEN when set; otherwise
a fresh one is generated and printed.

serve --config FILE runs one replica of a jurisdiction's Raft group as the JSON config says
(node_id, jurisdiction, data_dir, http, raft, key_file, peers, log_level; unknown keys are
errors). On first start the leader loads the county and, if FENGQIAO_TOKEN is set, issues it
as the bootstrap token: a security_admin's, which expires after bootstrap_token_hours (24)
and issues the system_admin, audit_admin and center_admin tokens (三员分立).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dev == (config != "") {
				return errors.New("serve needs exactly one of --dev and --config FILE")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if config != "" {
				c, err := node.LoadConfig(config)
				if err != nil {
					return err
				}
				if c.LogLevel != "" {
					level = c.LogLevel
				}
				log, err := logger(level)
				if err != nil {
					return err
				}
				return node.Run(ctx, c, node.RunOptions{Logger: log, Out: cmd.OutOrStdout(), AdminToken: os.Getenv("FENGQIAO_TOKEN"),
					AdminTOTP: os.Getenv("FENGQIAO_TOTP_SECRET")})
			}
			log, err := logger(level)
			if err != nil {
				return err
			}
			return node.RunDev(ctx, node.DevOptions{
				HTTP:    httpAddr,
				Data:    data,
				Token:   os.Getenv("FENGQIAO_TOKEN"),
				Logger:  log,
				Out:     cmd.OutOrStdout(),
				Plugins: plugins,
			})
		},
	}
	cmd.Flags().BoolVar(&dev, "dev", false, "run a single dev replica of 綦江区 with sample data")
	cmd.Flags().StringVar(&config, "config", "", "run from a JSON config file")
	cmd.Flags().StringVar(&httpAddr, "http", "127.0.0.1:8080", "HTTP listen address")
	cmd.Flags().StringVar(&data, "data", "", "data directory (default: a fresh temporary one, removed on exit)")
	cmd.Flags().StringVar(&level, "log-level", "info", "debug, info, warn or error")
	cmd.Flags().StringVar(&plugins, "plugins", "", "with --dev: register and enable every plugin binary in this directory (checksums taken on start)")
	return cmd
}

func logger(level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})), nil
}
