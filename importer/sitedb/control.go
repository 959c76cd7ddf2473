package sitedb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/tracker/control"
	u3d "github.com/ratioguard/ratioguard/tracker/control/unit3d"
)

// Control is what the site's database holds that the control protocols'
// tables keep and the site file does not. ApplyControl gives it to the
// tracker through the control service — the very calls (and checks) the
// site's own Ocelot or UNIT3D-Announce requests make.
type Control struct {
	NoLeech []Row            // members who may not leech (Gazelle can_leech, UNIT3D can_download, NexusPHP downloadpos)
	Blocked map[int64]string // UNIT3D: member site id → the blocked group's slug
	// Classes are UNIT3D's groups (slug, factors, download slots, immune).
	Classes []GroupClass
	Tokens  []Token
	// ClientRules: Gazelle's xbt_client_whitelist (allowed), UNIT3D's
	// blacklist_clients (banned).
	ClientRules       []ClientRule
	PersonalFreeleech []Row // UNIT3D personal_freeleeches: the members' rows
	Featured          []Row // UNIT3D featured torrents
}

// GroupClass is a UNIT3D group as a member class.
type GroupClass struct {
	Row   Row
	Class control.Class
}

// Token is a freeleech token of the member on the torrent (site ids).
type Token struct {
	Row                 string // users_freeleeches UserID 2 TorrentID 5
	Member, Torrent     int64
	ExpiresOnCompletion bool // Gazelle's end when the download completes
}

// ClientRule is a client list entry.
type ClientRule struct {
	Row  Row
	Rule control.ClientRule
}

// ControlSummary says what ApplyControl changed (or, dry, would change):
// one line per change, one per entry refused or left out.
type ControlSummary struct {
	Changes []string `json:"changes"`
	Refused []string `json:"refused"`
}

// importActor is the audit log's actor of ApplyControl's changes.
const importActor = "import-site"

// ApplyControl gives the tracker what the snapshot's Control holds and it
// does not have yet: members who may not leech and UNIT3D's blocked
// members (never enabled again here: a resync never undoes what
// enforcement or staff did; the site's own calls do), UNIT3D's groups,
// freeleech tokens, client rules, personal freeleech and featured
// torrents. Like the import it never removes anything. Each change is one
// control-service call, after the import's transaction committed (the
// members and torrents must exist); dryRun lists them without a call.
func ApplyControl(ctx context.Context, svc *control.Service, pool *pgxpool.Pool, snap *Snapshot, dryRun bool, log *slog.Logger) (ControlSummary, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &applier{svc: svc, dry: dryRun}
	c := &snap.Control
	cur, err := readControl(ctx, pool)
	if err != nil {
		return ControlSummary{}, err
	}
	no := false
	for _, r := range c.NoLeech {
		if m, ok := cur.members[r.ID]; !ok || m.canLeech {
			a.do(r.String()+": may not leech", func() error {
				_, err := svc.UpdateMember(ctx, importActor, control.MemberRef{SiteID: r.ID}, control.MemberPatch{CanLeech: &no})
				return err
			})
		}
	}
	blocked := make([]int64, 0, len(c.Blocked))
	for id := range c.Blocked {
		blocked = append(blocked, id)
	}
	slices.Sort(blocked)
	for _, id := range blocked {
		slug := c.Blocked[id]
		if m, ok := cur.members[id]; !ok || m.enabled {
			reason := u3d.GroupRefusal(slug)
			a.do(fmt.Sprintf("users id %d: disabled (%s)", id, reason), func() error {
				_, err := svc.UpdateMember(ctx, importActor, control.MemberRef{SiteID: id}, control.MemberPatch{Enabled: &no, DisabledReason: &reason})
				return err
			})
		}
	}
	for _, g := range c.Classes {
		if have, ok := cur.classes[g.Class.Name]; !ok || !sameClass(have, g.Class) {
			a.do(fmt.Sprintf("%s: class %s (download %d%%, upload %d%%, immune %t, download slots %s)", g.Row, g.Class.Name,
				g.Class.DownloadPercent, g.Class.UploadPercent, g.Class.Immune, slots(g.Class.DownloadSlots)), func() error {
				return svc.PutClass(ctx, importActor, g.Class)
			})
		}
	}
	for _, t := range c.Tokens {
		if exp, ok := cur.tokens[[2]int64{t.Member, t.Torrent}]; !ok || exp != t.ExpiresOnCompletion {
			a.do(t.Row+": freeleech token", func() error {
				return svc.AddToken(ctx, importActor, control.MemberRef{SiteID: t.Member}, control.TorrentRef{SiteID: t.Torrent}, t.ExpiresOnCompletion)
			})
		}
	}
	rules, err := svc.ClientRules(ctx)
	if err != nil {
		return ControlSummary{}, err
	}
	have := map[string]bool{}
	for _, r := range rules {
		have[fmt.Sprint(r.Allowed, r.Prefix)] = true
	}
	for _, r := range c.ClientRules {
		if k := fmt.Sprint(r.Rule.Allowed, r.Rule.Prefix); !have[k] {
			have[k] = true
			kind := "banned"
			if r.Rule.Allowed {
				kind = "allowed"
			}
			a.do(fmt.Sprintf("%s: client %q %s", r.Row, r.Rule.Prefix, kind), func() error {
				_, err := svc.AddClientRule(ctx, importActor, r.Rule)
				return err
			})
		}
	}
	for _, r := range c.PersonalFreeleech {
		if !cur.personal[r.ID] {
			a.do(r.String()+": personal freeleech", func() error {
				return svc.SetPersonalFreeleech(ctx, importActor, control.MemberRef{SiteID: r.ID}, nil)
			})
		}
	}
	for _, r := range c.Featured {
		if !cur.featured[r.ID] {
			a.do(r.String()+": featured", func() error {
				return svc.SetFeatured(ctx, importActor, control.TorrentRef{SiteID: r.ID}, true)
			})
		}
	}
	log.Debug("import site control", "changes", len(a.s.Changes), "refused", len(a.s.Refused), "dry_run", dryRun)
	return a.s, a.err
}

