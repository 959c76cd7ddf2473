// Package control owns the site-facing control surface of the tracker: one
// Service that changes members, torrents, the five promotion levels
// (site-wide window, class or group, torrent, personal freeleech, freeleech
// token; neutral leech counts neither side), client rules, seedbox ranges
// and ledger adjustments in Postgres, each change with an audit_log row in
// the same transaction. Running trackers learn every change through the
// policy triggers (LISTEN/NOTIFY, tracker/policy). The protocol adapters
// (control/ocelot for Gazelle, control/unit3d for UNIT3D, control/api for
// the native JSON API) only parse and encode; members and torrents are
// addressed by the site's own ids (users.site_id, torrents.site_id) or by
// ours, their passkeys or info_hashes.
package control

import (
	"context"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/sqlfile"
	"github.com/ratioguard/ratioguard/tracker/admin"
	"github.com/ratioguard/ratioguard/tracker/core"
)

//go:embed sql/*.sql
var sqlFS embed.FS

var query = sqlfile.Queries(sqlFS)

// Errors every method wraps, so adapters map them to their protocol.
var (
	// ErrInvalid: the request is malformed or breaks a rule (bad passkey,
	// percent out of range).
	ErrInvalid = errors.New("invalid request")
	// ErrNotFound: the member, torrent or row named does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: another row already holds the passkey, info_hash, site id
	// or idempotency key.
	ErrConflict = errors.New("conflict")
)

// querier reads rows: a transaction or the pool.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// RemovedReason is the disabled_reason of a member the site removed: the
// announce tells it, and adding the member again restores only such a
// member (never one disabled by enforcement or staff).
const RemovedReason = "account removed from the site"

// Tracker is the running tracker's state the control surface reads and
// tunes (implemented by *core.Core).
type Tracker interface {
	SetInterval(interval, jitter time.Duration) error
	Intervals() (interval, jitter time.Duration)
	Stats() core.Stats
	UserPeers(userID uint64) (seeding, leeching int)
	TorrentPeers(torrentID uint64) []core.PeerInfo
	Scrape(infoHash [20]byte) (core.ScrapeStats, bool)
	Announces() uint64
}

// Service changes what the tracker enforces. It is safe for concurrent use.
type Service struct {
	pool    *pgxpool.Pool
	tracker Tracker
	log     *slog.Logger
}

// New returns a service over pool; tracker may be nil when no tracker runs
// in this process (then interval changes and live counts are refused).
func New(pool *pgxpool.Pool, tracker Tracker, log *slog.Logger) *Service {
	return &Service{pool: pool, tracker: tracker, log: log}
}

// Tracker is the running tracker (nil: none in this process).
func (s *Service) Tracker() Tracker { return s.tracker }

// MemberRef names one member: exactly one of ID, SiteID, Passkey.
type MemberRef struct {
	ID      int64
	SiteID  int64
	Passkey string
}

func (r MemberRef) String() string {
	switch {
	case r.ID != 0:
		return fmt.Sprintf("member %d", r.ID)
	case r.SiteID != 0:
		return fmt.Sprintf("member with site id %d", r.SiteID)
	default:
		return "member with passkey " + redact(r.Passkey)
	}
}

// TorrentRef names one torrent: exactly one of ID, SiteID, InfoHash.
type TorrentRef struct {
	ID       int64
	SiteID   int64
	InfoHash []byte
}

func (r TorrentRef) String() string {
	switch {
	case r.ID != 0:
		return fmt.Sprintf("torrent %d", r.ID)
	case r.SiteID != 0:
		return fmt.Sprintf("torrent with site id %d", r.SiteID)
	default:
		return "torrent with info_hash " + hex.EncodeToString(r.InfoHash)
	}
}

func redact(pk string) string {
	if len(pk) <= 4 {
		return "…"
	}
	return pk[:4] + "…"
}

// Member is a member as the control surface shows it.
type Member struct {
	ID                     int64      `json:"id"`
	SiteID                 *int64     `json:"site_id"`
	Name                   string     `json:"name"`
	Passkey                string     `json:"passkey"`
	Class                  string     `json:"class"`
	SiteGroupID            *int64     `json:"site_group_id,omitempty"`
	Enabled                bool       `json:"enabled"`
	DisabledReason         string     `json:"disabled_reason,omitempty"`
	CanLeech               bool       `json:"can_leech"`
	PersonalFreeleech      bool       `json:"personal_freeleech"`
	PersonalFreeleechUntil *time.Time `json:"personal_freeleech_until,omitempty"`
}

// Torrent is a torrent as the control surface shows it.
type Torrent struct {
	ID            int64      `json:"id"`
	SiteID        *int64     `json:"site_id"`
	InfoHash      string     `json:"info_hash"` // hex
	Name          string     `json:"name"`
	Size          int64      `json:"size"`
	Promotion     Promotion  `json:"promotion"`
	Featured      bool       `json:"featured"`
	Moderation    string     `json:"moderation"`
	DeletedAt     *time.Time `json:"deleted_at,omitempty"`
	DeletedReason string     `json:"deleted_reason,omitempty"`
}

// Promotion is a credit rule in percent (download 0: freeleech; upload
// 200: double upload; both 0: neutral leech). Until ends it (nil: no end).
type Promotion struct {
	Name            string     `json:"name"`
	DownloadPercent int        `json:"download_percent"`
	UploadPercent   int        `json:"upload_percent"`
	Until           *time.Time `json:"until,omitempty"`
}

