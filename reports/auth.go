package reports

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/crypto/bcrypt"
)

var (
	sqlInsertStaff   = query("insert_staff")
	sqlStaffByName   = query("staff_by_name")
	sqlInsertSession = query("insert_session")
	sqlSessionStaff  = query("session_staff")
	sqlDeleteSession = query("delete_session")
)

// Staff is a signed-in staff member.
type Staff struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// Errors of sign-in.
var (
	ErrBadCredentials = errors.New("wrong name or password")
	ErrStaffExists    = errors.New("a staff account with that name exists")
)

// MinPasswordLen is the shortest password a staff account may have.
const MinPasswordLen = 10

var staffNameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{2,64}$`)

// CreateStaff adds a staff account with a bcrypt-hashed password.
func (s *Store) CreateStaff(ctx context.Context, name, password, role string) (Staff, error) {
	if !staffNameRe.MatchString(name) {
		return Staff{}, InputError{"staff name must be 2-64 letters, digits, '.', '_' or '-'"}
	}
	if len(password) < MinPasswordLen {
		return Staff{}, InputError{fmt.Sprintf("password must have at least %d characters", MinPasswordLen)}
	}
	if role != "moderator" && role != "admin" {
		return Staff{}, InputError{fmt.Sprintf("role must be moderator or admin, not %q", role)}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return Staff{}, fmt.Errorf("hash password: %w", err)
	}
	var st Staff
	err = s.pool.QueryRow(ctx, sqlInsertStaff, name, string(hash), role).Scan(&st.ID, &st.Name, &st.Role)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return Staff{}, ErrStaffExists
	}
	if err != nil {
		return Staff{}, fmt.Errorf("create staff %s: %w", name, err)
	}
	return st, nil
}

// passwordCost is the bcrypt cost of every staff password hash.
const passwordCost = bcrypt.DefaultCost

// dummyHash keeps sign-in time the same for unknown names and wrong
// passwords: it has the cost of real hashes (a cheaper one answers unknown
// names ten times faster and so tells which names exist). Made on first use,
// not when the binary starts.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("not a real password"), passwordCost)
	if err != nil {
		panic("bcrypt: " + err.Error())
	}
	return h
})

// Authenticate checks a name and password.
func (s *Store) Authenticate(ctx context.Context, name, password string) (Staff, error) {
	var st Staff
	var hash string
	var disabled bool
	err := s.pool.QueryRow(ctx, sqlStaffByName, name).Scan(&st.ID, &st.Name, &st.Role, &hash, &disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return Staff{}, ErrBadCredentials
	}
	if err != nil {
		return Staff{}, fmt.Errorf("look up staff %s: %w", name, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || disabled {
		return Staff{}, ErrBadCredentials
	}
	return st, nil
}

// NewSession starts a session and returns its bearer token (only its hash is stored).
func (s *Store) NewSession(ctx context.Context, st Staff, ttl time.Duration) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	token := hex.EncodeToString(raw)
	if _, err := s.pool.Exec(ctx, sqlInsertSession, tokenHash(token), st.ID, time.Now().Add(ttl)); err != nil {
		return "", fmt.Errorf("store session: %w", err)
	}
	return token, nil
}

// SessionStaff returns who holds a live session token.
func (s *Store) SessionStaff(ctx context.Context, token string) (Staff, bool, error) {
	if len(token) != 64 {
		return Staff{}, false, nil
	}
	var st Staff
	err := s.pool.QueryRow(ctx, sqlSessionStaff, tokenHash(token)).Scan(&st.ID, &st.Name, &st.Role)
	if errors.Is(err, pgx.ErrNoRows) {
		return Staff{}, false, nil
	}
	if err != nil {
		return Staff{}, false, fmt.Errorf("look up session: %w", err)
	}
	return st, true, nil
}

// EndSession deletes a session (and any expired ones).
func (s *Store) EndSession(ctx context.Context, token string) error {
	if _, err := s.pool.Exec(ctx, sqlDeleteSession, tokenHash(token)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// csrfToken is the form token bound to a session: forms must echo it.
func csrfToken(session string) string {
	h := sha256.Sum256([]byte("csrf:" + session))
	return hex.EncodeToString(h[:16])
}

func validCSRF(session, got string) bool {
	return subtle.ConstantTimeCompare([]byte(csrfToken(session)), []byte(got)) == 1
}
