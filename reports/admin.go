package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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
	list, err := s.store.ListStaff(r.Context())
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	data := s.pageData(r, "Staff accounts")
	data["Accounts"], data["Error"] = list, msg
	s.render(w, r, status, "staff", data)
}

// setDisabledAPI is POST /api/admin/staff/{id}/disable or /enable, body {"reason": ...}.
func (s *Server) setDisabledAPI(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r, "staff")
		if !ok {
			return
		}
		var in struct {
			Reason string `json:"reason"`
		}
		if !s.decodeJSON(w, r, &in, `{"reason": ...}`) {
			return
		}
		a, err := s.store.SetStaffDisabled(r.Context(), staffOf(r), id, disabled, in.Reason)
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
