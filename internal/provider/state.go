package provider

// State is one provider as configured here: one row of `iocane providers`
// and of GET /v1/providers.
type State struct {
	Name        string        `json:"name"`
	Types       []string      `json:"types"`
	Local       bool          `json:"local"`
	Configured  bool          `json:"configured"`
	Reason      string        `json:"reason,omitempty"` // why not configured
	Rate        string        `json:"rate"`
	Quota       []QuotaWindow `json:"quota"` // never nil
	MaxTLP      string        `json:"max_tlp"`
	Discloses   bool          `json:"discloses"`
	Reliability string        `json:"reliability"`
	BaseURL     string        `json:"base_url,omitempty"`
	// Deferred counts the look-ups waiting in the server's backlog for
	// this provider's budget (see internal/jobs, backlog.go).
	Deferred int `json:"deferred"`
}

// QuotaWindow is a provider's use of one quota window.
type QuotaWindow struct {
	Period    string `json:"period"`
	Limit     int64  `json:"limit"`
	Used      int64  `json:"used"`
	Remaining int64  `json:"remaining"`
	ResetsAt  string `json:"resets_at"` // RFC 3339, UTC
}
