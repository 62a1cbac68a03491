package all

import _ "github.com/iocane/iocane/internal/integrations/thehive" // registers the thehive sink
