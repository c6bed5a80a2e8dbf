package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/fengqiao/fengqiao/node"
)

func demoCmd() *cobra.Command {
	var (
		base, replicas int
		data, level    string
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a Chengdu–Chongqing federation on this machine",
		Long: `demo runs, in one process, the jurisdictions 重庆市 → 綦江区, 荣昌区 and 四川 成都市 → 武侯区,
内江市 → 隆昌市, each county with two townships, all with their real codes and boundaries.
Every jurisdiction is its own Raft group (1 replica, or 3 with --replicas 3); they exchange
escalations, dispatches, rollups, a 荣昌–隆昌 cross-region case and a 武侯→綦江 person handover
over mutual TLS. It prints one line per node: CODE NAME URL. The admin token (dev_root, every
role, development only) is FENGQIAO_TOKEN when set; otherwise a generated one, printed first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log, err := logger(level)
			if err != nil {
				return err
			}
			return node.RunDemo(ctx, node.DemoOptions{BasePort: base, Replicas: replicas, Data: data,
				Token: os.Getenv("FENGQIAO_TOKEN"), Logger: log, Out: cmd.OutOrStdout()})
		},
	}
	cmd.Flags().IntVar(&base, "base-port", 8100, "first API port; exchange ports start 100 above")
	cmd.Flags().IntVar(&replicas, "replicas", 1, "replicas per jurisdiction (1 or 3)")
	cmd.Flags().StringVar(&data, "data", "", "data directory (default: a fresh temporary one, removed on exit)")
	cmd.Flags().StringVar(&level, "log-level", "warn", "debug, info, warn or error")
	return cmd
}
