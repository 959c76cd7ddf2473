package control

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// APIToken is a native API token as stored: its name, scopes and the
// SHA-256 of the secret (the secret itself is shown once, at creation).
type APIToken struct {
	ID     int64
	Name   string
	SHA256 [32]byte
	Scopes []string
}

// CreateAPIToken makes a token with scopes (each checked against valid)
// and returns its secret, which is not stored.
func (s *Service) CreateAPIToken(ctx context.Context, actor, name string, scopes []string, valid map[string]bool) (secret string, id int64, err error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", 0, fmt.Errorf("%w: a token needs a name", ErrInvalid)
	}
	if len(scopes) == 0 {
		return "", 0, fmt.Errorf("%w: a token needs at least one scope", ErrInvalid)
	}
	for _, sc := range scopes {
		if !valid[sc] {
			return "", 0, fmt.Errorf("%w: unknown scope %q", ErrInvalid, Clip(sc))
		}
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", 0, fmt.Errorf("generate token: %w", err)
	}
	secret = "rgt_" + base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(secret))
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, query("insert_api_token"), name, sum[:], scopes).Scan(&id); err != nil {
			return fmt.Errorf("create API token %q: %w", name, classify(err))
		}
		return audit(ctx, tx, actor, "control.api_token.create", "api_token", id, name, map[string]any{"scopes": scopes})
	})
	return secret, id, err
}

// APITokens lists the tokens not revoked.
func (s *Service) APITokens(ctx context.Context) ([]APIToken, error) {
	rows, err := s.pool.Query(ctx, query("api_tokens"))
	if err != nil {
		return nil, fmt.Errorf("read API tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIToken, error) {
		var (
			t   APIToken
			sum []byte
		)
		if err := r.Scan(&t.ID, &t.Name, &sum, &t.Scopes); err != nil {
			return t, err
		}
		if len(sum) != 32 {
			return t, fmt.Errorf("API token %d: hash of %d bytes", t.ID, len(sum))
		}
		t.SHA256 = [32]byte(sum)
		return t, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read API tokens: %w", err)
	}
	return out, nil
}
