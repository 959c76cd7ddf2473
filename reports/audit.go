package reports

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

var sqlAuditList = query("audit_list")

// AuditEntry is one audit_log row: who did what to which subject, why, and
// the state before and after (JSON as stored).
type AuditEntry struct {
	ID          int64     `json:"id"`
	At          time.Time `json:"at"`
	Actor       string    `json:"actor"`
	Action      string    `json:"action"`
	SubjectKind string    `json:"subject_kind"`
	SubjectID   string    `json:"subject_id"`
	Reason      string    `json:"reason"`
	Before      string    `json:"before,omitempty"`
	After       string    `json:"after,omitempty"`
}

// AuditFilter narrows the audit log. Zero values mean "any".
type AuditFilter struct {
	Actor       string // "mod" or "staff:mod" or "enforce/ratio"
	Action      string // "report.confirm", or a prefix before a dot: "report"
	SubjectKind string
	SubjectID   string
	From, Until *time.Time
	BeforeID    int64
	Limit       int
	Reports     []string // also rows about these cheat reports
}

// Audit returns audit rows matching f, newest first, and whether older ones match.
func (s *Store) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, bool, error) {
	limit := limitOr(f.Limit)
	reps := f.Reports
	if reps == nil {
		reps = []string{}
	}
	rows, err := s.pool.Query(ctx, sqlAuditList, f.Actor, f.Action, f.SubjectKind, f.SubjectID, f.From, f.Until,
		f.BeforeID, reps, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("read audit log: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) {
		var a AuditEntry
		err := row.Scan(&a.ID, &a.At, &a.Actor, &a.Action, &a.SubjectKind, &a.SubjectID, &a.Reason, &a.Before, &a.After)
		return a, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("read audit log: %w", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// parseAuditFilter reads ?actor=&action=&subject_kind=&subject_id=&from=&until=&before=&limit=.
// Times are RFC 3339 or a date (YYYY-MM-DD, UTC).
func parseAuditFilter(q url.Values) (AuditFilter, error) {
	f := AuditFilter{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		SubjectKind: strings.TrimSpace(q.Get("subject_kind")), SubjectID: strings.TrimSpace(q.Get("subject_id"))}
	for name, dst := range map[string]**time.Time{"from": &f.From, "until": &f.Until} {
		v := strings.TrimSpace(q.Get(name))
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse("2006-01-02", v); err != nil {
				return f, InputError{name + " must be a date (2026-11-30) or an RFC 3339 time, not " + strconv.Quote(v)}
			}
		}
		*dst = &t
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return f, InputError{"before must be an audit row id"}
		}
		f.BeforeID = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, InputError{"limit must be between 1 and 500"}
		}
		f.Limit = n
	}
	return f, nil
}

// auditPageURL is the audit list at path with f's filters kept, from before on.
func auditPageURL(path string, q url.Values, before int64) string {
	keep := url.Values{}
	for _, k := range []string{"actor", "action", "subject_kind", "subject_id", "from", "until", "limit"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	if before > 0 {
		keep.Set("before", strconv.FormatInt(before, 10))
	}
	return path + "?" + keep.Encode()
}

func (s *Server) auditAPI(w http.ResponseWriter, r *http.Request) {
	f, err := parseAuditFilter(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error(), nil)
		return
	}
	list, more, err := s.store.Audit(r.Context(), f)
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	if list == nil {
		list = []AuditEntry{}
	}
	out := map[string]any{"audit": list}
	if more {
		out["next"] = auditPageURL("/api/audit", r.URL.Query(), list[len(list)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	f, err := parseAuditFilter(r.URL.Query())
	var list []AuditEntry
	var more bool
	if err == nil {
		list, more, err = s.store.Audit(r.Context(), f)
	}
	data := s.pageData(r, "Audit log")
	data["Q"], data["Audit"] = r.URL.Query(), list
	if more {
		data["Older"] = auditPageURL("/audit", r.URL.Query(), list[len(list)-1].ID)
	}
	status := http.StatusOK
	if err != nil {
		data["Error"], status = publicError(err), statusFor(err)
	}
	s.render(w, r, status, "audit", data)
}
