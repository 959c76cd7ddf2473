package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

var (
	sqlReviewReport  = query("review_report")
	sqlAmendReport   = query("amend_report")
	sqlReopenReport  = query("reopen_report")
	sqlProposeReview = query("propose_review")
)

// Errors of amending, reopening and seconding a review.
var (
	ErrNotAmendable = errors.New("only a reviewed report that enforce has not carried out yet can be amended or reopened")
	ErrOwnProposal  = errors.New("a second admin must confirm this: you proposed it")
	ErrNoProposal   = errors.New("no proposed review awaits a second admin on this report")
)

// Apply records a staff review of an open report and its audit row, in one
// transaction. Reviewing a report twice is ErrAlreadyReviewed. A review
// giving disable_account is only proposed (the report stays open) until a
// second admin confirms it (Second).
func (s *Store) Apply(ctx context.Context, id int64, staff Staff, rv Review) (ReportDetail, error) {
	if err := s.checkReview(staff, &rv); err != nil {
		return ReportDetail{}, err
	}
	if contains(rv.Verdict, "disable_account") {
		return s.propose(ctx, id, staff, rv)
	}
	return s.write(ctx, id, staff, rv, sqlReviewReport, "report."+strings.TrimSuffix(rv.Status, "ed"), rv.Note, ErrAlreadyReviewed)
}

// checkReview validates a review and the reviewer's right to give it.
func (s *Store) checkReview(staff Staff, rv *Review) error {
	if err := rv.Validate(); err != nil {
		return err
	}
	for _, v := range rv.Verdict {
		if contains(AdminVerdicts, v) && staff.Role != RoleAdmin {
			return ErrForbidden
		}
	}
	return nil
}

// write runs one review statement (review, amend, second) and its audit row
// in a transaction; a statement matching no row is ifNone.
func (s *Store) write(ctx context.Context, id int64, staff Staff, rv Review, stmt, action, reason string, ifNone error) (ReportDetail, error) {
	before, err := s.Get(ctx, id)
	if err != nil {
		return before, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return before, fmt.Errorf("review report %d: %w", id, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	verdict := rv.Verdict
	if verdict == nil {
		verdict = []string{}
	}
	args := []any{id, rv.Status, verdict, nullNumeric(rv.ReverseUploaded), nullNumeric(rv.ReverseDownloaded), rv.Note, staff.ID}
	if stmt == sqlReviewReport {
		args = append(args, action == "report.second")
	}
	var got int64
	err = tx.QueryRow(ctx, stmt, args...).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return before, ifNone
	}
	if err != nil {
		return before, fmt.Errorf("review report %d: %w", id, err)
	}
	if err := audit(ctx, tx, staff, action, "cheat_report", id, reason, reviewState(before), rv); err != nil {
		return before, err
	}
	if err := tx.Commit(ctx); err != nil {
		return before, fmt.Errorf("review report %d: %w", id, err)
	}
	return s.Get(ctx, id)
}

// reviewState is what an audit row keeps of a report's review.
func reviewState(d ReportDetail) map[string]any {
	return map[string]any{"status": d.Status, "verdict": d.Verdict, "reverse_uploaded": d.ReverseUploaded,
		"reverse_downloaded": d.ReverseDownloaded, "note": d.Note}
}

// audit writes one audit row in tx: the actor, action, subject, reason, and
// the state before and after as JSON.
func audit(ctx context.Context, tx pgx.Tx, actor Staff, action, kind string, id int64, reason string, before, after any) error {
	b, err := json.Marshal(before)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	a, err := json.Marshal(after)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	if _, err := tx.Exec(ctx, sqlInsertAudit, "staff:"+actor.Name, action, kind, strconv.FormatInt(id, 10), reason, b, a); err != nil {
		return fmt.Errorf("audit %s of %s %d: %w", action, kind, id, err)
	}
	return nil
}

// propose keeps an admin's disable_account review on the open report for a
// second admin.
func (s *Store) propose(ctx context.Context, id int64, staff Staff, rv Review) (ReportDetail, error) {
	before, err := s.Get(ctx, id)
	if err != nil {
		return before, err
	}
	body, _ := json.Marshal(rv)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return before, fmt.Errorf("propose review of report %d: %w", id, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	var got int64
	err = tx.QueryRow(ctx, sqlProposeReview, id, body, staff.ID).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return before, ErrAlreadyReviewed
	}
	if err != nil {
		return before, fmt.Errorf("propose review of report %d: %w", id, err)
	}
	if err := audit(ctx, tx, staff, "report.propose", "cheat_report", id, rv.Note, reviewState(before), rv); err != nil {
		return before, err
	}
	if err := tx.Commit(ctx); err != nil {
		return before, fmt.Errorf("propose review of report %d: %w", id, err)
	}
	return s.Get(ctx, id)
}

// Second confirms the review another admin proposed: it is applied as
// proposed, the confirming admin as reviewer, the proposal kept beside it.
func (s *Store) Second(ctx context.Context, id int64, staff Staff) (ReportDetail, error) {
	d, err := s.Get(ctx, id)
	if err != nil {
		return d, err
	}
	if staff.Role != RoleAdmin {
		return d, ErrForbidden
	}
	if d.ProposedBy == nil || d.Status != "open" {
		return d, ErrNoProposal
	}
	if *d.ProposedBy == staff.ID {
		return d, ErrOwnProposal
	}
	var rv Review
	if err := json.Unmarshal(d.ProposedReview, &rv); err != nil {
		return d, fmt.Errorf("read the proposed review of report %d: %w", id, err)
	}
	if err := s.checkReview(staff, &rv); err != nil {
		return d, err
	}
	return s.write(ctx, id, staff, rv, sqlReviewReport, "report.second", "proposed by "+d.Proposer+": "+rv.Note, ErrAlreadyReviewed)
}

// Amend replaces the review of a report enforce has not carried out yet;
// reason says why, in the audit row. Adding disable_account this way is
// refused (it needs a second admin: reopen and review again).
func (s *Store) Amend(ctx context.Context, id int64, staff Staff, rv Review, reason string) (ReportDetail, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ReportDetail{}, InputError{"say why the review is amended (reason)"}
	}
	if err := s.checkReview(staff, &rv); err != nil {
		return ReportDetail{}, err
	}
	d, err := s.Get(ctx, id)
	if err != nil {
		return d, err
	}
	if contains(rv.Verdict, "disable_account") && !contains(d.Verdict, "disable_account") {
		return d, InputError{"disable_account needs a second admin: reopen the report and review it again"}
	}
	return s.write(ctx, id, staff, rv, sqlAmendReport, "report.amend", reason, ErrNotAmendable)
}