type applier struct {
	svc *control.Service
	dry bool
	s   ControlSummary
	err error // the first error that is not the entry's own
}

// do makes one change; a change the control service refuses (an invalid
// entry, a member or torrent that is not here) is listed as refused.
func (a *applier) do(what string, f func() error) {
	if a.err != nil {
		return
	}
	if a.dry {
		a.s.Changes = append(a.s.Changes, what)
		return
	}
	err := f()
	switch {
	case err == nil:
		a.s.Changes = append(a.s.Changes, what)
	case errors.Is(err, control.ErrInvalid) || errors.Is(err, control.ErrNotFound) || errors.Is(err, control.ErrConflict):
		a.s.Refused = append(a.s.Refused, fmt.Sprintf("%s: %v", what, err))
	default:
		a.err = fmt.Errorf("%s: %w", what, err)
	}
}

func sameClass(a, b control.Class) bool {
	return a.Name == b.Name && sameID(a.SiteGroupID, b.SiteGroupID) && a.DownloadPercent == b.DownloadPercent &&
		a.UploadPercent == b.UploadPercent && a.Immune == b.Immune && slots(a.DownloadSlots) == slots(b.DownloadSlots)
}

func sameID(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func slots(n *int) string {
	if n == nil {
		return "unlimited"
	}
	return fmt.Sprint(*n)
}

// current is the tracker's state ApplyControl compares with, by site ids.
type current struct {
	members  map[int64]struct{ canLeech, enabled bool }
	classes  map[string]control.Class
	tokens   map[[2]int64]bool // (member, torrent) → expires on completion
	personal map[int64]bool
	featured map[int64]bool
}

func readControl(ctx context.Context, pool *pgxpool.Pool) (*current, error) {
	c := &current{members: map[int64]struct{ canLeech, enabled bool }{}, classes: map[string]control.Class{},
		tokens: map[[2]int64]bool{}, personal: map[int64]bool{}, featured: map[int64]bool{}}
	read := func(what, q string, scan func(pgx.CollectableRow) error) error {
		rows, err := pool.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) { return struct{}{}, scan(r) })
		if err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		return nil
	}
	err := errors.Join(
		read("members", `SELECT site_id, can_leech, enabled FROM users WHERE site_id IS NOT NULL`, func(r pgx.CollectableRow) error {
			var id int64
			var m struct{ canLeech, enabled bool }
			err := r.Scan(&id, &m.canLeech, &m.enabled)
			c.members[id] = m
			return err
		}),
		read("classes", `SELECT class, site_group_id, download_percent, upload_percent, immune, download_slots FROM member_classes`, func(r pgx.CollectableRow) error {
			var k control.Class
			err := r.Scan(&k.Name, &k.SiteGroupID, &k.DownloadPercent, &k.UploadPercent, &k.Immune, &k.DownloadSlots)
			c.classes[k.Name] = k
			return err
		}),
		read("freeleech tokens", `SELECT u.site_id, t.site_id, f.expires_on_completion FROM freeleech_tokens f
			JOIN users u ON u.id = f.user_id JOIN torrents t ON t.id = f.torrent_id
			WHERE u.site_id IS NOT NULL AND t.site_id IS NOT NULL`, func(r pgx.CollectableRow) error {
			var k [2]int64
			var exp bool
			err := r.Scan(&k[0], &k[1], &exp)
			c.tokens[k] = exp
			return err
		}),
		read("personal freeleech", `SELECT u.site_id FROM personal_freeleech p JOIN users u ON u.id = p.user_id WHERE u.site_id IS NOT NULL`, func(r pgx.CollectableRow) error {
			var id int64
			err := r.Scan(&id)
			c.personal[id] = true
			return err
		}),
		read("featured torrents", `SELECT site_id FROM torrents WHERE featured AND site_id IS NOT NULL`, func(r pgx.CollectableRow) error {
			var id int64
			err := r.Scan(&id)
			c.featured[id] = true
			return err
		}),
	)
	return c, err
}
