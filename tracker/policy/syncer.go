package policy

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/sqlfile"
	"github.com/ratioguard/ratioguard/tracker/core"
)

// Channel is the Postgres NOTIFY channel the policy triggers write to.
const Channel = "ratioguard_policy"

//go:embed sql/*.sql
var sqlFS embed.FS

var query = sqlfile.Queries(sqlFS)

var (
	qUsers          = query("users")
	qTorrents       = query("torrents")
	qClientRules    = query("client_rules")
	qSitePromotions = query("site_promotions")
	qSeedboxes      = query("seedbox_ranges")
	qTokens         = query("freeleech_tokens")
	qReportSecrets  = query("report_secrets")
)

// SyncConfig tunes a Syncer.
type SyncConfig struct {
	// Resync is the period of the full reload that repairs anything a lost
	// notification missed (default 5 min).
	Resync time.Duration
	// RetryMax caps the backoff between reconnection attempts (default 30 s).
	RetryMax time.Duration
}

// Syncer keeps a Cache in step with Postgres.
type Syncer struct {
	cache    *Cache
	pool     *pgxpool.Pool
	cfg      SyncConfig
	log      *slog.Logger
	loaded   atomic.Bool
	lastSync atomic.Int64 // unix nanos of the last successful full load
}

// NewSyncer returns a syncer filling cache from pool.
func NewSyncer(pool *pgxpool.Pool, cache *Cache, cfg SyncConfig, log *slog.Logger) *Syncer {
	if cfg.Resync <= 0 {
		cfg.Resync = 5 * time.Minute
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 30 * time.Second
	}
	return &Syncer{cache: cache, pool: pool, cfg: cfg, log: log}
}

// Ready reports an error until the first full load succeeded.
func (s *Syncer) Ready() error {
	if !s.loaded.Load() {
		return errors.New("policy not loaded from postgres yet")
	}
	return nil
}

// LastSync is when the last full load succeeded (zero: never).
func (s *Syncer) LastSync() time.Time {
	if n := s.lastSync.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// LoadAll reads every table and swaps the cache's contents. On error the
// cache is left as it was.
func (s *Syncer) LoadAll(ctx context.Context) error {
	users, err := s.loadUsers(ctx, nil)
	if err != nil {
		return err
	}
	torrents, err := s.loadTorrents(ctx, nil)
	if err != nil {
		return err
	}
	if err := s.loadClientRules(ctx); err != nil {
		return err
	}
	if err := s.loadSitePromotions(ctx); err != nil {
		return err
	}
	if err := s.loadSeedboxes(ctx); err != nil {
		return err
	}
	if err := s.loadReportSecrets(ctx); err != nil {
		return err
	}
	byKey := make(map[string]*core.User, len(users))
	for _, u := range users {
		byKey[u.passkey] = u.user
	}
	byHash := make(map[[20]byte]*core.Torrent, len(torrents))
	for _, t := range torrents {
		byHash[t.infoHash] = t.torrent
	}
	s.cache.replaceAll(byKey, byHash)
	s.loaded.Store(true)
	s.lastSync.Store(time.Now().UnixNano())
	return nil
}

type userRow struct {
	passkey string
	user    *core.User
}

func (s *Syncer) loadUsers(ctx context.Context, id *int64) ([]userRow, error) {
	rows, err := s.pool.Query(ctx, qUsers, id)
	if err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (userRow, error) {
		var (
			id            int64
			u             = &core.User{}
			pk            string
			hasClass      bool
			dl, up        int32
			personalUntil *time.Time
			slots         *int32
			siteID        int64
		)
		err := r.Scan(&id, &pk, &u.Enabled, &u.DisabledReason, &u.CanLeech,
			&hasClass, &dl, &up, &u.PersonalFreeleech, &personalUntil, &slots, &siteID)
		u.ID, u.SiteID = uint64(id), uint64(siteID)
		if slots != nil && *slots >= 0 {
			n := uint32(*slots)
			u.DownloadSlots = &n
		}
		if p := (core.Promotion{Name: "class", DownloadPercent: uint32(dl), UploadPercent: uint32(up)}); hasClass && !p.IsNone() {
			u.ClassPromotion = &p
		}
		if personalUntil != nil {
			u.PersonalFreeleechUntil = *personalUntil
		}
		return userRow{passkey: pk, user: u}, err
	})
	if err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	return out, nil
}

type torrentRow struct {
	infoHash [20]byte
	torrent  *core.Torrent
}