// Reopen puts a reviewed report enforce has not carried out back in the
// queue; reason says why, in the audit row.
func (s *Store) Reopen(ctx context.Context, id int64, staff Staff, reason string) (ReportDetail, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ReportDetail{}, InputError{"say why the report is reopened (reason)"}
	}
	before, err := s.Get(ctx, id)
	if err != nil {
		return before, err
	}
	if before.Status == "open" {
		return before, InputError{"the report is open already"}
	}
	if before.EnforcedAt != nil {
		return before, fmt.Errorf("%w: enforce carried it out on %s; reopening would not undo that (adjust the ledger or the account instead)",
			ErrNotAmendable, before.EnforcedAt.UTC().Format("2006-01-02 15:04"))
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return before, fmt.Errorf("reopen report %d: %w", id, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	var got int64
	err = tx.QueryRow(ctx, sqlReopenReport, id).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return before, fmt.Errorf("%w: it was carried out meanwhile, or the detector has opened another report on the same subject (review that one)", ErrNotAmendable)
	}
	if err != nil {
		return before, fmt.Errorf("reopen report %d: %w", id, err)
	}
	if err := audit(ctx, tx, staff, "report.reopen", "cheat_report", id, reason, reviewState(before), map[string]any{"status": "open"}); err != nil {
		return before, err
	}
	if err := tx.Commit(ctx); err != nil {
		return before, fmt.Errorf("reopen report %d: %w", id, err)
	}
	return s.Get(ctx, id)
}

// reasonOf reads a JSON body {"reason": ...}; false when it has answered.
func (s *Server) reasonOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Reason string `json:"reason"`
	}
	ok := s.decodeJSON(w, r, &in, `{"reason": ...}`)
	return in.Reason, ok
}

// amendInput is the JSON body of an amendment: a review and the reason.
type amendInput struct {
	Review
	Reason string `json:"reason"`
}

func (s *Server) amendAPI(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "report")
	if !ok {
		return
	}
	var in amendInput
	if !s.decodeJSON(w, r, &in, `{status, verdict[], reverse_uploaded, reverse_downloaded, note, reason}`) {
		return
	}
	s.answerReport(w, r)(s.store.Amend(r.Context(), id, staffOf(r), in.Review, in.Reason))
}

func (s *Server) reopenAPI(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "report")
	if !ok {
		return
	}
	if reason, ok := s.reasonOf(w, r); ok {
		s.answerReport(w, r)(s.store.Reopen(r.Context(), id, staffOf(r), reason))
	}
}

func (s *Server) secondAPI(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "report")
	if !ok {
		return
	}
	var in struct{}
	if r.ContentLength != 0 && !s.decodeJSON(w, r, &in, `{} (or no body)`) {
		return
	}
	s.answerReport(w, r)(s.store.Second(r.Context(), id, staffOf(r)))
}

// answerReport answers an API call with the report or the error.
func (s *Server) answerReport(w http.ResponseWriter, r *http.Request) func(ReportDetail, error) {
	return func(d ReportDetail, err error) {
		if err != nil {
			s.fail(w, r, statusFor(err), publicError(err), err)
			return
		}
		s.forgetCounts()
		writeJSON(w, http.StatusOK, d)
	}
}

// afterForm answers a review form: back to the report, or the report again
// with the reason and what was typed when it was refused.
func (s *Server) afterForm(w http.ResponseWriter, r *http.Request, id int64, err error) {
	if err != nil {
		s.renderDetail(w, r, id, statusFor(err), publicError(err), formFrom(r.PostForm))
		return
	}
	s.forgetCounts()
	http.Redirect(w, r, "/reports/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func (s *Server) amendForm(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "report")
	if !ok || !s.parseForm(w, r) {
		return
	}
	_, err := s.store.Amend(r.Context(), id, staffOf(r), reviewOf(r), r.PostFormValue("reason"))
	s.afterForm(w, r, id, err)
}

func (s *Server) reopenForm(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "report")
	if !ok || !s.parseForm(w, r) {
		return
	}
	_, err := s.store.Reopen(r.Context(), id, staffOf(r), r.PostFormValue("reason"))
	s.afterForm(w, r, id, err)
}

func (s *Server) secondForm(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "report")
	if !ok || !s.parseForm(w, r) {
		return
	}
	_, err := s.store.Second(r.Context(), id, staffOf(r))
	s.afterForm(w, r, id, err)
}

// reviewOf reads a review from a posted form.
func reviewOf(r *http.Request) Review {
	return Review{Status: r.PostFormValue("status"), Verdict: r.PostForm["verdict"],
		ReverseUploaded: r.PostFormValue("reverse_uploaded"), ReverseDownloaded: r.PostFormValue("reverse_downloaded"),
		Note: r.PostFormValue("note")}
}
