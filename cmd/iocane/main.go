// Command iocane enriches indicators of compromise with threat intelligence.
//
// This package is flags, help and exit codes only: one file per subcommand,
// each registering itself with addCommand in init, turning its flags into
// options and making one call into internal/pipeline (or internal/extract).
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/iocane/iocane/internal/pipeline"
	"github.com/spf13/cobra"
)

// Exit statuses (docs/design.md): 0 done, even when some sources failed;
// 1 a run-level failure; 2 bad usage.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

var commands []func() *cobra.Command

// addCommand registers a subcommand constructor; each subcommand file calls
// it from init.
func addCommand(f func() *cobra.Command) { commands = append(commands, f) }

// usageError marks an error as bad usage (exit status 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef returns a usage error.
func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "iocane",
		Short: "Enrich indicators of compromise with threat intelligence",
		Long: `iocane extracts indicators of compromise (IPs, domains, URLs, hashes, e-mail
addresses, CVEs) from any input, asks the threat-intelligence providers you
have keys for, and combines their answers into one explained verdict.

It informs a human decision and never blocks anything by itself. Internal
and reserved addresses are never sent to a third party, and TLP:RED input
goes to no external provider.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath())}
	})
	addGlobalFlags(root)
	for _, f := range commands {
		root.AddCommand(f())
	}
	return root
}

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "iocane:", err)
	if isUsage(err) {
		return exitUsage
	}
	return exitFailure
}

// isUsage reports whether err is bad usage (exit status 2): a flag, an
// argument or the configuration.
func isUsage(err error) bool {
	var ue usageError
	var ce *pipeline.ConfigError
	return errors.As(err, &ue) || errors.As(err, &ce) || isCobraUsage(err)
}

// isCobraUsage recognises cobra's own argument errors (unknown command,
// wrong number of arguments), which it does not type.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires ", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