func (s *Syncer) loadTorrents(ctx context.Context, id *int64) ([]torrentRow, error) {
	tokens, err := s.loadTokens(ctx, id)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, qTorrents, id)
	if err != nil {
		return nil, fmt.Errorf("load torrents: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (torrentRow, error) {
		var (
			id, size   int64
			ih         []byte
			dl, up     int32
			until      *time.Time
			deletedAt  *time.Time
			t          = &core.Torrent{}
			promoName  string
			featured   bool
			moderation string
		)
		if err := r.Scan(&id, &ih, &size, &promoName, &dl, &up, &until, &t.Deleted, &t.DeletedReason, &deletedAt,
			&featured, &moderation); err != nil {
			return torrentRow{}, err
		}
		if len(ih) != 20 {
			return torrentRow{}, fmt.Errorf("torrent %d: info_hash has %d bytes", id, len(ih))
		}
		t.ID, t.Size = uint64(id), uint64(size)
		t.Promotion = core.Promotion{Name: promoName, DownloadPercent: uint32(dl), UploadPercent: uint32(up)}
		if until != nil {
			t.PromotionUntil = *until
		}
		if featured && !t.Promotion.IsNeutral() {
			t.Promotion = featuredPromotion(t.Promotion, t.PromotionUntil)
			t.PromotionUntil = time.Time{}
		}
		if t.Promotion.IsNone() {
			t.Promotion = core.NoPromotion
		}
		if deletedAt != nil {
			t.DeletedAt = *deletedAt
		}
		t.Unavailable = moderationMessage[moderation]
		t.Tokens = tokens[id]
		return torrentRow{infoHash: [20]byte(ih), torrent: t}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("load torrents: %w", err)
	}
	return out, nil
}

// loadTokens reads the members holding a freeleech token, per torrent (id
// nil: every torrent's).
func (s *Syncer) loadTokens(ctx context.Context, id *int64) (map[int64]map[uint64]struct{}, error) {
	rows, err := s.pool.Query(ctx, qTokens, id)
	if err != nil {
		return nil, fmt.Errorf("load freeleech tokens: %w", err)
	}
	out := map[int64]map[uint64]struct{}{}
	var torrent, user int64
	_, err = pgx.ForEachRow(rows, []any{&torrent, &user}, func() error {
		if out[torrent] == nil {
			out[torrent] = map[uint64]struct{}{}
		}
		out[torrent][uint64(user)] = struct{}{}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load freeleech tokens: %w", err)
	}
	return out, nil
}

func (s *Syncer) loadClientRules(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, qClientRules)
	if err != nil {
		return fmt.Errorf("load client rules: %w", err)
	}
	rules, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.ClientRule, error) {
		var c core.ClientRule
		err := r.Scan(&c.Prefix, &c.MinVersion, &c.MaxVersion, &c.UAFamily, &c.Allowed, &c.Reason)
		return c, err
	})
	if err != nil {
		return fmt.Errorf("load client rules: %w", err)
	}
	if err := s.cache.SetClientRules(rules); err != nil {
		return fmt.Errorf("load client rules: %w", err)
	}
	return nil
}

func (s *Syncer) loadSitePromotions(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, qSitePromotions)
	if err != nil {
		return fmt.Errorf("load site promotions: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SitePromotion, error) {
		var p SitePromotion
		var dl, up int32
		err := r.Scan(&p.Name, &dl, &up, &p.Starts, &p.Ends)
		p.DownloadPercent, p.UploadPercent = uint32(dl), uint32(up)
		return p, err
	})
	if err != nil {
		return fmt.Errorf("load site promotions: %w", err)
	}
	s.cache.SetSitePromotions(ps)
	return nil
}

func (s *Syncer) loadSeedboxes(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, qSeedboxes)
	if err != nil {
		return fmt.Errorf("load seedbox ranges: %w", err)
	}
	m := map[uint64][]SeedboxRange{}
	var (
		user   int64
		cidr   string
		counts bool
	)
	_, err = pgx.ForEachRow(rows, []any{&user, &cidr, &counts}, func() error {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return fmt.Errorf("seedbox range %q: %w", cidr, err)
		}
		m[uint64(user)] = append(m[uint64(user)], SeedboxRange{Prefix: p.Masked(), CountsForCap: counts})
		return nil
	})
	if err != nil {
		return fmt.Errorf("load seedbox ranges: %w", err)
	}
	s.cache.SetSeedboxes(m)
	return nil
}

