package ioc

// validBTC reports whether s is a Bitcoin address. Not implemented yet.
func validBTC(s string) bool { return false }
