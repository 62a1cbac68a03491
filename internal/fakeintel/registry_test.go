package fakeintel

import (
	"testing"

	"github.com/iocane/iocane/internal/provider"
	_ "github.com/iocane/iocane/internal/provider/all"
)

// Every registered provider that talks to a network API has a fake: a
// provider added without one fails here, not in an end-to-end test that
// silently skips it.
func TestEveryNetworkProviderHasAFake(t *testing.T) {
	n := 0
	for _, s := range provider.All() {
		if s.Local {
			continue
		}
		n++
		if _, ok := apis[s.Name]; !ok {
			t.Errorf("provider %s is registered but internal/fakeintel has no fake of its API", s.Name)
		}
	}
	if n != len(apis) {
		t.Errorf("%d network providers registered, %d fakes: a fake serves a provider that is not registered", n, len(apis))
	}
}
