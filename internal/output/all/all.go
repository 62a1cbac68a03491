// Package all imports every output format so that output.New knows them.
package all

import (
	_ "github.com/iocane/iocane/internal/output/cortex"
	_ "github.com/iocane/iocane/internal/output/csv"
	_ "github.com/iocane/iocane/internal/output/dbot"
	_ "github.com/iocane/iocane/internal/output/json"
	_ "github.com/iocane/iocane/internal/output/misp"
	_ "github.com/iocane/iocane/internal/output/stix"
	_ "github.com/iocane/iocane/internal/output/table"
)
