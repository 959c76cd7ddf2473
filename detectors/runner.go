package detectors

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/ratioguard/ratioguard/ingest/rollup"
)

// All returns every detector in the order a pass runs them (invite trees
// last: they read the reports the others just wrote).
func All() []Detector {
	return []Detector{
		FakedUpload{},
		MultiIP{},
		AccountSelling{},
		LeakedPasskey{},
		CloudLeech{},
		GhostLeecher{},
		NexusPHP{},
		InviteTree{},
	}
}

// ByName returns the detectors with the given names (all for none).
func ByName(names []string) ([]Detector, error) {
	all := All()
	if len(names) == 0 {
		return all, nil
	}
	idx := map[string]Detector{}
	for _, d := range all {
		idx[d.Name()] = d
	}
	var out []Detector
	for _, n := range names {
		d, ok := idx[n]
		if !ok {
			return nil, fmt.Errorf("unknown detector %q", n)
		}
		out = append(out, d)
	}
	return out, nil
}

// Runner runs detectors over a window and stores what they find.
type Runner struct {
	Env       *Env
	Store     *Store // nil: findings are only returned
	Detectors []Detector
	Torrents  *TorrentSync // nil: sizes come from `left` only
	// Rollups rebuilds stale rollup hours before each pass (nil: the
	// caller keeps them current).
	Rollups *rollup.Builder
}

// RunStats is one detector's share of a pass.
type RunStats struct {
	Detector   string        `json:"detector"`
	From       time.Time     `json:"from"`
	Until      time.Time     `json:"until"`
	Findings   int           `json:"findings"`
	Exempted   int           `json:"exempted"`
	Inserted   int           `json:"inserted"`
	Updated    int           `json:"updated"`
	Touched    int           `json:"touched"`
	Suppressed int           `json:"suppressed"`
	Duration   time.Duration `json:"duration_ns"`
	Err        string        `json:"error,omitempty"`
	Skipped    bool          `json:"skipped,omitempty"` // a Periodic detector not due in this incremental pass
	Rebuilt    int           `json:"rebuilt,omitempty"` // rollup_refresh: (hour, rollup) pairs rebuilt
	// Subjects is how many members a Triggered detector re-evaluated in an
	// incremental pass (absent: every active member, or a full pass).
	Subjects *int `json:"subjects,omitempty"`
}

// CadenceOffset is where a Periodic detector's boundaries fall within its
// cadence: a hash of its name (FNV-1a) modulo the cadence, in whole seconds
// — for the hourly ones account_selling at 26m55s past the hour and
// ghost_leecher at 4m09s — so the hourly work of the detectors (and the
// swarm-balance fit, made on the clock hour) lands on different passes
// instead of all on the first pass after the hour.
func CadenceOffset(name string, cadence time.Duration) time.Duration {
	secs := uint64(cadence / time.Second)
	if secs == 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	return time.Duration(h.Sum64()%secs) * time.Second
}

// periodicWindow decides whether a Periodic detector runs in an incremental
// pass (ActiveSince after From) and widens its active members to everyone
// since the previous boundary when it does (the boundaries are the
// multiples of its cadence shifted by CadenceOffset). prev is the previous
// pass's end (zero: unknown, ActiveSince stands for it): the detector is due
// when (prev, Until] crosses a boundary, so the re-read of the previous step
// (ingest lag) does not run it a second time; its members then reach back
// that re-read span before the previous boundary too, so the rows of the
// previous period that landed late are judged.
func periodicWindow(d Detector, cfg *Config, w Window, prev time.Time) (Window, bool) {
	pd, ok := d.(Periodic)
	if !ok || !w.ActiveSince.After(w.From) {
		return w, true
	}
	c := pd.Cadence(cfg)
	if c <= 0 {
		return w, true
	}
	last := w.ActiveSince
	if prev.After(last) {
		last = prev
	}
	off := CadenceOffset(d.Name(), c)
	boundary := w.Until.Add(-off).Truncate(c).Add(off) // the last boundary at or before Until
	if !last.Before(boundary) {
		return w, false
	}
	since := boundary.Add(-c).Add(-last.Sub(w.ActiveSince))
	if since.Before(w.ActiveSince) {
		w.ActiveSince = since
	}
	if w.ActiveSince.Before(w.From) {
		w.ActiveSince = w.From
	}
	return w, true
}