func (s *Syncer) loadReportSecrets(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, qReportSecrets)
	if err != nil {
		return fmt.Errorf("load report secrets: %w", err)
	}
	m := map[uint64]map[uint64]string{}
	var (
		user, torrent int64
		secret        string
	)
	_, err = pgx.ForEachRow(rows, []any{&user, &torrent, &secret}, func() error {
		if m[uint64(user)] == nil {
			m[uint64(user)] = map[uint64]string{}
		}
		m[uint64(user)][uint64(torrent)] = secret
		return nil
	})
	if err != nil {
		return fmt.Errorf("load report secrets: %w", err)
	}
	s.cache.SetReportSecrets(m)
	return nil
}

// notification is the payload of the policy triggers.
type notification struct {
	Table string `json:"table"`
	Op    string `json:"op"`
	ID    int64  `json:"id"`
}

// apply reloads what one notification says changed.
func (s *Syncer) apply(ctx context.Context, payload string) error {
	var n notification
	if err := json.Unmarshal([]byte(payload), &n); err != nil {
		return fmt.Errorf("policy notification %q: %w", payload, err)
	}
	switch n.Table {
	case "users":
		rows, err := s.loadUsers(ctx, &n.ID)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			s.cache.DeleteUser(uint64(n.ID))
		}
		for _, r := range rows {
			s.cache.PutUser(r.passkey, r.user)
		}
	case "torrents":
		rows, err := s.loadTorrents(ctx, &n.ID)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			s.cache.DeleteTorrent(uint64(n.ID))
		}
		for _, r := range rows {
			s.cache.PutTorrent(r.infoHash, r.torrent)
		}
	case "member_classes":
		// A class's promotion is part of each of its members: reload them all.
		return s.LoadAll(ctx)
	case "client_rules":
		return s.loadClientRules(ctx)
	case "site_promotions":
		return s.loadSitePromotions(ctx)
	case "seedbox_ranges":
		return s.loadSeedboxes(ctx)
	case "report_secrets":
		return s.loadReportSecrets(ctx)
	default:
		s.log.Warn("policy notification for an unknown table", "table", n.Table)
	}
	return nil
}

// Run listens for changes until ctx ends. It loads everything after each
// (re)connection and every Resync; while Postgres is unreachable it retries
// with backoff and the cache keeps serving what it has.
func (s *Syncer) Run(ctx context.Context) error {
	backoff := time.Second
	for ctx.Err() == nil {
		err := s.listen(ctx)
		if ctx.Err() != nil {
			break
		}
		s.log.Warn("policy sync interrupted; serving from cache", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, s.cfg.RetryMax)
		if err == nil {
			backoff = time.Second
		}
	}
	return nil
}

// listen holds one LISTEN connection until it fails.
func (s *Syncer) listen(ctx context.Context) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire listen connection: %w", err)
	}
	conn := pc.Hijack()
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = conn.Close(c)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return fmt.Errorf("listen on %s: %w", Channel, err)
	}
	// Changes made while we were not listening: load everything.
	if err := s.LoadAll(ctx); err != nil {
		return err
	}
	s.log.Info("policy loaded; listening for changes", "channel", Channel)
	next := time.Now().Add(s.cfg.Resync)
	for {
		wctx, cancel := context.WithDeadline(ctx, next)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) || time.Now().After(next) {
				// Resync; the connection may have been interrupted by the deadline.
				if err := s.LoadAll(ctx); err != nil {
					return err
				}
				next = time.Now().Add(s.cfg.Resync)
				if conn.IsClosed() {
					return errors.New("listen connection closed by the resync deadline")
				}
				continue
			}
			return fmt.Errorf("wait for policy notification: %w", err)
		}
		if err := s.apply(ctx, n.Payload); err != nil {
			s.log.Warn("apply policy notification", "err", err)
		}
	}
}

// featuredPromotion is a featured torrent's promotion (UNIT3D: freeleech
// and double upload) on top of its own, whose time limit no longer applies
// while featured (the feature is the site's to remove).
func featuredPromotion(own core.Promotion, until time.Time) core.Promotion {
	p := core.Promotion{Name: "featured", DownloadPercent: 0, UploadPercent: 200}
	if !own.IsNone() && (until.IsZero() || time.Now().Before(until)) {
		p.Name = own.Name + "+featured"
		p.UploadPercent = max(p.UploadPercent, own.UploadPercent)
	}
	return p
}

// moderationMessage is what announces on a torrent not approved are told
// (UNIT3D's moderation states); approved torrents have none.
var moderationMessage = map[string]string{
	"pending":   "torrent is pending moderation",
	"rejected":  "torrent has been rejected by moderation",
	"postponed": "torrent has been postponed by moderation",
}
