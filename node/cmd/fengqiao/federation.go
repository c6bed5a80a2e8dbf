package main

import (
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/federation/exchange"
	"github.com/fengqiao/fengqiao/federation/membership"
)

func federationCmd() *cobra.Command {
	fed := &cobra.Command{Use: "federation", Short: "The federation: pool members, exchange links, gossip keys"}
	var c apiClient
	members := &cobra.Command{Use: "members", Short: "List the federation pool as this node sees it, leaders marked", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Members []membership.Member `json:"members"`
				Leaders map[string]string   `json:"leaders"`
			}
			if err := c.call("GET", "/api/v1/federation/members", nil, &out); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tJURISDICTION\tTIER\tROLE\tTERM\tAPI\tEXCHANGE\tGOSSIP\tVERSION")
			for _, m := range out.Members {
				role := "follower"
				if out.Leaders[m.Jurisdiction] == m.Name {
					role = "leader"
				} else if m.Leader {
					role = "stale-claim" // a deposed leader not yet heard from
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", m.Name, m.Jurisdiction, m.Tier, role, m.Term, m.API, m.Exchange, m.Addr, m.Version)
			}
			return tw.Flush()
		}}
	links := &cobra.Command{Use: "links", Short: "List this jurisdiction's exchange links: depth, lag and refusals", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Links []struct {
					model.LinkState
					Transport *exchange.LinkStats `json:"transport"`
				} `json:"links"`
			}
			if err := c.call("GET", "/api/v1/federation/links", nil, &out); err != nil {
				return err
			}
			sort.Slice(out.Links, func(i, j int) bool { return out.Links[i].Peer < out.Links[j].Peer })
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PEER\tRELATION\tSENT\tACKED\tDEPTH\tOLDEST\tRECEIVED\tREFUSED\tLAST ERROR")
			for _, l := range out.Links {
				oldest, lastErr := "-", ""
				if !l.Oldest.IsZero() {
					oldest = l.Oldest.Format("15:04:05")
				}
				if l.Transport != nil {
					lastErr = l.Transport.LastError
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%d\t%d\t%s\n", l.Peer, l.Relation, l.Sent, l.Acked, l.Depth, oldest, l.Received, l.Refused, lastErr)
			}
			return tw.Flush()
		}}
	for _, cmd := range []*cobra.Command{members, links} {
		addClientFlags(cmd, &c)
		fed.AddCommand(cmd)
	}
	fed.AddCommand(&cobra.Command{Use: "keygen", Short: "Print a new gossip key (base64, 32 bytes) for gossip_keys", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), membership.GenerateKey())
			return err
		}})
	return fed
}
