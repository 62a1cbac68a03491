package safebrowsing

import "strings"

// The Lookup API's request and response bodies.

type findRequest struct {
	Client     clientInfo `json:"client"`
	ThreatInfo threatInfo `json:"threatInfo"`
}

type clientInfo struct {
	ClientID      string `json:"clientId"`
	ClientVersion string `json:"clientVersion"`
}

type threatInfo struct {
	ThreatTypes      []string      `json:"threatTypes"`
	PlatformTypes    []string      `json:"platformTypes"`
	ThreatEntryTypes []string      `json:"threatEntryTypes"`
	ThreatEntries    []threatEntry `json:"threatEntries"`
}

type threatEntry struct {
	URL string `json:"url"`
}

// findResponse is {} when nothing matches.
type findResponse struct {
	Matches []match `json:"matches,omitempty"`
}

type match struct {
	ThreatType          string      `json:"threatType"`
	PlatformType        string      `json:"platformType"`
	ThreatEntryType     string      `json:"threatEntryType"`
	Threat              threatEntry `json:"threat"`
	ThreatEntryMetadata struct {
		Entries []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"entries,omitempty"`
	} `json:"threatEntryMetadata"`
	CacheDuration string `json:"cacheDuration,omitempty"`
}

// apiError is Google's standard error body.
type apiError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Reason string `json:"reason"`
		} `json:"details"`
	} `json:"error"`
}

// keyInvalid reports whether the error says the API key is not valid.
func (e apiError) keyInvalid() bool {
	for _, d := range e.Error.Details {
		if d.Reason == "API_KEY_INVALID" {
			return true
		}
	}
	return strings.Contains(e.Error.Message, "API key not valid")
}
