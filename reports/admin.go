package reports

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"
)

var (
	sqlListStaff           = query("list_staff")
	sqlSetStaffDisabled    = query("set_staff_disabled")
	sqlDeleteStaffSessions = query("delete_staff_sessions")
)

// StaffAccount is a staff account as admins see it.
type StaffAccount struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	Sessions  int64     `json:"live_sessions"`
}

// ErrStaffNotFound is a staff id that names no account.
var ErrStaffNotFound = errors.New("staff account not found")

// ListStaff returns every staff account by name.
func (s *Store) ListStaff(ctx context.Context) ([]StaffAccount, error) {
	rows, err := s.pool.Query(ctx, sqlListStaff)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StaffAccount, error) {
		var a StaffAccount
		err := row.Scan(&a.ID, &a.Name, &a.Role, &a.Disabled, &a.CreatedAt, &a.Sessions)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	return out, nil
}

// SetStaffDisabled disables (ending every session) or enables a staff
// account, with its audit row, in one transaction. No one disables themselves.
func (s *Store) SetStaffDisabled(ctx context.Context, actor Staff, id int64, disabled bool, reason string) (StaffAccount, error) {
	reason = strings.TrimSpace(reason)
	if disabled && actor.ID == id {
		return StaffAccount{}, InputError{"you cannot disable your own account"}
	}
	if disabled && reason == "" {
		return StaffAccount{}, InputError{"say why the account is disabled (reason)"}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return StaffAccount{}, fmt.Errorf("set staff %d disabled: %w", id, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	var a StaffAccount
	var was bool
	err = tx.QueryRow(ctx, sqlSetStaffDisabled, id, disabled).Scan(&a.ID, &a.Name, &a.Role, &a.Disabled, &a.CreatedAt, &was)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, ErrStaffNotFound
	}
	if err != nil {
		return a, fmt.Errorf("set staff %d disabled: %w", id, err)
	}
	if disabled {
		if _, err := tx.Exec(ctx, sqlDeleteStaffSessions, id); err != nil {
			return a, fmt.Errorf("end sessions of staff %d: %w", id, err)
		}
	}
	action := "staff.enable"
	if disabled {
		action = "staff.disable"
	}
	before, _ := json.Marshal(map[string]any{"disabled": was})
	after, _ := json.Marshal(map[string]any{"disabled": disabled})
	if _, err := tx.Exec(ctx, sqlInsertAudit, "staff:"+actor.Name, action, "staff", strconv.FormatInt(id, 10), reason, before, after); err != nil {
		return a, fmt.Errorf("audit staff %d: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return a, fmt.Errorf("set staff %d disabled: %w", id, err)
	}
	return a, nil
}

func (s *Server) staffAPI(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.ListStaff(r.Context())
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	if list == nil {
		list = []StaffAccount{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"staff": list})
}

func (s *Server) staffPage(w http.ResponseWriter, r *http.Request) {
	s.renderStaff(w, r, http.StatusOK, "")
}

func (s *Server) renderStaff(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.renderStaffWith(w, r, status, msg, "")
}

// renderStaffWith is the staff page with an error msg, or a notice shown once.
func (s *Server) renderStaffWith(w http.ResponseWriter, r *http.Request, status int, msg, notice string) {
	list, err := s.store.ListStaff(r.Context())
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	data := s.pageData(r, "Staff accounts")
	data["Accounts"], data["Error"], data["Notice"] = list, msg, notice
	s.render(w, r, status, "staff", data)
}

// setDisabledAPI is POST /api/admin/staff/{id}/disable or /enable, body {"reason": ...}.
func (s *Server) setDisabledAPI(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r, "staff")
		if !ok {
			return
		}
		reason, ok := s.reasonOf(w, r)
		if !ok {
			return
		}
		a, err := s.store.SetStaffDisabled(r.Context(), staffOf(r), id, disabled, reason)
		if err != nil {
			s.fail(w, r, statusFor(err), publicError(err), err)
			return
		}
		writeJSON(w, http.StatusOK, a)
	}
}

func (s *Server) setDisabledForm(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r, "staff")
		if !ok || !s.parseForm(w, r) {
			return
		}
		if _, err := s.store.SetStaffDisabled(r.Context(), staffOf(r), id, disabled, r.PostFormValue("reason")); err != nil {
			s.renderStaff(w, r, statusFor(err), publicError(err))
			return
		}
		http.Redirect(w, r, "/admin/staff", http.StatusSeeOther)
	}
}

var sqlSetStaffPassword = query("set_staff_password")

// ResetPassword gives a staff account a new random password (returned once)
// and ends every session of it, with its audit row.
func (s *Store) ResetPassword(ctx context.Context, actor Staff, id int64) (string, error) {
	raw := make([]byte, 12)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("new password: %w", err)
	}
	password := base64.RawURLEncoding.EncodeToString(raw)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("reset password of staff %d: %w", id, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	var name string
	if err := tx.QueryRow(ctx, sqlSetStaffPassword, id, string(hash)).Scan(&name); errors.Is(err, pgx.ErrNoRows) {
		return "", ErrStaffNotFound
	} else if err != nil {
		return "", fmt.Errorf("reset password of staff %d: %w", id, err)
	}
	if _, err := tx.Exec(ctx, sqlDeleteStaffSessions, id); err != nil {
		return "", fmt.Errorf("end sessions of staff %d: %w", id, err)
	}
	if err := audit(ctx, tx, actor, "staff.reset_password", "staff", id, "", nil, map[string]any{"sessions": "ended"}); err != nil {
		return "", err
	}
	return password, tx.Commit(ctx)
}

// RevokeSessions ends every session of a staff account, with its audit row.
func (s *Store) RevokeSessions(ctx context.Context, actor Staff, id int64) (int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of staff %d: %w", id, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT TRUE FROM staff WHERE id = $1`, id).Scan(&exists); errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrStaffNotFound
	} else if err != nil {
		return 0, fmt.Errorf("revoke sessions of staff %d: %w", id, err)
	}
	tag, err := tx.Exec(ctx, sqlDeleteStaffSessions, id)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of staff %d: %w", id, err)
	}
	if err := audit(ctx, tx, actor, "staff.revoke_sessions", "staff", id, "", nil, map[string]any{"sessions_ended": tag.RowsAffected()}); err != nil {
		return 0, err
	}
	return tag.RowsAffected(), tx.Commit(ctx)
}

// staffAction is POST /admin/staff/{id}/password or /revoke (and /api/admin/...).
func (s *Server) staffAction(reset, api bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r, "staff")
		if !ok {
			return
		}
		var out map[string]any
		var err error
		if reset {
			var pw string
			pw, err = s.store.ResetPassword(r.Context(), staffOf(r), id)
			out = map[string]any{"id": id, "password": pw, "note": "shown once; every session of the account ended"}
		} else {
			var n int64
			n, err = s.store.RevokeSessions(r.Context(), staffOf(r), id)
			out = map[string]any{"id": id, "sessions_ended": n}
		}
		switch {
		case err != nil && api:
			s.fail(w, r, statusFor(err), publicError(err), err)
		case err != nil:
			s.renderStaff(w, r, statusFor(err), publicError(err))
		case api:
			writeJSON(w, http.StatusOK, out)
		case reset:
			s.renderStaffWith(w, r, http.StatusOK, "", fmt.Sprintf("New password for staff #%d, shown once: %s", id, out["password"]))
		default:
			http.Redirect(w, r, "/admin/staff", http.StatusSeeOther)
		}
	}
}
