package detectors

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Triggered is a detector whose verdict on a member can rise only through
// particular new announces (an impossible rate, a dump right after a
// completion, a second site in an hour ...). In an incremental pass the
// Runner asks it for the members with such an announce since ActiveSince —
// read from the new rows alone, which the time-first `announces` serves
// from their hours only — and the detector then re-evaluates just those
// members over its whole lookback, instead of every member who announced.
// Members without a trigger keep their reports as the last evaluation left
// them; full and backfill passes evaluate everyone.
type Triggered interface {
	// Triggers returns the members to re-evaluate; w is the pass's window
	// (the new rows are those from w.ActiveSince to w.Until).
	Triggers(ctx context.Context, env *Env, w Window) ([]uint64, error)
}

// newRows is the window of the rows since the last pass, for trigger queries.
func newRows(w Window) Window {
	return Window{From: w.ActiveSince, Until: w.Until, ActiveSince: w.ActiveSince}
}

// hourOf widens the window of the new rows to the start of their hour, for
// triggers judged per clock hour (multi-IP).
func hourOf(w Window) Window {
	return Window{From: w.ActiveSince.Truncate(time.Hour), Until: w.Until, ActiveSince: w.ActiveSince}
}

// incremental reports whether w re-evaluates only recently active subjects.
func incremental(w Window) bool { return w.ActiveSince.After(w.From) }

// withTriggers runs fn with the detector's subjects narrowed to its
// triggered members when d is Triggered and the pass is incremental.
func (r *Runner) withTriggers(ctx context.Context, d Detector, w Window, fn func() error) (int, error) {
	tr, ok := d.(Triggered)
	if !ok || !incremental(w) {
		return -1, fn()
	}
	defer func() { r.Env.subjects = nil; r.Env.pass = passCache{} }()
	start := time.Now()
	ids, err := tr.Triggers(ctx, r.Env, w)
	if err != nil {
		return 0, fmt.Errorf("find triggered members: %w", err)
	}
	ids = uniqueIDs(ids)
	if r.Env.Log != nil {
		r.Env.Log.Debug("detector triggers", "detector", d.Name(), "members", len(ids), "duration", time.Since(start))
	}
	if len(ids) == 0 {
		return 0, nil // nobody's verdict can have risen
	}
	r.Env.subjects = ids
	return len(ids), fn()
}

// uniqueIDs sorts ids and drops repeats.
func uniqueIDs(ids []uint64) []uint64 {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}

// userRow is a trigger query's row.
type userRow struct {
	UserID uint64 `ch:"user_id"`
}

// triggerUsers runs a trigger query and returns its members.
func triggerUsers(ctx context.Context, env *Env, name string, p params) ([]uint64, error) {
	var rows []userRow
	if err := selectRows(ctx, env, &rows, name, p); err != nil {
		return nil, err
	}
	out := make([]uint64, len(rows))
	for i, r := range rows {
		out[i] = r.UserID
	}
	return out, nil
}

// passCache carries what a detector's Triggers computed to its Run in the
// same incremental pass.
type passCache struct {
	fpPopulation []fpRow // fingerprints of every member active in the new rows
}
