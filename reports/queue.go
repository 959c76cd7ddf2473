package reports

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

var sqlQueueCounts = query("queue_counts")

// QueueCounts are the reports of a status per detector and severity.
type QueueCounts struct {
	Detectors  []string                    `json:"detectors"`
	Severities []string                    `json:"severities"`
	Counts     map[string]map[string]int64 `json:"counts"` // detector → severity → reports
	Total      map[string]int64            `json:"total"`  // detector → reports
}

// Severities in the order staff read them.
var Severities = []string{"critical", "high", "medium", "low"}

// QueueCounts counts the reports of status ("" = any) per detector and severity.
func (s *Store) QueueCounts(ctx context.Context, status string) (QueueCounts, error) {
	out := QueueCounts{Detectors: []string{}, Severities: Severities, Counts: map[string]map[string]int64{}, Total: map[string]int64{}}
	rows, err := s.pool.Query(ctx, sqlQueueCounts, status)
	if err != nil {
		return out, fmt.Errorf("count reports per detector: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var det, sev string
		var n int64
		if err := rows.Scan(&det, &sev, &n); err != nil {
			return out, fmt.Errorf("count reports per detector: %w", err)
		}
		if out.Counts[det] == nil {
			out.Counts[det] = map[string]int64{}
			out.Detectors = append(out.Detectors, det)
		}
		out.Counts[det][sev] = n
		out.Total[det] += n
	}
	return out, rows.Err()
}

// BulkResult is what a bulk dismissal did: the reports dismissed and, by
// id, why the others were not.
type BulkResult struct {
	Dismissed []int64           `json:"dismissed"`
	Failed    map[string]string `json:"failed"`
}

// maxBulk is how many reports one bulk dismissal takes.
const maxBulk = 500

// BulkDismiss dismisses each report with the one note, each as its own
// review with its audit row; a report that cannot be dismissed (reviewed
// already, unknown) is said in Failed and the others go on.
func (s *Store) BulkDismiss(ctx context.Context, staff Staff, ids []int64, note string) (BulkResult, error) {
	res := BulkResult{Dismissed: []int64{}, Failed: map[string]string{}}
	if len(ids) == 0 {
		return res, InputError{"choose the reports to dismiss"}
	}
	if len(ids) > maxBulk {
		return res, InputError{fmt.Sprintf("at most %d reports at once", maxBulk)}
	}
	if strings.TrimSpace(note) == "" {
		return res, InputError{"say why the reports are dismissed (note)"}
	}
	for _, id := range ids {
		_, err := s.Apply(ctx, id, staff, Review{Status: "dismissed", Note: note})
		switch {
		case err == nil:
			res.Dismissed = append(res.Dismissed, id)
		case statusFor(err) < 500:
			res.Failed[strconv.FormatInt(id, 10)] = err.Error()
		default:
			return res, err
		}
	}
	return res, nil
}

// idsOf reads report ids; a bad one is an InputError.
func idsOf(vals []string) ([]int64, error) {
	out := make([]int64, 0, len(vals))
	for _, v := range vals {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n <= 0 {
			return nil, InputError{fmt.Sprintf("%q is not a report id", v)}
		}
		out = append(out, n)
	}
	return out, nil
}

func (s *Server) bulkDismissForm(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	back := safeNext(r.PostFormValue("back"))
	ids, err := idsOf(r.PostForm["id"])
	var res BulkResult
	if err == nil {
		res, err = s.store.BulkDismiss(r.Context(), staffOf(r), ids, r.PostFormValue("note"))
	}
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	s.forgetCounts()
	u, _ := url.Parse(back)
	q := u.Query()
	q.Set("dismissed", strconv.Itoa(len(res.Dismissed)))
	if len(res.Failed) > 0 {
		q.Set("not_dismissed", strconv.Itoa(len(res.Failed)))
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func (s *Server) bulkDismissAPI(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IDs  []int64 `json:"ids"`
		Note string  `json:"note"`
	}
	if !s.decodeJSON(w, r, &in, `{"ids": [...], "note": "..."}`) {
		return
	}
	res, err := s.store.BulkDismiss(r.Context(), staffOf(r), in.IDs, in.Note)
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	s.forgetCounts()
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) queueCountsAPI(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error(), nil)
		return
	}
	c, err := s.store.QueueCounts(r.Context(), f.Status)
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

var (
	sqlAssignReport  = query("assign_report")
	sqlStaffIDByName = query("staff_id_by_name")
)

// Assign gives an open report to a staff member by name ("" = nobody),
// with its audit row; claiming is assigning to oneself.
func (s *Store) Assign(ctx context.Context, actor Staff, id int64, to string) (ReportDetail, error) {
	to = strings.TrimSpace(to)
	var staffID *int64
	if to != "" {
		var n int64
		if err := s.pool.QueryRow(ctx, sqlStaffIDByName, to).Scan(&n); errors.Is(err, pgx.ErrNoRows) {
			return ReportDetail{}, InputError{fmt.Sprintf("no enabled staff account is named %q", to)}
		} else if err != nil {
			return ReportDetail{}, fmt.Errorf("assign report %d: %w", id, err)
		}
		staffID = &n
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return ReportDetail{}, fmt.Errorf("assign report %d: %w", id, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	var was string
	if err := tx.QueryRow(ctx, sqlAssignReport, id, staffID).Scan(&was); errors.Is(err, pgx.ErrNoRows) {
		if _, gerr := s.Get(ctx, id); gerr != nil {
			return ReportDetail{}, gerr
		}
		return ReportDetail{}, fmt.Errorf("%w: only an open report is assigned", ErrAlreadyReviewed)
	} else if err != nil {
		return ReportDetail{}, fmt.Errorf("assign report %d: %w", id, err)
	}
	if err := audit(ctx, tx, actor, "report.assign", "cheat_report", id, "", map[string]any{"assignee": was},
		map[string]any{"assignee": to}); err != nil {
		return ReportDetail{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return ReportDetail{}, fmt.Errorf("assign report %d: %w", id, err)
	}
	return s.Get(ctx, id)
}

// assignForm is POST /reports/{id}/assign (field "to"; empty: nobody) and
// /reports/{id}/claim (to oneself); back to where it was sent from.
func (s *Server) assignForm(claim bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r, "report")
		if !ok || !s.parseForm(w, r) {
			return
		}
		to := r.PostFormValue("to")
		if claim {
			to = staffOf(r).Name
		}
		if _, err := s.store.Assign(r.Context(), staffOf(r), id, to); err != nil {
			s.fail(w, r, statusFor(err), publicError(err), err)
			return
		}
		http.Redirect(w, r, safeNext(r.PostFormValue("back")), http.StatusSeeOther)
	}
}

// assignAPI is POST /api/reports/{id}/assign {"to": name or ""} and /claim.
func (s *Server) assignAPI(claim bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r, "report")
		if !ok {
			return
		}
		to := staffOf(r).Name
		if !claim {
			var in struct {
				To string `json:"to"`
			}
			if !s.decodeJSON(w, r, &in, `{"to": "staff name, or empty for nobody"}`) {
				return
			}
			to = in.To
		}
		s.answerReport(w, r)(s.store.Assign(r.Context(), staffOf(r), id, to))
	}
}
