package main

import (
	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/cortexjob"
)

func init() { addCommand(newCortexCmd) }

func newCortexCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cortex [JOBDIR]",
		Short: "Run as a Cortex analyzer: enrich the job's one observable, write its report",
		Long: `cortex runs iocane as a Cortex analyzer of the process kind. Cortex starts it
with the job directory (default /job, as cortexutils does); it reads
JOBDIR/input/input.json (dataType, data, tlp, pap, config) and writes the
report for that one observable to JOBDIR/output/output.json: success, the
summary's taxonomies (iocane:Score=87, one per provider that answered), the
full result and, as artifacts, the host of a URL or an e-mail address.

Data types: ip, domain, fqdn, url, hash, mail, autonomous-system.

With the config item url (and token) it asks that iocane server; without,
it enriches here, with the keys the config items give (virustotal_api_key,
abuseipdb_api_key, ...) or the environment. The observable's TLP is
honoured: TLP:RED goes to no third party.

On failure output.json is {"success": false, "errorMessage": ...} (config
items named like a key, password, secret or token are REMOVED from the
input it echoes) and the exit status is 1. The analyzer definition is
contrib/cortex/iocane/iocane_Enrich.json.`,
		Example: `  iocane cortex /tmp/cortex-job-42`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dir := "/job"
			if len(args) == 1 {
				dir = args[0]
			}
			return cortexjob.Run(c.Context(), dir, cortexjob.Options{Pipeline: options(c.ErrOrStderr())})
		},
	}
}
