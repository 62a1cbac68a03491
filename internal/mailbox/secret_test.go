package mailbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/provider"
)

// TestSecretsNeverPrinted: neither the IMAP password, the XOAUTH2 token
// nor the Graph client secret shows in a log line, an error or a printed
// Config.
func TestSecretsNeverPrinted(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []string

	srv := startIMAP(t, serverOpts{})
	ic := srv.config()
	ic.Password = provider.NewSecret("wrong-" + imapPass)
	ic.XOAUTH2 = provider.Secret{}
	xc := srv.config()
	xc.Password, xc.XOAUTH2 = provider.Secret{}, provider.NewSecret("ya29.xoauth2-token-secret")
	_, gsrv := newFakeGraph(t)
	gc := graphConfig(gsrv)
	gc.ClientSecret = provider.NewSecret("wrong-" + graphSecret)

	for _, c := range []Config{ic, xc, gc} {
		p := newTestPoller(t, c, &fakeQueue{}, Options{Logger: logger, HTTPClient: gsrv.Client()})
		_, err := p.Poll(context.Background())
		if !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("%s: err = %v, want ErrUnauthorized", c.Kind, err)
		}
		errs = append(errs, err.Error())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		p.Run(ctx) // logs the failed poll
		logger.Info("config", "config", c)
		b, _ := json.Marshal(c)
		errs = append(errs, fmt.Sprintf("%v %+v %#v %s", c, c, c, b))
	}
	all := logs.String() + strings.Join(errs, "\n")
	for _, s := range []string{imapPass, "xoauth2-token-secret", graphSecret} {
		if strings.Contains(all, s) {
			t.Errorf("secret %q printed:\n%s", s, all)
		}
	}
	if !strings.Contains(all, provider.Redacted) {
		t.Error("no [redacted] anywhere: the printing paths were not exercised")
	}
}
