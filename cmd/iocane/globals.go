package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/iocane/iocane/internal/pipeline"
)

// globals are the flags every command shares.
type globals struct {
	config  string
	db      string
	verbose bool
}

var global globals

func addGlobalFlags(c *cobra.Command) {
	c.PersistentFlags().StringVar(&global.config, "config", "", "YAML config `file` (default ./iocane.yaml when present; also IOCANE_CONFIG)")
	c.PersistentFlags().StringVar(&global.db, "db", "", "embedded store `path` (default $XDG_DATA_HOME/iocane/iocane.db; also IOCANE_DB)")
	c.PersistentFlags().BoolVarP(&global.verbose, "verbose", "v", false, "log provider activity to stderr")
}

// options are the pipeline options the global flags give.
func options(stderr io.Writer) pipeline.Options {
	return pipeline.Options{ConfigPath: global.config, DBPath: global.db, Logger: logger(stderr)}
}

// logger logs to stderr when --verbose, else nowhere. Secrets are
// provider.Secret values and print as [redacted] in any case.
func logger(stderr io.Writer) *slog.Logger {
	if !global.verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminalWidth returns the width in columns of the terminal w is, or 0
// when w is not one or its size cannot be read.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return cols
}
