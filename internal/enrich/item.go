package enrich

import (
	"maps"

	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/tlp"
)

// ItemFrom turns an IOC read from an input into an Item. Its marking is
// level (the run's or job's), or the input's own marking for the IOC when
// that is stricter; an unknown marking counts as RED. Where the IOC was
// found and its defanged original join its context as "path" and "raw".
func ItemFrom(in input.Item, level tlp.Level) Item {
	if in.TLP != "" {
		if own, _ := tlp.Parse(in.TLP); own > level {
			level = own
		}
	}
	c := in.Context
	if in.Path != "" || in.Raw != "" {
		c = make(map[string]string, len(in.Context)+2)
		maps.Copy(c, in.Context)
		if in.Path != "" {
			c["path"] = in.Path
		}
		if in.Raw != "" {
			c["raw"] = in.Raw
		}
	}
	return Item{IOC: in.IOC, TLP: level, Context: c}
}
