package score

import (
	"fmt"

	"github.com/knadh/koanf/v2"

	"github.com/iocane/iocane/internal/settings"
)

// Section is the config section the score policy is read from.
const Section = "scoring"

// LoadPolicy reads the scoring section of k over DefaultPolicy and
// validates it. A key the policy has no field for is an
// *settings.UnknownKeyError.
func LoadPolicy(k *koanf.Koanf) (Policy, error) {
	p := DefaultPolicy()
	if err := settings.Decode(k, Section, &p); err != nil {
		return p, settings.Wrap("config: ", err)
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("config: %s: %w", Section, err)
	}
	return p, nil
}
