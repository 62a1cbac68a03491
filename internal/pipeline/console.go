package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/iocane/iocane/internal/console"
	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/report"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/server"
	"github.com/iocane/iocane/internal/store"
)

// mountConsole puts the analyst console (internal/console) at /ui/ on srv,
// reading the same queue, store, engine and metrics as the API.
func (p *Pipeline) mountConsole(srv *server.Server, q *jobs.SQLiteQueue, metrics *server.Metrics, log *slog.Logger) error {
	since, err := report.ParseSince(p.Settings.Report.Since)
	if err != nil {
		return configErr(err)
	}
	ui, err := console.New(console.Options{
		Auth: func(secret string) (console.Identity, bool) {
			name, scopes, ok := srv.Identify(secret)
			return console.Identity{Name: name, Scopes: scopes}, ok
		},
		Allow:   srv.TokenWait,
		Jobs:    q,
		Preview: p.Engine.Preview,
		Latest: func(ctx context.Context, i ioc.IOC) (result.Result, bool, error) {
			r, err := p.Store.LatestResult(ctx, string(i.Type), i.Value)
			if errors.Is(err, store.ErrNotFound) {
				return r, false, nil
			}
			return r, err == nil, err
		},
		History: func(ctx context.Context, i ioc.IOC, limit int) (history.Report, error) {
			return p.Store.HistoryReport(ctx, i, limit, time.Now())
		},
		Providers: p.Providers,
		Health: func() map[string]console.ProviderHealth {
			out := map[string]console.ProviderHealth{}
			for name, h := range metrics.ProviderHealth() {
				out[name] = console.ProviderHealth(h)
			}
			return out
		},
		Report: func(ctx context.Context) (*report.Report, error) {
			return p.Report(ctx, time.Now(), since)
		},
		DefaultTLP: p.Settings.Config.TLP,
		MaxBody:    p.Settings.Server.MaxBody,
		Logger:     log,
	})
	if err != nil {
		return err
	}
	srv.Mount("/ui/", ui.Handler())
	srv.Mount("GET /{$}", http.RedirectHandler("/ui/", http.StatusSeeOther))
	return nil
}
