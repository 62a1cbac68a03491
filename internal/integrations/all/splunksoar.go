package all

import _ "github.com/iocane/iocane/internal/integrations/splunksoar" // registers the splunksoar sink
