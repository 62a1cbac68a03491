package ioc

import "strings"

// Related returns the IOCs i holds: the host of a URL (a domain or an IP
// address) and the domain of an e-mail address. Other types hold none.
func Related(i IOC) []IOC {
	switch i.Type {
	case URL:
		if u, ok := splitURL(i.Value); ok && u.host.Value != "" {
			return []IOC{u.host}
		}
	case Email:
		if at := strings.LastIndexByte(i.Value, '@'); at >= 0 {
			if d, err := Parse(i.Value[at+1:]); err == nil {
				return []IOC{d}
			}
		}
	}
	return nil
}
