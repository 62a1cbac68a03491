package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// stallingSession is an in-memory IMAP session whose MOVE never completes
// while stall is set: the poller is caught between storing the job and
// moving the message.
type stallingSession struct {
	imapserver.Session
	stall *atomic.Bool
}

func (s stallingSession) Move(w *imapserver.MoveWriter, ns imap.NumSet, dest string) error {
	if s.stall.Load() {
		time.Sleep(time.Minute) // the poller is killed meanwhile
		return errors.New("connection gone")
	}
	return s.Session.(imapserver.SessionMove).Move(w, ns, dest)
}

// TestMailboxKill9BetweenJobAndMove (issue 13, acceptance 1): a real
// kill -9 of a process polling the mailbox, after it stored the job and
// before the message was moved; the next poll finds the job stored, moves
// the message, and there is still exactly one job.
func TestMailboxKill9BetweenJobAndMove(t *testing.T) {
	if os.Getenv("IOCANE_KILL9_CHILD") == "1" {
		p, err := Open(context.Background(), Options{ConfigPath: os.Getenv("IOCANE_KILL9_CONFIG"), DBPath: os.Getenv("IOCANE_KILL9_DB"),
			Environ: []string{"IOCANE_MAILBOX_REPORTS_PASSWORD=imap-pass-K9!"}, StoreOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.PollMailboxes(context.Background(), "", true, slog.New(slog.DiscardHandler))
		t.Fatalf("the child was not killed: %v", err)
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	var stall atomic.Bool
	stall.Store(true)
	ln, c := memIMAP(t, "imap-pass-K9!", func(s imapserver.Session) imapserver.Session { return stallingSession{s, &stall} })
	appendReport(t, c)

	dir := t.TempDir()
	cfg, db := filepath.Join(dir, "iocane.yaml"), filepath.Join(dir, "iocane.db")
	yaml := fmt.Sprintf("mailboxes:\n  - {name: reports, kind: imap, url: \"imap://%s\", username: phishing@corp.example}\n", ln.Addr())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0], "-test.run=^TestMailboxKill9BetweenJobAndMove$", "-test.count=1")
	child.Env = append(os.Environ(), "IOCANE_KILL9_CHILD=1", "IOCANE_KILL9_CONFIG="+cfg, "IOCANE_KILL9_DB="+db)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	jobsIn := func() int {
		rdb, err := sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(5000)")
		if err != nil {
			return -1
		}
		defer rdb.Close()
		var n int
		if rdb.QueryRow(`SELECT count(*) FROM jobs`).Scan(&n) != nil {
			return -1
		}
		return n
	}
	for deadline := time.Now().Add(30 * time.Second); jobsIn() < 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatal("the child never stored the job")
		}
	}
	time.Sleep(100 * time.Millisecond)           // the child is now inside MOVE
	if err := child.Process.Kill(); err != nil { // SIGKILL: no deferred function runs
		t.Fatal(err)
	}
	child.Wait()
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil || *st.NumMessages != 1 {
		t.Fatalf("after the kill: INBOX %v, %v; want the message still there", st, err)
	}

	stall.Store(false)
	p, err := Open(context.Background(), Options{ConfigPath: cfg, DBPath: db, Environ: []string{"IOCANE_MAILBOX_REPORTS_PASSWORD=imap-pass-K9!"}, StoreOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	stats, err := p.PollMailboxes(context.Background(), "", true, slog.New(slog.DiscardHandler))
	if err != nil || len(stats) != 1 || stats[0].Existing != 1 || stats[0].Submitted != 0 {
		t.Fatalf("the poll after the kill: %+v, %v", stats, err)
	}
	if n := jobsIn(); n != 1 {
		t.Errorf("%d jobs, want exactly 1", n)
	}
	st, _ = c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if *st.NumMessages != 0 {
		t.Errorf("INBOX still has %d messages", *st.NumMessages)
	}
	c.Close()
}

func (s stallingSession) Namespace() (*imap.NamespaceData, error) {
	return s.Session.(imapserver.SessionNamespace).Namespace()
}
