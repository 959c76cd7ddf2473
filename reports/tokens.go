package reports

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	sqlInsertToken = query("insert_token")
	sqlListTokens  = query("list_tokens")
	sqlRevokeToken = query("revoke_token")
	sqlTokenStaff  = query("token_staff")
)

// API token scopes: read (GET), review (a moderator's writes: reviews,
// notes), admin (admin routes). A token never gives more than its staff
// account's role.
var Scopes = []string{"read", "review", "admin"}

// tokenPrefix marks long-lived API tokens apart from session tokens.
const tokenPrefix = "rgt_"

// APIToken is a long-lived token as admins see it (never the token itself).
type APIToken struct {
	ID         int64      `json:"id"`
	StaffID    int64      `json:"staff_id"`
	StaffName  string     `json:"staff"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateToken makes a token for a staff account with scopes, valid for
// days days (0: until revoked); the token is returned once, only its
// SHA-256 is kept.
func (s *Store) CreateToken(ctx context.Context, actor Staff, staffID int64, name string, scopes []string, days int) (int64, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return 0, "", InputError{"name the token (what uses it), at most 100 characters"}
	}
	if len(scopes) == 0 {
		return 0, "", InputError{"a token needs at least one scope: " + strings.Join(Scopes, ", ")}
	}
	for _, sc := range scopes {
		if !contains(Scopes, sc) {
			return 0, "", InputError{fmt.Sprintf("unknown scope %q (allowed: %s)", sc, strings.Join(Scopes, ", "))}
		}
	}
	if days < 0 || days > 3650 {
		return 0, "", InputError{"expires_in_days must be from 0 (never) to 3650"}
	}
	var role string
	if err := s.pool.QueryRow(ctx, `SELECT role FROM staff WHERE id = $1`, staffID).Scan(&role); errors.Is(err, pgx.ErrNoRows) {
		return 0, "", ErrStaffNotFound
	} else if err != nil {
		return 0, "", fmt.Errorf("create token: %w", err)
	}
	if contains(scopes, "admin") && role != RoleAdmin {
		return 0, "", InputError{"the admin scope is for an admin's token only"}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return 0, "", fmt.Errorf("create token: %w", err)
	}
	token := tokenPrefix + hex.EncodeToString(raw)
	var expires *time.Time
	if days > 0 {
		t := time.Now().Add(time.Duration(days) * 24 * time.Hour)
		expires = &t
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("create token: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	var id int64
	if err := tx.QueryRow(ctx, sqlInsertToken, staffID, name, tokenHash(token), scopes, expires).Scan(&id); errors.Is(err, pgx.ErrNoRows) {
		return 0, "", InputError{"the staff account is disabled"}
	} else if err != nil {
		return 0, "", fmt.Errorf("create token: %w", err)
	}
	if err := audit(ctx, tx, actor, "token.create", "api_token", id, name, nil,
		map[string]any{"staff_id": staffID, "scopes": scopes, "expires_at": expires}); err != nil {
		return 0, "", err
	}
	return id, token, tx.Commit(ctx)
}

// Tokens lists every API token, live ones first.
func (s *Store) Tokens(ctx context.Context) ([]APIToken, error) {
	return collect(ctx, s, sqlListTokens, "API tokens", func(row pgx.CollectableRow) (APIToken, error) {
		var t APIToken
		return t, row.Scan(&t.ID, &t.StaffID, &t.StaffName, &t.Name, &t.Scopes, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt)
	})
}

// RevokeToken ends a token at once, with its audit row.
func (s *Store) RevokeToken(ctx context.Context, actor Staff, id int64) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	var name string
	var staffID int64
	if err := tx.QueryRow(ctx, sqlRevokeToken, id).Scan(&name, &staffID); errors.Is(err, pgx.ErrNoRows) {
		return ErrRowNotFound
	} else if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	if err := audit(ctx, tx, actor, "token.revoke", "api_token", id, name, nil, map[string]any{"staff_id": staffID}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// TokenStaff returns who a live API token acts for and its scopes.
func (s *Store) TokenStaff(ctx context.Context, token string) (Staff, []string, bool, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) != len(tokenPrefix)+64 {
		return Staff{}, nil, false, nil
	}
	var st Staff
	var scopes []string
	err := s.pool.QueryRow(ctx, sqlTokenStaff, tokenHash(token)).Scan(&st.ID, &st.Name, &st.Role, &scopes)
	if errors.Is(err, pgx.ErrNoRows) {
		return Staff{}, nil, false, nil
	}
	if err != nil {
		return Staff{}, nil, false, fmt.Errorf("look up API token: %w", err)
	}
	return st, scopes, true, nil
}

// scopeAllows tells whether a token's scopes cover a route: admin routes
// need admin; other writes need review; reads need read (or review).
func scopeAllows(scopes []string, method, role string) bool {
	switch {
	case role == RoleAdmin:
		return contains(scopes, "admin")
	case method == http.MethodGet || method == http.MethodHead:
		return contains(scopes, "read") || contains(scopes, "review")
	default:
		return contains(scopes, "review")
	}
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request) {
	s.renderTokens(w, r, http.StatusOK, "", "")
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, status int, msg, created string) {
	list, err := s.store.Tokens(r.Context())
	if err == nil {
		var staff []StaffAccount
		staff, err = s.store.ListStaff(r.Context())
		if err == nil {
			data := s.pageData(r, "API tokens")
			data["Tokens"], data["StaffList"], data["Error"], data["Created"], data["Scopes"] = list, staff, msg, created, Scopes
			data["Sections"] = s.settingNames()
			s.render(w, r, status, "tokens", data)
			return
		}
	}
	s.fail(w, r, statusFor(err), publicError(err), err)
}

func (s *Server) tokenCreateForm(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	staffID, _ := strconv.ParseInt(r.PostFormValue("staff_id"), 10, 64)
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("expires_in_days")))
	if err != nil && r.PostFormValue("expires_in_days") != "" {
		s.renderTokens(w, r, http.StatusBadRequest, "expires_in_days must be a whole number of days", "")
		return
	}
	_, token, err := s.store.CreateToken(r.Context(), staffOf(r), staffID, r.PostFormValue("name"), r.PostForm["scope"], days)
	if err != nil {
		s.renderTokens(w, r, statusFor(err), publicError(err), "")
		return
	}
	s.renderTokens(w, r, http.StatusCreated, "", token)
}

func (s *Server) tokenCreateAPI(w http.ResponseWriter, r *http.Request) {
	var in struct {
		StaffID int64    `json:"staff_id"`
		Name    string   `json:"name"`
		Scopes  []string `json:"scopes"`
		Days    int      `json:"expires_in_days"`
	}
	if !s.decodeJSON(w, r, &in, `{staff_id, name, scopes[], expires_in_days}`) {
		return
	}
	id, token, err := s.store.CreateToken(r.Context(), staffOf(r), in.StaffID, in.Name, in.Scopes, in.Days)
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "token": token, "note": "shown once: only its hash is kept"})
}

func (s *Server) tokensAPI(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.Tokens(r.Context())
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": list})
}

func (s *Server) tokenRevoke(api bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r, "token")
		if !ok {
			return
		}
		err := s.store.RevokeToken(r.Context(), staffOf(r), id)
		switch {
		case err != nil && api:
			s.fail(w, r, statusFor(err), publicError(err), err)
		case err != nil:
			s.renderTokens(w, r, statusFor(err), publicError(err), "")
		case api:
			writeJSON(w, http.StatusOK, map[string]any{"revoked": id})
		default:
			http.Redirect(w, r, "/admin/tokens", http.StatusSeeOther)
		}
	}
}
