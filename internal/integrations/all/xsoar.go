package all

import _ "github.com/iocane/iocane/internal/integrations/xsoar" // registers the xsoar sink
