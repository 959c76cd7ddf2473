package reports

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/sqlfile"
)

//go:embed sql/*.sql
var sqlFS embed.FS

var query = sqlfile.Queries(sqlFS)

var (
	sqlListReports = query("list_reports")
	sqlGetReport   = query("get_report")
	sqlInsertAudit = query("insert_audit")
	sqlCounts      = query("counts")
)

// Report is a cheat report as staff see it in a list.
type Report struct {
	ID          int64      `json:"id"`
	Detector    string     `json:"detector"`
	SubjectKind string     `json:"subject_kind"`
	SubjectID   string     `json:"subject_id"`
	WindowStart time.Time  `json:"window_start"`
	WindowEnd   time.Time  `json:"window_end"`
	Score       float64    `json:"score"`
	Severity    string     `json:"severity"`
	Status      string     `json:"status"`
	Note        string     `json:"note"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ReviewedAt  *time.Time `json:"reviewed_at,omitempty"`
	Reviewer    string     `json:"reviewer,omitempty"`
	Verdict     []string   `json:"verdict"`
	EnforcedAt  *time.Time `json:"enforced_at,omitempty"`
	MemberID    string     `json:"member_id,omitempty"` // the member behind a user or passkey subject
	MemberName  string     `json:"member_name,omitempty"`
	Assignee    string     `json:"assignee,omitempty"` // the staff member working on it
}

// ReportDetail adds the evidence and the verdict's figures.
type ReportDetail struct {
	Report
	Evidence          json.RawMessage `json:"evidence"`
	ReverseUploaded   string          `json:"reverse_uploaded,omitempty"`
	ReverseDownloaded string          `json:"reverse_downloaded,omitempty"`
	EnforceError      string          `json:"enforce_error,omitempty"`
	// A review giving disable_account, proposed by one admin and waiting
	// for (or confirmed by) a second one.
	ProposedReview json.RawMessage `json:"proposed_review,omitempty"`
	ProposedBy     *int64          `json:"proposed_by,omitempty"`
	Proposer       string          `json:"proposer,omitempty"`
	ProposedAt     *time.Time      `json:"proposed_at,omitempty"`
}

// Filter narrows a report list. Zero values mean "any".
type Filter struct {
	Status    string
	Detector  string
	Severity  string
	UserID    string
	TorrentID int64  // reports about the torrent or listing it in their evidence
	BeforeID  int64  // keyset paging: reports with a smaller id (newest first)
	Sort      string // "" newest first, score, severity (then score), oldest
	Offset    int    // paging for the orders other than newest first
	Assignee  string // "" any, "-" nobody, else a staff name
	Limit     int
}

// Sorts are the queue's orders: newest first (""), highest score, most
// severe (then highest score), oldest first.
var Sorts = []string{"", "score", "severity", "oldest"}

// reportOrders end list_reports.sql for each sort: a fixed text per sort
// (never built from input), each a plain ORDER BY the planner can serve
// from an index, then the offset ($9) and limit ($6).
var reportOrders = map[string]string{
	"":         "ORDER BY r.id DESC OFFSET $9 LIMIT $6",
	"score":    "ORDER BY r.score DESC, r.id DESC OFFSET $9 LIMIT $6",
	"severity": "ORDER BY array_position(ARRAY['low', 'medium', 'high', 'critical'], r.severity) DESC, r.score DESC, r.id DESC OFFSET $9 LIMIT $6",
	"oldest":   "ORDER BY r.id ASC OFFSET $9 LIMIT $6",
}

// Verdicts staff may give a confirmed report (enforce carries them out).
var Verdicts = []string{"reverse_credit", "disable_account", "disable_leech", "reset_passkey"}

// Review is a staff decision on an open report.
type Review struct {
	Status            string   `json:"status"` // confirmed or dismissed
	Verdict           []string `json:"verdict"`
	ReverseUploaded   string   `json:"reverse_uploaded"`   // bytes ("42949672960" or "40 GiB"); with reverse_credit
	ReverseDownloaded string   `json:"reverse_downloaded"` // bytes ("42949672960" or "40 GiB"); with reverse_credit
	Note              string   `json:"note"`
}

// Errors a caller can tell apart.
var (
	ErrNotFound        = errors.New("report not found")
	ErrAlreadyReviewed = errors.New("report already reviewed")
	ErrForbidden       = errors.New("the disable_account verdict needs an admin")
	// ErrRowNotFound is a setting (client rule, seedbox range, promotion,
	// allowlist entry, API token) that does not exist.
	ErrRowNotFound = errors.New("no such entry")
)

// AdminVerdicts are verdicts only an admin may give.
var AdminVerdicts = []string{"disable_account"}

// InputError is a review or filter that makes no sense; its text says why.
type InputError struct{ Msg string }

func (e InputError) Error() string { return e.Msg }

// Validate checks a review and normalises it.
func (r *Review) Validate() error {
	r.Note = strings.TrimSpace(r.Note)
	switch r.Status {
	case "confirmed":
		if len(r.Verdict) == 0 {
			return InputError{"a confirmed report needs at least one verdict: " + strings.Join(Verdicts, ", ")}
		}
	case "dismissed":
		if len(r.Verdict) != 0 {
			return InputError{"a dismissed report takes no verdict"}
		}
		if r.Note == "" {
			return InputError{"say why the report is dismissed (note)"}
		}
	default:
		return InputError{fmt.Sprintf("status must be confirmed or dismissed, not %q", r.Status)}
	}
	seen := map[string]bool{}
	for _, v := range r.Verdict {
		if !contains(Verdicts, v) {
			return InputError{fmt.Sprintf("unknown verdict %q (allowed: %s)", v, strings.Join(Verdicts, ", "))}
		}
		if seen[v] {
			return InputError{fmt.Sprintf("verdict %q given twice", v)}
		}
		seen[v] = true
	}
	reverse := seen["reverse_credit"]
	for name, p := range map[string]*string{"reverse_uploaded": &r.ReverseUploaded, "reverse_downloaded": &r.ReverseDownloaded} {
		*p = strings.TrimSpace(*p)
		if *p == "" {
			continue
		}
		if !reverse {
			return InputError{name + " only goes with the reverse_credit verdict"}
		}
		n, err := parseBytes(*p)
		if err != nil {
			return InputError{fmt.Sprintf("%s must be a whole number of bytes from 0 to %d (8 EiB), or an amount like \"835 MiB\", not %q: %v",
				name, int64(math.MaxInt64), *p, err)}
		}
		*p = n.String()
	}
	if reverse && r.ReverseUploaded == "" && r.ReverseDownloaded == "" {
		return InputError{"reverse_credit needs reverse_uploaded and/or reverse_downloaded (bytes)"}
	}
	return nil
}

var amountRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)$`)

