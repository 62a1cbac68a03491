package all

import _ "github.com/iocane/iocane/internal/integrations/webhook" // registers the webhook sink