// The torrent promotions the sites' protocols name.
var (
	PromoNone     = Promotion{Name: "none", DownloadPercent: 100, UploadPercent: 100}
	PromoFree     = Promotion{Name: "freeleech", DownloadPercent: 0, UploadPercent: 100}
	PromoNeutral  = Promotion{Name: "neutral", DownloadPercent: 0, UploadPercent: 0}
	PromoDouble   = Promotion{Name: "double_upload", DownloadPercent: 100, UploadPercent: 200}
	moderationSet = map[string]bool{"approved": true, "pending": true, "rejected": true, "postponed": true}
)

// Check says what is wrong with a torrent promotion.
func (p Promotion) Check() error {
	neutral := p.DownloadPercent == 0 && p.UploadPercent == 0
	switch {
	case p.Name == "":
		return fmt.Errorf("%w: promotion without a name", ErrInvalid)
	case p.DownloadPercent < 0 || p.DownloadPercent > 100:
		return fmt.Errorf("%w: download_percent %d is not within 0..100", ErrInvalid, p.DownloadPercent)
	case !neutral && (p.UploadPercent < 100 || p.UploadPercent > 1000):
		return fmt.Errorf("%w: upload_percent %d is not within 100..1000 (or 0 with download_percent 0: neutral leech)", ErrInvalid, p.UploadPercent)
	}
	return nil
}

// CheckPasskey says what is wrong with a passkey.
func CheckPasskey(pk string) error {
	if !admin.ValidPasskey(pk) {
		return fmt.Errorf("%w: passkey %q is not 32 characters of [0-9A-Za-z]", ErrInvalid, Clip(pk))
	}
	return nil
}

// Clip shortens what a client sent for an error message.
func Clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Invalidf is an ErrInvalid error saying what is wrong (the adapters'
// parse errors).
func Invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// HTTPStatus is the status an adapter answers err with: 400 for
// ErrInvalid, 404 ErrNotFound, 409 ErrConflict, else 500.
func HTTPStatus(err error) int {
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// inTx runs f in a transaction and writes its audit row.
func (s *Service) inTx(ctx context.Context, f func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", classify(err))
	}
	return nil
}

// audit records a change; after is JSON-encoded.
func audit(ctx context.Context, tx pgx.Tx, actor, action, kind string, id int64, reason string, after any) error {
	b, err := json.Marshal(after)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	if _, err := tx.Exec(ctx, query("audit"), actor, action, kind, fmt.Sprint(id), reason, b); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// classify wraps Postgres constraint errors in the package's errors.
func classify(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "23505":
		return fmt.Errorf("%w: %s already exists (%s)", ErrConflict, what(pe.ConstraintName), pe.Detail)
	case "23514", "22P02", "22003", "23502":
		return fmt.Errorf("%w: %s", ErrInvalid, pe.Message)
	case "23503":
		return fmt.Errorf("%w: %s", ErrNotFound, pe.Detail)
	}
	return err
}

func what(constraint string) string {
	switch constraint {
	case "users_passkey_key":
		return "a member with this passkey"
	case "users_site_id_key":
		return "a member with this site id"
	case "users_name_key":
		return "a member with this name"
	case "torrents_info_hash_key":
		return "a torrent with this info_hash"
	case "torrents_site_id_key":
		return "a torrent with this site id"
	case "member_classes_site_group_id_key":
		return "a class with this group id"
	case "seedbox_ranges_user_id_cidr_key":
		return "this seedbox range of the member"
	case "api_tokens_name_key":
		return "an API token with this name"
	}
	return constraint
}

func nullInt(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

func nullStr(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

func nullBytes(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	return v
}

// resolveMember returns the member's internal id.
func resolveMember(ctx context.Context, q pgx.Tx, r MemberRef) (int64, error) {
	if !exactlyOne(r.ID != 0, r.SiteID != 0, r.Passkey != "") {
		return 0, fmt.Errorf("%w: name a member by exactly one of id, site id or passkey", ErrInvalid)
	}
	var id int64
	err := q.QueryRow(ctx, query("resolve_member"), nullInt(r.ID), nullInt(r.SiteID), nullStr(r.Passkey)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("%w: %s", ErrNotFound, r)
	}
	if err != nil {
		return 0, fmt.Errorf("look up %s: %w", r, err)
	}
	return id, nil
}

// resolveTorrent returns the torrent's internal id.
func resolveTorrent(ctx context.Context, q pgx.Tx, r TorrentRef) (int64, error) {
	if !exactlyOne(r.ID != 0, r.SiteID != 0, len(r.InfoHash) != 0) {
		return 0, fmt.Errorf("%w: name a torrent by exactly one of id, site id or info_hash", ErrInvalid)
	}
	if len(r.InfoHash) != 0 && len(r.InfoHash) != 20 {
		return 0, fmt.Errorf("%w: info_hash has %d bytes, want 20", ErrInvalid, len(r.InfoHash))
	}
	var id int64
	err := q.QueryRow(ctx, query("resolve_torrent"), nullInt(r.ID), nullInt(r.SiteID), nullBytes(r.InfoHash)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("%w: %s", ErrNotFound, r)
	}
	if err != nil {
		return 0, fmt.Errorf("look up %s: %w", r, err)
	}
	return id, nil
}

// Log is the service's logger (adapters log with it).
func (s *Service) Log() *slog.Logger { return s.log }

func exactlyOne(set ...bool) bool {
	n := 0
	for _, ok := range set {
		if ok {
			n++
		}
	}
	return n == 1
}
