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
	cmd.AddCommand(serve())
	return cmd
}

func serve() *cobra.Command {
	var (
		dev      bool
		httpAddr string
		data     string
		level    string
	)
	cmd := &cobra.Command{
		Use:   "serve --dev",
		Short: "Run a node (only --dev in this build: one replica of 綦江区 500110 with sample data)",
		Long: `serve --dev runs one replica of 綦江区 (500110) with its real townships and villages,
derived grids and sample data, and serves HTTP API v1.

The admin token (center_admin, scope 500110) is FENGQIAO_TOKEN when set; otherwise a
fresh one is generated and printed. Config-file mode (--config) is not in this build yet.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !dev {
				return errors.New("serve needs --dev: config-file mode is not in this build yet")
			}
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(level)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return node.RunDev(ctx, node.DevOptions{
				HTTP:   httpAddr,
				Data:   data,
				Token:  os.Getenv("FENGQIAO_TOKEN"),
				Logger: slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})),
				Out:    cmd.OutOrStdout(),
			})
		},
	}
	cmd.Flags().BoolVar(&dev, "dev", false, "run a single dev replica of 綦江区 with sample data")
	cmd.Flags().StringVar(&httpAddr, "http", "127.0.0.1:8080", "HTTP listen address")
	cmd.Flags().StringVar(&data, "data", "", "data directory (default: a fresh temporary one, removed on exit)")
	cmd.Flags().StringVar(&level, "log-level", "info", "debug, info, warn or error")
	return cmd
}