var byteUnits = map[string]int64{
	"": 1, "b": 1, "byte": 1, "bytes": 1,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40, "pib": 1 << 50, "eib": 1 << 60,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15, "eb": 1e18,
}

// parseBytes reads an amount of bytes: a whole number, or a number with a
// unit (IEC KiB…EiB in powers of 1024, SI kB…EB in powers of 1000) that
// makes a whole number of bytes. It is at most MaxInt64: enforcement reads
// amounts as bigint, and a larger one would stop every enforcement pass.
func parseBytes(s string) (*big.Int, error) {
	m := amountRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return nil, errors.New("not a number of bytes")
	}
	unit, ok := byteUnits[strings.ToLower(m[2])]
	if !ok {
		return nil, fmt.Errorf("unknown unit %q", m[2])
	}
	if len(m[1]) > 40 {
		return nil, errors.New("too large")
	}
	v, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return nil, errors.New("not a number of bytes")
	}
	v.Mul(v, new(big.Rat).SetInt64(unit))
	if !v.IsInt() {
		return nil, errors.New("not a whole number of bytes")
	}
	n := v.Num()
	if n.Cmp(big.NewInt(math.MaxInt64)) > 0 {
		return nil, errors.New("too large")
	}
	return n, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Store reads and reviews cheat reports in Postgres.
type Store struct {
	pool *pgxpool.Pool
	cost int // bcrypt cost of the password hashes it makes (passwordCost; tests lower it)
}

