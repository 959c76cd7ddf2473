package reports

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	sqlMember            = query("member")
	sqlMemberRefs        = query("member_refs")
	sqlMemberAdjustments = query("member_adjustments")
	sqlMemberEnforcement = query("member_enforcement")
	sqlMemberSeedboxes   = query("member_seedboxes")
	sqlMemberAllowlist   = query("member_allowlist")
	sqlMemberNotes       = query("member_notes")
	sqlInsertNote        = query("insert_note")
	sqlMemberNames       = query("member_names")
)

// ErrMemberNotFound is a member id that names no member.
var ErrMemberNotFound = errors.New("member not found")

// Member is everything the member page shows that Postgres holds.
type Member struct {
	ID             int64     `json:"id"`
	Name           string    `json:"name"`
	Class          string    `json:"class"`
	Enabled        bool      `json:"enabled"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	CanLeech       bool      `json:"can_leech"`
	Passkey        string    `json:"passkey_prefix"` // first 4 characters only
	CreatedAt      time.Time `json:"created_at"`
	// Totals in bytes as decimal strings (NUMERIC(30) in the ledger): raw as
	// clients reported, credited after promotions and adjustments.
	RawUploaded        string          `json:"raw_uploaded"`
	RawDownloaded      string          `json:"raw_downloaded"`
	CreditedUploaded   string          `json:"credited_uploaded"`
	CreditedDownloaded string          `json:"credited_downloaded"`
	SeedtimeSeconds    int64           `json:"seedtime_seconds"`
	BonusPoints        string          `json:"bonus_points"`
	RawRatio           *float64        `json:"raw_ratio"`      // null: nothing downloaded
	CreditedRatio      *float64        `json:"credited_ratio"` // null: nothing downloaded
	Inviter            *MemberRef      `json:"inviter,omitempty"`
	Invitees           []MemberRef     `json:"invitees"`
	Adjustments        []Adjustment    `json:"adjustments"`
	Enforcement        []EnforceRow    `json:"enforcement"`
	Reports            []Report        `json:"reports"`
	Seedboxes          []Seedbox       `json:"seedboxes"`
	Allowlist          []AllowEntry    `json:"allowlist"`
	Notes              []Note          `json:"notes"`
	History            []AuditEntry    `json:"history"`
	Activity           *MemberActivity `json:"activity,omitempty"` // from ClickHouse; absent when it is not configured
	ActivityError      string          `json:"activity_error,omitempty"`
}

// MemberRef is another member with their standing.
type MemberRef struct {
	ID            int64    `json:"id"`
	Name          string   `json:"name"`
	Class         string   `json:"class"`
	Enabled       bool     `json:"enabled"`
	CanLeech      bool     `json:"can_leech"`
	CreditedRatio *float64 `json:"credited_ratio"`
	OpenReports   int64    `json:"open_reports"`
}

// Adjustment is a ledger correction of a member's credit.
type Adjustment struct {
	ID                 int64     `json:"id"`
	TorrentID          *int64    `json:"torrent_id,omitempty"`
	TorrentName        string    `json:"torrent_name,omitempty"`
	CreditedUploaded   string    `json:"credited_uploaded"`
	CreditedDownloaded string    `json:"credited_downloaded"`
	BonusPoints        string    `json:"bonus_points"`
	Reason             string    `json:"reason"`
	ReportID           *int64    `json:"report_id,omitempty"`
	Actor              string    `json:"actor"`
	CreatedAt          time.Time `json:"created_at"`
}

// EnforceRow is one enforcement state: ratio_watch, hnr_warning (ref is the
// torrent), leech_block (ref is the report), leech_hold.
type EnforceRow struct {
	Kind   string     `json:"kind"`
	Ref    *int64     `json:"ref,omitempty"`
	Name   string     `json:"name,omitempty"` // the torrent's, for a warning
	Since  time.Time  `json:"since"`
	Until  *time.Time `json:"until,omitempty"`
	Detail string     `json:"detail"`
}

// Seedbox is a declared seedbox range.
type Seedbox struct {
	ID           int64     `json:"id"`
	UserID       int64     `json:"user_id,omitempty"`
	UserName     string    `json:"user_name,omitempty"`
	CIDR         string    `json:"cidr"`
	CountsForCap bool      `json:"counts_for_ip_cap"`
	Note         string    `json:"note"`
	CreatedAt    time.Time `json:"created_at"`
}

// AllowEntry is a detector allowlist entry (a member or a network).
type AllowEntry struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	UserID    *int64    `json:"user_id,omitempty"`
	UserName  string    `json:"user_name,omitempty"`
	CIDR      string    `json:"cidr,omitempty"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Note is a staff note on a member.
type Note struct {
	ID        int64     `json:"id"`
	Staff     string    `json:"staff"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// Member reads a member and everything staff see about them in Postgres.
func (s *Store) Member(ctx context.Context, id int64) (Member, error) {
	var m Member
	var inviter *int64
	err := s.pool.QueryRow(ctx, sqlMember, id).Scan(&m.ID, &m.Name, &m.Class, &m.Enabled, &m.DisabledReason,
		&m.CanLeech, &m.Passkey, &m.CreatedAt, &m.RawUploaded, &m.RawDownloaded, &m.CreditedUploaded,
		&m.CreditedDownloaded, &m.SeedtimeSeconds, &m.BonusPoints, &m.RawRatio, &m.CreditedRatio, &inviter)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, ErrMemberNotFound
	}
	if err != nil {
		return m, fmt.Errorf("read member %d: %w", id, err)
	}
	m.Passkey = redactPasskey(m.Passkey)
	ids := []int64{}
	if inviter != nil {
		ids = append(ids, *inviter)
	}
	refs, err := s.memberRefs(ctx, ids, &m.ID)
	if err != nil {
		return m, err
	}
	m.Invitees = []MemberRef{}
	for _, r := range refs {
		if inviter != nil && r.ID == *inviter {
			r := r
			m.Inviter = &r
			continue
		}
		m.Invitees = append(m.Invitees, r)
	}
	if m.Adjustments, err = collect(ctx, s, sqlMemberAdjustments, "adjustments of member", func(row pgx.CollectableRow) (Adjustment, error) {
		var a Adjustment
		return a, row.Scan(&a.ID, &a.TorrentID, &a.TorrentName, &a.CreditedUploaded, &a.CreditedDownloaded,
			&a.BonusPoints, &a.Reason, &a.ReportID, &a.Actor, &a.CreatedAt)
	}, id); err != nil {
		return m, err
	}
	if m.Enforcement, err = collect(ctx, s, sqlMemberEnforcement, "enforcement of member", func(row pgx.CollectableRow) (EnforceRow, error) {
		var e EnforceRow
		return e, row.Scan(&e.Kind, &e.Ref, &e.Name, &e.Since, &e.Until, &e.Detail)
	}, id); err != nil {
		return m, err
	}
	if m.Seedboxes, err = collect(ctx, s, sqlMemberSeedboxes, "seedboxes of member", func(row pgx.CollectableRow) (Seedbox, error) {
		var b Seedbox
		return b, row.Scan(&b.ID, &b.CIDR, &b.CountsForCap, &b.Note, &b.CreatedAt)
	}, id); err != nil {
		return m, err
	}
	if m.Allowlist, err = collect(ctx, s, sqlMemberAllowlist, "allowlist of member", func(row pgx.CollectableRow) (AllowEntry, error) {
		var a AllowEntry
		return a, row.Scan(&a.ID, &a.Kind, &a.CIDR, &a.Reason, &a.CreatedBy, &a.CreatedAt)
	}, id); err != nil {
		return m, err
	}
	if m.Notes, err = collect(ctx, s, sqlMemberNotes, "notes on member", func(row pgx.CollectableRow) (Note, error) {
		var n Note
		return n, row.Scan(&n.ID, &n.Staff, &n.Body, &n.CreatedAt)
	}, id); err != nil {
		return m, err
	}
	uid := strconv.FormatInt(id, 10)
	if m.Reports, err = s.list(ctx, Filter{UserID: uid}, 500); err != nil {
		return m, err
	}
	if m.Reports == nil {
		m.Reports = []Report{}
	}
	reps := make([]string, len(m.Reports))
	for i, r := range m.Reports {
		reps[i] = strconv.FormatInt(r.ID, 10)
	}
	if m.History, _, err = s.Audit(ctx, AuditFilter{SubjectKind: "user", SubjectID: uid, Reports: reps, Limit: 200}); err != nil {
		return m, err
	}
	if m.History == nil {
		m.History = []AuditEntry{}
	}
	return m, nil
}

// collect runs one query and reads every row with scan; an empty result is
// an empty (not nil) slice, so the JSON says [] rather than null.
func collect[T any](ctx context.Context, s *Store, sql, what string, scan func(pgx.CollectableRow) (T, error), args ...any) ([]T, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if out == nil {
		out = []T{}
	}
	return out, nil
}

// memberRefs reads the members ids name, and the ones invitedBy invited (when set).
func (s *Store) memberRefs(ctx context.Context, ids []int64, invitedBy *int64) ([]MemberRef, error) {
	return collect(ctx, s, sqlMemberRefs, "members", scanMemberRef, ids, invitedBy)
}

// MemberNames maps member ids to names (ids that name no member are left out).
func (s *Store) MemberNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	return s.names(ctx, sqlMemberNames, "member names", ids)
}

// names runs an (id, name) query over ids and maps ids to names.
func (s *Store) names(ctx context.Context, sql, what string, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, sql, ids)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		out[id] = name
	}
	return out, rows.Err()
}

// AddNote records a staff note on a member, with its audit row.
func (s *Store) AddNote(ctx context.Context, actor Staff, userID int64, body string) (int64, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return 0, InputError{"the note is empty"}
	}
	if len(body) > 10000 {
		return 0, InputError{"a note is at most 10,000 characters"}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("add note on member %d: %w", userID, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	var id int64
	if err := tx.QueryRow(ctx, sqlInsertNote, userID, actor.ID, body).Scan(&id); err != nil {
		if strings.Contains(err.Error(), "staff_notes_user_id_fkey") {
			return 0, ErrMemberNotFound
		}
		return 0, fmt.Errorf("add note on member %d: %w", userID, err)
	}
	if _, err := tx.Exec(ctx, sqlInsertAudit, "staff:"+actor.Name, "member.note", "user", strconv.FormatInt(userID, 10),
		body, nil, nil); err != nil {
		return 0, fmt.Errorf("audit note on member %d: %w", userID, err)
	}
	return id, tx.Commit(ctx)
}

// memberWithActivity is the member and, when ClickHouse is configured, their
// activity over the last 30 days; a ClickHouse failure is said on the page,
// never hides what Postgres holds.
func (s *Server) memberWithActivity(ctx context.Context, id int64) (Member, error) {
	m, err := s.store.Member(ctx, id)
	if err != nil || s.activity == nil {
		return m, err
	}
	act, err := s.activity.Member(ctx, id, time.Now(), 30)
	if err != nil {
		s.log.Error("member activity", "member", id, "err", err)
		m.ActivityError = "ClickHouse is not answering: the IP, client and daily history is missing"
		return m, nil
	}
	if err := s.nameOthers(ctx, &act); err != nil {
		s.log.Warn("name members sharing networks", "err", err)
	}
	m.Activity = &act
	return m, nil
}

// jsonByID answers GET /api/WHAT/{id} with what read returns for the id.
func jsonByID[T any](s *Server, what string, read func(context.Context, int64) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r, what)
		if !ok {
			return
		}
		v, err := read(r.Context(), id)
		if err != nil {
			s.fail(w, r, statusFor(err), publicError(err), err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

func (s *Server) memberPage(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "member")
	if !ok {
		return
	}
	s.renderMember(w, r, id, http.StatusOK, "", "")
}

func (s *Server) renderMember(w http.ResponseWriter, r *http.Request, id int64, status int, msg, typed string) {
	m, err := s.memberWithActivity(r.Context(), id)
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	data := s.pageData(r, m.Name+" · member #"+strconv.FormatInt(id, 10))
	data["Member"], data["Error"], data["NoteTyped"] = m, msg, typed
	s.render(w, r, status, "member", data)
}

func (s *Server) noteForm(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "member")
	if !ok || !s.parseForm(w, r) {
		return
	}
	body := r.PostFormValue("body")
	if _, err := s.store.AddNote(r.Context(), staffOf(r), id, body); err != nil {
		s.renderMember(w, r, id, statusFor(err), publicError(err), body)
		return
	}
	http.Redirect(w, r, "/members/"+strconv.FormatInt(id, 10)+"#notes", http.StatusSeeOther)
}

func (s *Server) noteAPI(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "member")
	if !ok {
		return
	}
	var in struct {
		Body string `json:"body"`
	}
	if !s.decodeJSON(w, r, &in, `{"body": "..."}`) {
		return
	}
	nid, err := s.store.AddNote(r.Context(), staffOf(r), id, in.Body)
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": nid})
}

// nameOthers fills in the names of the members seen on the same networks.
func (s *Server) nameOthers(ctx context.Context, act *MemberActivity) error {
	ids := make([]int64, 0, len(act.Others))
	for _, o := range act.Others {
		ids = append(ids, int64(o.UserID))
	}
	names, err := s.store.MemberNames(ctx, ids)
	if err != nil {
		return err
	}
	for i := range act.Others {
		act.Others[i].Name = names[int64(act.Others[i].UserID)]
	}
	return nil
}

// humanBytes prints an amount of bytes (a decimal string as the ledger
// stores it, or a number) with binary prefixes; the exact figure stays in
// the JSON twin and in the cell's title.
func humanBytes(v any) string {
	switch n := v.(type) {
	case string:
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return n
		}
		return humanNumber(f, "bytes")
	case int64:
		return humanNumber(float64(n), "bytes")
	case uint64:
		return humanNumber(float64(n), "bytes")
	case float64:
		return humanNumber(n, "bytes")
	}
	return fmt.Sprint(v)
}

// humanRatio prints a ratio, or ∞ when nothing was downloaded (nil).
func humanRatio(r *float64) string {
	if r == nil {
		return "∞"
	}
	return strconv.FormatFloat(*r, 'f', 3, 64)
}
