package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/pipeline"
	"github.com/iocane/iocane/internal/provider"
)

func init() { addCommand(newCacheCmd) }

func newCacheCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "cache",
		Short: "Inspect or purge the provider answer cache",
	}
	var prov string
	var olderThan time.Duration
	purge := &cobra.Command{
		Use:   "purge",
		Short: "Delete cached provider answers",
		Long: `Purge deletes cached answers from the store, so the next run asks the
providers again (and spends quota doing so). Expired entries are always
removed. With no flags, every entry goes.`,
		Example: `  iocane cache purge
  iocane cache purge --provider virustotal
  iocane cache purge --older-than 168h`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if prov != "" {
				if _, ok := provider.Get(prov); !ok {
					return usagef("--provider: unknown provider %q", prov)
				}
			}
			if olderThan < 0 {
				return usagef("--older-than must be positive")
			}
			return withStore(c, func(p *pipeline.Pipeline) error {
				n, err := p.Store.PurgeCache(c.Context(), prov, olderThan)
				if err != nil {
					return err
				}
				noun := "cached answers"
				if n == 1 {
					noun = "cached answer"
				}
				fmt.Fprintf(c.OutOrStdout(), "purged %d %s from %s\n", n, noun, p.Store.Path())
				return nil
			})
		},
	}
	purge.Flags().StringVar(&prov, "provider", "", "only this provider's answers")
	purge.Flags().DurationVar(&olderThan, "older-than", 0, "only answers stored longer ago than this, e.g. 24h")
	stats := &cobra.Command{
		Use:   "stats",
		Short: "Count live cached answers per provider",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withStore(c, func(p *pipeline.Pipeline) error {
				sizes, err := p.Store.CacheSize(c.Context())
				if err != nil {
					return err
				}
				for _, s := range provider.All() {
					if n := sizes[s.Name]; n > 0 {
						fmt.Fprintf(c.OutOrStdout(), "%-14s %d\n", s.Name, n)
					}
				}
				return nil
			})
		},
	}
	c.AddCommand(purge, stats)
	return c
}