// Pass evaluates every detector at until. from, when not zero, overrides
// each detector's lookback (backfill); activeSince, when not zero, limits
// re-evaluation to subjects active since then (incremental pass). A
// failing detector does not stop the others; the errors are joined. With
// Rollups set, the pass first refreshes the rollups (its first RunStats
// entry, rollup_refresh); a failed refresh fails the pass. Periodic
// detectors run when (activeSince, until] crosses their cadence; a
// scheduler that re-reads before its previous end uses PassAfter.
func (r *Runner) Pass(ctx context.Context, from, until, activeSince time.Time) ([]RunStats, []Finding, error) {
	return r.PassAfter(ctx, from, until, activeSince, time.Time{})
}

// PassAfter is Pass for a scheduled pass whose previous pass ended at prev
// (zero: none): Periodic detectors run when (prev, until] crosses their
// cadence, not again because activeSince re-reads before prev.
func (r *Runner) PassAfter(ctx context.Context, from, until, activeSince, prev time.Time) ([]RunStats, []Finding, error) {
	var stats []RunStats
	if r.Rollups != nil {
		st, err := r.refreshRollups(ctx, activeSince)
		stats = append(stats, st)
		if err != nil {
			return stats, nil, err
		}
	}
	if r.Torrents != nil {
		if _, err := r.Torrents.Sync(ctx); err != nil {
			return stats, nil, err
		}
	}
	var all []Finding
	var errs []error
	for _, d := range r.Detectors {
		w := Window{From: from, Until: until, ActiveSince: activeSince}
		if w.From.IsZero() {
			w.From = until.Add(-d.Lookback(r.Env.Config))
		}
		if w.ActiveSince.IsZero() || w.ActiveSince.Before(w.From) {
			w.ActiveSince = w.From
		}
		w, due := periodicWindow(d, r.Env.Config, w, prev)
		if !due {
			stats = append(stats, RunStats{Detector: d.Name(), From: w.From, Until: w.Until, Skipped: true})
			continue
		}
		st, fs, err := r.runOne(ctx, d, w)
		stats = append(stats, st)
		all = append(all, fs...)
		if err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return stats, all, errors.Join(errs...)
}

func (r *Runner) runOne(ctx context.Context, d Detector, w Window) (RunStats, []Finding, error) {
	start := time.Now()
	st := RunStats{Detector: d.Name(), From: w.From, Until: w.Until}
	var found []Finding
	n, err := r.withTriggers(ctx, d, w, func() error {
		var err error
		found, err = d.Run(ctx, r.Env, w)
		return err
	})
	if n >= 0 {
		st.Subjects = &n
	}
	var kept []Finding
	if err == nil {
		for _, f := range found {
			if f.UserID != 0 {
				if _, ok := r.Env.Exempt.UserExempt(f.UserID); ok {
					st.Exempted++
					continue
				}
			}
			if f.Score < r.Env.Config.ReportThreshold {
				continue
			}
			kept = append(kept, f)
		}
		st.Findings = len(kept)
		if r.Store != nil {
			outs, uerr := r.Store.UpsertAll(ctx, kept)
			if uerr != nil {
				err = uerr
			}
			for _, out := range outs {
				switch out {
				case Inserted:
					st.Inserted++
				case Updated:
					st.Updated++
				case Touched:
					st.Touched++
				case Suppressed:
					st.Suppressed++
				}
			}
		}
	}
	st.Duration = time.Since(start)
	if err != nil {
		err = fmt.Errorf("detector %s: %w", d.Name(), err)
		st.Err = err.Error()
	}
	if r.Env.PG != nil {
		if _, rerr := r.Env.PG.Exec(ctx, sqlText("pg_record_run"), st.Detector, w.From, w.Until, w.ActiveSince,
			st.Findings, st.Inserted, st.Updated+st.Touched, st.Suppressed, st.Exempted, st.Duration.Milliseconds(), st.Err); rerr != nil && err == nil {
			err = fmt.Errorf("record run of %s: %w", d.Name(), rerr)
		}
	}
	if r.Env.Log != nil {
		r.Env.Log.Info("detector pass", "detector", st.Detector, "findings", st.Findings, "inserted", st.Inserted,
			"updated", st.Updated, "suppressed", st.Suppressed, "exempted", st.Exempted, "duration", st.Duration, "err", st.Err)
	}
	return st, kept, err
}
