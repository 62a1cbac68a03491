package all

import _ "github.com/iocane/iocane/internal/provider/feeds"
