package reports

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	sqlWatchRatio     = query("watch_ratio")
	sqlWatchHnR       = query("watch_hnr")
	sqlWatchBlocks    = query("watch_blocks")
	sqlDeadSwarms     = query("dead_swarms")
	sqlDeadCandidates = query("dead_candidates")
)

// WatchLists are the members staff keep an eye on: ratio watch, active
// hit-and-run warnings, leech blocks, and the declared seedboxes and
// detector allowlist that explain look-alikes.
type WatchLists struct {
	RatioWatch []RatioWatch `json:"ratio_watch"`
	HnR        []HnRWarning `json:"hnr_warnings"`
	Blocks     []LeechBlock `json:"leech_blocks"`
	Seedboxes  []Seedbox    `json:"seedboxes"`
	Allowlist  []AllowEntry `json:"allowlist"`
}

// RatioWatch is a member on ratio watch (or blocked by it).
type RatioWatch struct {
	UserID            int64     `json:"user_id"`
	Name              string    `json:"name"`
	State             string    `json:"state"`
	StartedAt         time.Time `json:"started_at"`
	EndsAt            time.Time `json:"ends_at"`
	RequiredRatio     float64   `json:"required_ratio"`
	CreditedRatio     *float64  `json:"credited_ratio"`
	DownloadedInWatch string    `json:"downloaded_during_watch"`
	DisabledCause     string    `json:"disabled_cause,omitempty"`
}

// HnRWarning is an active hit-and-run warning.
type HnRWarning struct {
	ID              int64     `json:"id"`
	UserID          int64     `json:"user_id"`
	Name            string    `json:"name"`
	TorrentID       int64     `json:"torrent_id"`
	TorrentName     string    `json:"torrent_name"`
	IssuedAt        time.Time `json:"issued_at"`
	Deadline        time.Time `json:"deadline"`
	ExpiresAt       time.Time `json:"expires_at"`
	SeedtimeSeconds int64     `json:"seedtime_seconds"`
	MemberActive    int64     `json:"member_active_warnings"`
}

// LeechBlock is a block on leeching: by a verdict (its report) or by enforce.
type LeechBlock struct {
	Source   string    `json:"source"` // verdict or enforce
	UserID   int64     `json:"user_id"`
	Name     string    `json:"name"`
	ReportID *int64    `json:"report_id,omitempty"`
	Reason   string    `json:"reason"`
	Since    time.Time `json:"since"`
}

// Watch reads every watch list.
func (s *Store) Watch(ctx context.Context) (WatchLists, error) {
	var w WatchLists
	var err error
	if w.RatioWatch, err = collect(ctx, s, sqlWatchRatio, "ratio watch", func(row pgx.CollectableRow) (RatioWatch, error) {
		var r RatioWatch
		return r, row.Scan(&r.UserID, &r.Name, &r.State, &r.StartedAt, &r.EndsAt, &r.RequiredRatio, &r.CreditedRatio,
			&r.DownloadedInWatch, &r.DisabledCause)
	}); err != nil {
		return w, err
	}
	if w.HnR, err = collect(ctx, s, sqlWatchHnR, "hit-and-run warnings", func(row pgx.CollectableRow) (HnRWarning, error) {
		var h HnRWarning
		return h, row.Scan(&h.ID, &h.UserID, &h.Name, &h.TorrentID, &h.TorrentName, &h.IssuedAt, &h.Deadline, &h.ExpiresAt,
			&h.SeedtimeSeconds, &h.MemberActive)
	}); err != nil {
		return w, err
	}
	if w.Blocks, err = collect(ctx, s, sqlWatchBlocks, "leech blocks", func(row pgx.CollectableRow) (LeechBlock, error) {
		var b LeechBlock
		return b, row.Scan(&b.Source, &b.UserID, &b.Name, &b.ReportID, &b.Reason, &b.Since)
	}); err != nil {
		return w, err
	}
	if w.Seedboxes, err = s.Seedboxes(ctx, nil); err != nil {
		return w, err
	}
	w.Allowlist, err = s.Allowlist(ctx, nil)
	return w, err
}

// DeadSwarm is a torrent nobody has seeded for a while, with who could reseed it.
type DeadSwarm struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Size       int64      `json:"size"`
	LastSeeded *time.Time `json:"last_seeded"` // null: never seeded
	Snatches   int64      `json:"snatches"`
	Waiting    int64      `json:"leechers_waiting"`
	Reseeders  []Reseeder `json:"reseeders"`
}

// Reseeder is a member who seeded or snatched a dead torrent.
type Reseeder struct {
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	LastHere   time.Time  `json:"last_announce_here"`
	SnatchedAt *time.Time `json:"snatched_at,omitempty"`
	Seeded     bool       `json:"seeded"`
	LastActive time.Time  `json:"last_active"`
}

// DeadSwarms lists torrents with no seeder for days days (at most limit).
func (s *Store) DeadSwarms(ctx context.Context, days, limit int) ([]DeadSwarm, error) {
	list, err := collect(ctx, s, sqlDeadSwarms, "dead swarms", func(row pgx.CollectableRow) (DeadSwarm, error) {
		var d DeadSwarm
		return d, row.Scan(&d.ID, &d.Name, &d.Size, &d.LastSeeded, &d.Snatches, &d.Waiting)
	}, days, limit)
	if err != nil || len(list) == 0 {
		return list, err
	}
	ids := make([]int64, len(list))
	at := map[int64]int{}
	for i, d := range list {
		ids[i], at[d.ID] = d.ID, i
		list[i].Reseeders = []Reseeder{}
	}
	rows, err := s.pool.Query(ctx, sqlDeadCandidates, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var tid int64
		var r Reseeder
		if err := rows.Scan(&tid, &r.UserID, &r.Name, &r.LastHere, &r.SnatchedAt, &r.Seeded, &r.LastActive); err != nil {
			return nil, err
		}
		list[at[tid]].Reseeders = append(list[at[tid]].Reseeders, r)
	}
	return list, rows.Err()
}

func (s *Server) watchAPI(w http.ResponseWriter, r *http.Request) {
	lists, err := s.store.Watch(r.Context())
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	writeJSON(w, http.StatusOK, lists)
}

func (s *Server) watchPage(w http.ResponseWriter, r *http.Request) {
	lists, err := s.store.Watch(r.Context())
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	data := s.pageData(r, "Watch lists")
	data["Watch"] = lists
	s.render(w, r, http.StatusOK, "watch", data)
}

// deadDays reads ?days= (1..3650, default 7).
func deadDays(r *http.Request) (int, error) {
	v := r.URL.Query().Get("days")
	if v == "" {
		return 7, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 3650 {
		return 0, InputError{"days must be a whole number of days from 1 to 3650"}
	}
	return n, nil
}

func (s *Server) deadAPI(w http.ResponseWriter, r *http.Request) {
	days, err := deadDays(r)
	var list []DeadSwarm
	if err == nil {
		list, err = s.store.DeadSwarms(r.Context(), days, 200)
	}
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"days": days, "torrents": list})
}

func (s *Server) deadPage(w http.ResponseWriter, r *http.Request) {
	days, err := deadDays(r)
	var list []DeadSwarm
	if err == nil {
		list, err = s.store.DeadSwarms(r.Context(), days, 200)
	}
	data := s.pageData(r, "Dead swarms")
	data["Days"], data["Dead"] = days, list
	status := http.StatusOK
	if err != nil {
		data["Error"], status = publicError(err), statusFor(err)
	}
	s.render(w, r, status, "dead", data)
}
