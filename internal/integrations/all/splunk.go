// Package all registers every write-back sink: import it for its side
// effect, one file per sink.
package all

import _ "github.com/iocane/iocane/internal/integrations/splunk" // registers the splunk sink
