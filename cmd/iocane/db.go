package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/pipeline"
)

func init() { addCommand(newDBCmd) }

func newDBCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "db",
		Short: "Manage the store's schema",
	}
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the store's migrations and exit",
		Long: `Migrate brings the store's schema up to this iocane's version and exits.

With store.url (IOCANE_DATABASE_URL) it migrates the PostgreSQL database:
iocane's tables, the job queue's, and River's. Run it once before starting
replicas with "iocane serve --no-migrate"; replicas that start at once and
migrate themselves take turns under an advisory lock, so running it twice
or from several places is safe.

Without store.url it migrates the SQLite file (--db), which every command
also does when it opens the file.`,
		Example: `  IOCANE_DATABASE_URL=postgres://iocane@127.0.0.1:5432/iocane iocane db migrate
  iocane db migrate --db /var/lib/iocane/iocane.db`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			o := options(c.ErrOrStderr())
			s, err := pipeline.LoadSettings(o)
			if err != nil {
				return err
			}
			where, err := pipeline.Migrate(c.Context(), s, o.DBPath)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "migrated %s: the schema is current\n", where)
			return nil
		},
	}
	c.AddCommand(migrate)
	return c
}
