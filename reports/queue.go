package reports

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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
