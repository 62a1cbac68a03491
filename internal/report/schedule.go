package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Schedule is when the server produces the report: once a week on a
// weekday at a time of day, or every day, in a time zone (UTC unless given).
type Schedule struct {
	Daily   bool
	Weekday time.Weekday
	Hour    int
	Minute  int
	Loc     *time.Location
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseSchedule reads "mon 08:00", "daily 06:30" or "fri 17:00
// Europe/Paris": a weekday (three letters or the full name) or "daily", a
// 24-hour time, and optionally an IANA time zone (default UTC).
func ParseSchedule(s string) (Schedule, error) {
	f := strings.Fields(strings.ToLower(s))
	bad := func(why string) (Schedule, error) {
		return Schedule{}, fmt.Errorf("report: schedule %q: %s (want e.g. \"mon 08:00\", \"daily 06:30\" or \"mon 08:00 Europe/Paris\")", s, why)
	}
	if len(f) < 2 || len(f) > 3 {
		return bad("want a day, a time and an optional time zone")
	}
	var sc Schedule
	if f[0] == "daily" {
		sc.Daily = true
	} else {
		wd, ok := weekdays[f[0]]
		if !ok && len(f[0]) > 3 {
			wd, ok = weekdays[f[0][:3]]
			ok = ok && strings.HasPrefix(strings.ToLower(wd.String()), f[0])
		}
		if !ok {
			return bad("unknown day " + strconv.Quote(f[0]))
		}
		sc.Weekday = wd
	}
	hh, mm, ok := strings.Cut(f[1], ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 || len(mm) != 2 {
		return bad("bad time " + strconv.Quote(f[1]))
	}
	sc.Hour, sc.Minute, sc.Loc = h, m, time.UTC
	if len(f) == 3 {
		zone := strings.Fields(s)[2] // zone names are case-sensitive
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return bad("unknown time zone " + strconv.Quote(zone))
		}
		sc.Loc = loc
	}
	return sc, nil
}

// String formats s the way ParseSchedule reads it.
func (s Schedule) String() string {
	day := "daily"
	if !s.Daily {
		day = strings.ToLower(s.Weekday.String()[:3])
	}
	out := fmt.Sprintf("%s %02d:%02d", day, s.Hour, s.Minute)
	if s.Loc != nil && s.Loc != time.UTC {
		out += " " + s.Loc.String()
	}
	return out
}

// Next returns the first scheduled time strictly after t.
func (s Schedule) Next(t time.Time) time.Time {
	loc := s.Loc
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	for d := 0; d <= 8; d++ {
		day := lt.AddDate(0, 0, d)
		at := time.Date(day.Year(), day.Month(), day.Day(), s.Hour, s.Minute, 0, 0, loc)
		if at.After(t) && (s.Daily || at.Weekday() == s.Weekday) {
			return at
		}
	}
	panic("report: no next time for schedule " + s.String()) // unreachable: a week always has the day
}

// Rendered is one report in every format, ready to send or store.
type Rendered struct {
	Title    string
	At       time.Time
	HTML     []byte
	Markdown []byte
	JSON     []byte
}

// Render builds the report ending at at and renders every format.
func Render(ctx context.Context, src Source, o Options, at time.Time) (Rendered, error) {
	o.Now = at
	r, err := Build(ctx, src, o)
	if err != nil {
		return Rendered{}, err
	}
	out := Rendered{Title: r.Title(), At: at}
	for _, f := range []struct {
		format string
		dst    *[]byte
	}{{"html", &out.HTML}, {"md", &out.Markdown}, {"json", &out.JSON}} {
		var b bytes.Buffer
		if err := Write(&b, f.format, r); err != nil {
			return Rendered{}, err
		}
		*f.dst = b.Bytes()
	}
	return out, nil
}

// Sender delivers a scheduled report: to a directory (DirSender), a
// notification channel, or both.
type Sender func(ctx context.Context, r Rendered) error

// DirSender writes each report to dir as iocane-report-YYYY-MM-DD.html,
// .md and .json (the date of the window's end, UTC).
func DirSender(dir string) Sender {
	return func(_ context.Context, r Rendered) error {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		base := filepath.Join(dir, "iocane-report-"+r.At.UTC().Format(time.DateOnly))
		for ext, b := range map[string][]byte{".html": r.HTML, ".md": r.Markdown, ".json": r.JSON} {
			if err := os.WriteFile(base+ext, b, 0o640); err != nil {
				return fmt.Errorf("report: %w", err)
			}
		}
		return nil
	}
}

// Scheduler produces the report at every time of its Schedule and hands it
// to each Sender. A failed report or send is passed to OnError and the
// scheduler waits for the next time: a report is never sent twice, and a
// time missed while the server was down is not made up.
type Scheduler struct {
	Schedule Schedule
	Source   Source
	Options  Options
	Senders  []Sender
	OnError  func(error)
	// OnSent, if set, is called after a report went to every sender.
	OnSent func(Rendered)
}

// Run waits for each scheduled time until ctx ends; it returns ctx's error.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		now := time.Now()
		next := s.Schedule.Next(now)
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if err := s.once(ctx, next); err != nil && s.OnError != nil {
			s.OnError(err)
		}
	}
}

func (s *Scheduler) once(ctx context.Context, at time.Time) error {
	r, err := Render(ctx, s.Source, s.Options, at)
	if err != nil {
		return err
	}
	var errs []error
	for _, send := range s.Senders {
		if err := send(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && s.OnSent != nil {
		s.OnSent(r)
	}
	return errors.Join(errs...)
}
