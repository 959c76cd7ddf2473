// Package admin owns the business logic of the tracker's admin commands:
// registering members (with a fresh passkey) and torrents (parsed from a
// .torrent file, with an optional promotion) in Postgres. The policy
// triggers then notify running trackers.
package admin

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/sqlfile"
)

//go:embed sql/*.sql
var sqlFS embed.FS

var query = sqlfile.Queries(sqlFS)

var (
	qInsertUser    = query("insert_user")
	qInsertTorrent = query("insert_torrent")
)

// Classes are the built-in member classes. A member's class is free text
// (users.class): a site keeps its own names ("Power User", "SysOp"), and
// configuration maps classes to exemptions (detectors' staff_classes,
// enforce's exempt_classes).
var Classes = []string{"member", "power_user", "elite", "vip", "uploader", "staff"}

// CheckClass says what is wrong with a class name: empty, or with spaces
// around it (users.class refuses both).
func CheckClass(class string) error {
	switch {
	case class == "":
		return errors.New("class is empty")
	case strings.TrimSpace(class) != class:
		return fmt.Errorf("class %q has spaces around it", class)
	}
	return nil
}

// ValidPasskey reports whether s is a passkey users.passkey accepts: 32
// characters of [0-9A-Za-z]. Ours are lowercase hex; Gazelle's and
// NexusPHP's are [0-9a-z], UNIT3D's mixed case.
func ValidPasskey(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// User is a registered member.
type User struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Class       string `json:"class"`
	Passkey     string `json:"passkey"`
	AnnounceURL string `json:"announce_url"`
}

// ErrExists is returned when the name or info_hash is already registered.
var ErrExists = errors.New("already registered")

// NewPasskey returns 32 random hex characters.
func NewPasskey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate passkey: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// AnnounceURL is the member's announce URL on trackerBase (e.g. http://127.0.0.1:6969).
func AnnounceURL(trackerBase, passkey string) string {
	return strings.TrimRight(trackerBase, "/") + "/" + passkey + "/announce"
}

// AddUser registers a member with a fresh passkey.
func AddUser(ctx context.Context, pool *pgxpool.Pool, name, class, trackerBase string) (User, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return User{}, errors.New("a member needs a name")
	}
	if class == "" {
		class = "member"
	}
	if err := CheckClass(class); err != nil {
		return User{}, err
	}
	pk, err := NewPasskey()
	if err != nil {
		return User{}, err
	}
	u := User{Name: name, Class: class, Passkey: pk, AnnounceURL: AnnounceURL(trackerBase, pk)}
	if err := pool.QueryRow(ctx, qInsertUser, name, pk, class).Scan(&u.ID); err != nil {
		if isUnique(err) {
			return User{}, fmt.Errorf("member %q: %w", name, ErrExists)
		}
		return User{}, fmt.Errorf("insert member %q: %w", name, err)
	}
	return u, nil
}

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// Torrent is a registered torrent.
type Torrent struct {
	ID              int64      `json:"id"`
	InfoHash        string     `json:"info_hash"` // hex
	Name            string     `json:"name"`
	Size            int64      `json:"size"`
	Private         bool       `json:"private"`
	Promotion       string     `json:"promotion"`
	DownloadPercent int        `json:"download_percent"`
	UploadPercent   int        `json:"upload_percent"`
	PromotionUntil  *time.Time `json:"promotion_until,omitempty"`
}

// AddTorrent registers the torrent of a .torrent file's bytes with a
// promotion (see ParsePromotion; "" is none) ending at until (nil: no end).
// uploader may be 0.
func AddTorrent(ctx context.Context, pool *pgxpool.Pool, file []byte, promo string, until *time.Time, uploader int64) (Torrent, error) {
	meta, err := ParseTorrent(file)
	if err != nil {
		return Torrent{}, err
	}
	p, err := ParsePromotion(promo)
	if err != nil {
		return Torrent{}, err
	}
	if until != nil && p.Name == "none" {
		return Torrent{}, errors.New("--promo-until needs a --promo")
	}
	t := Torrent{InfoHash: hex.EncodeToString(meta.InfoHash[:]), Name: meta.Name, Size: meta.Size, Private: meta.Private,
		Promotion: p.Name, DownloadPercent: p.DownloadPercent, UploadPercent: p.UploadPercent, PromotionUntil: until}
	var up *int64
	if uploader != 0 {
		up = &uploader
	}
	err = pool.QueryRow(ctx, qInsertTorrent, meta.InfoHash[:], meta.Name, meta.Size, up, p.Name, p.DownloadPercent, p.UploadPercent, until).Scan(&t.ID)
	if err != nil {
		if isUnique(err) {
			return Torrent{}, fmt.Errorf("torrent %s (%s): %w", t.InfoHash, meta.Name, ErrExists)
		}
		return Torrent{}, fmt.Errorf("insert torrent %s: %w", meta.Name, err)
	}
	return t, nil
}
