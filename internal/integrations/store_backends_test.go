package integrations

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/dbx"
	"github.com/iocane/iocane/internal/dbx/pgtest"
	"github.com/iocane/iocane/internal/store"
)

// TestStoreBackends runs the write-back record against both of the
// store's backends: SQLite and PostgreSQL (OpenWriter's pool, the dialect
// told from its driver).
func TestStoreBackends(t *testing.T) {
	for _, b := range []string{"sqlite", "postgres"} {
		t.Run(b, func(t *testing.T) {
			ctx := context.Background()
			var (
				db  *store.DB
				err error
			)
			if b == "sqlite" {
				db, err = store.Open(ctx, filepath.Join(t.TempDir(), "iocane.db"))
			} else {
				db, err = store.OpenURL(ctx, pgtest.NewDatabase(t), store.URLOptions{})
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			w, err := db.OpenWriter()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			st := NewStore(w)
			if st.dialect != db.Dialect() {
				t.Fatalf("dialect %v, store's %v", st.dialect, db.Dialect())
			}
			r, err := db.OpenReader()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			if ok, err := HasOutcomes(ctx, r); err != nil || ok {
				t.Fatalf("fresh store has outcomes: %v %v", ok, err)
			}

			t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			o := Outcome{JobID: "j1", Sink: "thehive", Kind: KindWriteBack, AlertSystem: "splunk", AlertID: "s1", Received: t0, StartedAt: t0.Add(time.Second)}
			if _, started, err := st.begin(ctx, o); err != nil || !started {
				t.Fatalf("begin: %v %v", started, err)
			}
			if prev, started, err := st.begin(ctx, o); err != nil || started || prev.State != StatePending {
				t.Fatalf("second begin: %+v %v %v", prev, started, err)
			}
			if err := st.attempt(ctx, "j1", "thehive", 2, "http 503"); err != nil {
				t.Fatal(err)
			}
			if p, _ := st.Pending(ctx); len(p) != 1 || p[0].Attempts != 2 || p[0].Error != "http 503" {
				t.Errorf("pending %+v", p)
			}
			pr := st.Progress("j1", "thehive")
			if err := pr.Mark(ctx, "case", "c-1"); err != nil {
				t.Fatal(err)
			}
			if err := pr.Mark(ctx, "case", "c-2"); err != nil {
				t.Fatal(err)
			}
			if v, ok, err := pr.Done(ctx, "case"); err != nil || !ok || v != "c-2" {
				t.Errorf("done %q %v %v", v, ok, err)
			}
			if _, ok, _ := pr.Done(ctx, "observable"); ok {
				t.Error("an unmarked step is done")
			}
			o.State, o.Attempts, o.Finished = StateOK, 3, t0.Add(time.Minute)
			if err := st.finish(ctx, o); err != nil {
				t.Fatal(err)
			}
			got, err := st.Outcome(ctx, "j1", "thehive")
			if err != nil || !got.OK || got.Retries != 2 || !got.Finished.Equal(t0.Add(time.Minute)) || !got.Received.Equal(t0) || got.AlertID != "s1" {
				t.Errorf("outcome %+v, %v", got, err)
			}
			if _, err := st.Outcome(ctx, "j1", "slack"); err != ErrNoOutcome {
				t.Errorf("missing outcome: %v", err)
			}
			if steps, err := st.Steps(ctx, "j1", "thehive"); err != nil || steps["case"] != "c-2" {
				t.Errorf("steps %v %v", steps, err)
			}
			if outs, err := st.JobOutcomes(ctx, "j1"); err != nil || len(outs) != 1 {
				t.Errorf("job outcomes %+v %v", outs, err)
			}
			outs, recorded, err := ReadOutcomesDB(ctx, r, t0, t0.Add(time.Hour))
			if err != nil || !recorded || len(outs) != 1 || outs[0].Attempts != 3 {
				t.Errorf("ReadOutcomesDB %+v %v %v", outs, recorded, err)
			}
			if outs, _, _ := ReadOutcomesDB(ctx, r, t0.Add(time.Hour), t0.Add(2*time.Hour)); len(outs) != 0 {
				t.Errorf("outside the window: %+v", outs)
			}
			if b == "postgres" && dialectOf(r) != dbx.Postgres {
				t.Error("the reader's dialect")
			}
		})
	}
}
