package reports

import (
	"context"
	"math"
	"net/http"
	"strconv"

	enforcestore "github.com/ratioguard/ratioguard/enforce/store"
)

// PlanRow is one change enforce would make for a review: the same rows
// `ratioguard enforce --dry-run` prints for a confirmed report.
type PlanRow = enforcestore.Row

// ReviewPlan is what a review would make enforce do, before it is sent.
type ReviewPlan struct {
	Rows  []PlanRow `json:"rows"`
	Error string    `json:"error,omitempty"` // why enforce could not carry it out
	Note  string    `json:"note,omitempty"`
}

// Plan validates a review of report id and says what enforce would do with
// it, changing nothing.
func (s *Store) Plan(ctx context.Context, id int64, staff Staff, rv Review) (ReportDetail, ReviewPlan, error) {
	if err := s.checkReview(staff, &rv); err != nil {
		return ReportDetail{}, ReviewPlan{}, err
	}
	d, err := s.Get(ctx, id)
	if err != nil {
		return d, ReviewPlan{}, err
	}
	p := ReviewPlan{Rows: []PlanRow{}}
	if rv.Status == "dismissed" {
		p.Note = "dismissed: enforce does nothing"
		return d, p, nil
	}
	r := enforcestore.Report{ID: d.ID, Detector: d.Detector, SubjectKind: d.SubjectKind, SubjectID: d.SubjectID,
		Verdict: rv.Verdict, Member: d.MemberName}
	if uid, err := strconv.ParseInt(d.MemberID, 10, 64); err == nil {
		r.UserID = &uid
	}
	for _, a := range []struct {
		v   string
		dst **int64
	}{{rv.ReverseUploaded, &r.ReverseUploaded}, {rv.ReverseDownloaded, &r.ReverseDownloaded}} {
		if n, err := strconv.ParseInt(a.v, 10, 64); err == nil {
			*a.dst = &n
		}
	}
	if err := r.Check(); err != nil {
		p.Error = err.Error()
	}
	p.Rows = append(p.Rows, enforcestore.VerdictChange{Report: r}.Rows()...)
	if contains(rv.Verdict, "disable_account") {
		p.Note = "disable_account is applied when a second admin confirms it"
	}
	return d, p, nil
}

// prefill is the reversal a faked-upload report's evidence suggests: its
// magnitude, the suspicious bytes, as a whole number of bytes.
func prefill(d ReportDetail, ev *evidenceView) string {
	if ev == nil || d.Detector != "faked_upload" || ev.Magnitude < 1 || ev.Magnitude > math.MaxInt64 {
		return ""
	}
	return strconv.FormatInt(int64(math.Round(ev.Magnitude)), 10)
}

func (s *Server) planAPI(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "report")
	if !ok {
		return
	}
	var rv Review
	if !s.decodeJSON(w, r, &rv, `{status, verdict[], reverse_uploaded, reverse_downloaded, note}`) {
		return
	}
	_, p, err := s.store.Plan(r.Context(), id, staffOf(r), rv)
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