// NewStore returns a Store over pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool, cost: passwordCost} }

// List returns reports matching f, newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Report, error) {
	list, _, err := s.Page(ctx, f)
	return list, err
}

// Page returns reports matching f, newest first, and whether older ones
// match too (so a "next page" link never leads to an empty page).
func (s *Store) Page(ctx context.Context, f Filter) ([]Report, bool, error) {
	f.Limit = limitOr(f.Limit)
	list, err := s.list(ctx, f, f.Limit+1)
	if err != nil || len(list) <= f.Limit {
		return list, false, err
	}
	return list[:f.Limit], true, nil
}

func (s *Store) list(ctx context.Context, f Filter, limit int) ([]Report, error) {
	var uid int64
	if f.UserID != "" {
		n, err := strconv.ParseInt(f.UserID, 10, 64)
		if err != nil || n <= 0 {
			return nil, InputError{"user must be a member id"}
		}
		uid = n
	}
	order, ok := reportOrders[f.Sort]
	if !ok {
		return nil, InputError{"sort must be one of newest (empty), score, severity, oldest"}
	}
	rows, err := s.pool.Query(ctx, sqlListReports+order, f.Status, f.Detector, f.Severity, f.UserID, f.BeforeID, limit, uid, f.TorrentID, f.Offset, f.Assignee)
	if err != nil {
		return nil, fmt.Errorf("list cheat reports: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Report, error) {
		var r Report
		err := row.Scan(&r.ID, &r.Detector, &r.SubjectKind, &r.SubjectID, &r.WindowStart, &r.WindowEnd,
			&r.Score, &r.Severity, &r.Status, &r.Note, &r.CreatedAt, &r.UpdatedAt, &r.ReviewedAt,
			&r.Reviewer, &r.Verdict, &r.EnforcedAt, &r.MemberID, &r.Assignee)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list cheat reports: %w", err)
	}
	return out, s.nameMembers(ctx, out)
}

// nameMembers fills in the names of the reports' members.
func (s *Store) nameMembers(ctx context.Context, list []Report) error {
	ids := make([]int64, 0, len(list))
	for _, r := range list {
		if n, err := strconv.ParseInt(r.MemberID, 10, 64); err == nil {
			ids = append(ids, n)
		}
	}
	names, err := s.MemberNames(ctx, ids)
	if err != nil {
		return err
	}
	for i := range list {
		if n, err := strconv.ParseInt(list[i].MemberID, 10, 64); err == nil {
			list[i].MemberName = names[n]
		}
	}
	return nil
}

// Get returns one report with its evidence.
func (s *Store) Get(ctx context.Context, id int64) (ReportDetail, error) {
	var d ReportDetail
	var revUp, revDown *string
	var proposal string
	err := s.pool.QueryRow(ctx, sqlGetReport, id).Scan(&d.ID, &d.Detector, &d.SubjectKind, &d.SubjectID,
		&d.WindowStart, &d.WindowEnd, &d.Score, &d.Severity, &d.Status, &d.Note, &d.CreatedAt, &d.UpdatedAt,
		&d.ReviewedAt, &d.Reviewer, &d.Verdict, &d.EnforcedAt, &d.Evidence, &revUp, &revDown, &d.EnforceError, &d.MemberID,
		&proposal, &d.ProposedBy, &d.Proposer, &d.ProposedAt, &d.Assignee)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("get cheat report %d: %w", id, err)
	}
	if revUp != nil {
		d.ReverseUploaded = *revUp
	}
	if revDown != nil {
		d.ReverseDownloaded = *revDown
	}
	if proposal != "" {
		d.ProposedReview = json.RawMessage(proposal)
	}
	one := []Report{d.Report}
	if err := s.nameMembers(ctx, one); err != nil {
		return d, err
	}
	d.MemberName = one[0].MemberName
	return d, nil
}

// Counts returns the number of reports per status.
func (s *Store) Counts(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, sqlCounts)
	if err != nil {
		return nil, fmt.Errorf("count cheat reports: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{"open": 0, "confirmed": 0, "dismissed": 0}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count cheat reports: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

func nullNumeric(s string) any {
	if s == "" {
		return nil
	}
	return s
}
