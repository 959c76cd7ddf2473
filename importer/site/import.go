package site

import (
	"context"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/sqlfile"
)

//go:embed sql/*.sql
var sqlFS embed.FS

var query = sqlfile.Queries(sqlFS)

// Options tune an import.
type Options struct {
	// DryRun computes the summary and rolls back.
	DryRun bool
	// Log receives one debug line per step (nil: discard).
	Log *slog.Logger
	// Changes lists every difference in Summary.Changes: each record
	// created and each field an update changes, with its old and new value.
	Changes bool
}

// Change is one difference an import makes (or, dry, would make) to one
// record: Field "" is the record created; otherwise the field's old and
// new value as text (report secrets are not shown, only that they change).
type Change struct {
	Record string `json:"record"` // members[3], torrents[0]
	Name   string `json:"name"`   // the member's name or the torrent's info_hash
	Field  string `json:"field,omitempty"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
}

// Summary says what an import changed (or, for a dry run, would change).
type Summary struct {
	DryRun    bool          `json:"dry_run"`
	Members   MemberCounts  `json:"members"`
	Torrents  TorrentCounts `json:"torrents"`
	Seedboxes SeedboxCounts `json:"seedbox_ranges"`
	Secrets   SecretCounts  `json:"report_secrets"`
	History   HistoryCounts `json:"site_history"`
	Seconds   float64       `json:"seconds"`
	Changes   []Change      `json:"changes,omitempty"` // with Options.Changes
}

// MemberCounts counts the file's members by outcome; Changed says how many
// of the updated ones changed each field (one may change several).
type MemberCounts struct {
	Created   int          `json:"created"`
	Updated   int          `json:"updated"`
	Unchanged int          `json:"unchanged"`
	Changed   MemberFields `json:"changed"`
}

// MemberFields counts updated members per changed field.
type MemberFields struct {
	Passkey   int `json:"passkey"`
	Class     int `json:"class"`
	Enabled   int `json:"enabled"`
	InvitedBy int `json:"invited_by"`
	CreatedAt int `json:"created_at"`
	SiteID    int `json:"site_id"`
}

// TorrentCounts counts the file's torrents by outcome.
type TorrentCounts struct {
	Created   int           `json:"created"`
	Updated   int           `json:"updated"`
	Unchanged int           `json:"unchanged"`
	Changed   TorrentFields `json:"changed"`
}

// TorrentFields counts updated torrents per changed field.
type TorrentFields struct {
	Name      int `json:"name"`
	Size      int `json:"size"`
	Promotion int `json:"promotion"`
	CreatedAt int `json:"created_at"`
	Uploader  int `json:"uploader"`
	SiteID    int `json:"site_id"`
}

// SeedboxCounts: declared seedbox ranges of the members whose set the file
// gives.
type SeedboxCounts struct {
	Members   int `json:"members"`           // members whose set the file gives (possibly empty)
	Declaring int `json:"members_declaring"` // of which the set is not empty
	Changed   int `json:"members_changed"`   // of which the set changed
	Set       int `json:"set"`               // ranges declared after the import
	Added     int `json:"added"`
	Removed   int `json:"removed"`
}

// SecretCounts: NexusPHP report secrets of the members whose set the file
// gives.
type SecretCounts struct {
	Members int `json:"members"`         // members whose set the file gives (possibly empty)
	Changed int `json:"members_changed"` // of which the set changed
	Set     int `json:"set"`             // secrets after the import
	Written int `json:"written"`         // secrets added or changed
	Removed int `json:"removed"`
}

// existingUser is a users row the file names.
type existingUser struct {
	id        int64
	name      string
	passkey   string
	class     string
	enabled   bool
	invitedBy *int64
	created   time.Time
	siteID    *int64
}

// existingTorrent is a torrents row the file lists.
type existingTorrent struct {
	id       int64
	name     string
	size     int64
	promo    string
	dl, up   int32
	until    *time.Time
	created  time.Time
	uploader *int64
	siteID   *int64
}

// Import writes f into Postgres in one transaction: members, their
// inviters, their declared seedboxes, torrents. References to members
// outside the file and passkeys held by members outside it are checked
// first: any problem is an *InvalidError and nothing is written.
func Import(ctx context.Context, pool *pgxpool.Pool, f *File, opt Options) (Summary, error) {
	start := time.Now()
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("import site: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after commit this is a no-op
	if _, err := tx.Exec(ctx, query("lock")); err != nil {
		return Summary{}, fmt.Errorf("import site: wait for another import: %w", err)
	}
	im := &importer{tx: tx, f: f, log: log, s: Summary{DryRun: opt.DryRun}, updated: map[int64]bool{}, changes: opt.Changes}
	if err := im.load(ctx); err != nil {
		return Summary{}, err
	}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"members", im.members},
		{"inviters", im.invites},
		{"seedbox ranges", im.seedboxes},
		{"report secrets", im.reportSecrets},
		{"torrents", im.torrents},
		{"site history", im.history},
	}
	for _, st := range steps {
		t0 := time.Now()
		if err := st.run(ctx); err != nil {
			return Summary{}, err
		}
		log.Debug("import site", "step", st.name, "took", time.Since(t0))
	}
	if !opt.DryRun {
		if err := tx.Commit(ctx); err != nil {
			return Summary{}, fmt.Errorf("import site: commit: %w", err)
		}
	}
	im.s.Seconds = time.Since(start).Seconds()
	return im.s, nil
}

type importer struct {
	tx  pgx.Tx
	f   *File
	log *slog.Logger
	s   Summary

	users   map[string]*existingUser // by name: the file's members and the members it refers to
	ids     map[string]int64         // by name, after members: every member the file names
	updated map[int64]bool           // existing members the import changes
	known   map[[20]byte]*existingTorrent
	changes bool             // list every change in s.Changes
	names   map[int64]string // by id, built from ids by nameOf
}

// change lists one difference of a record when Options.Changes asks.
func (im *importer) change(r record, name, field string, old, new any) {
	if !im.changes {
		return
	}
	c := Change{Record: fmt.Sprintf("%s[%d]", r.kind, r.index), Name: name, Field: field}
	if field != "" {
		c.Old, c.New = text(old), text(new)
	}
	im.s.Changes = append(im.s.Changes, c)
}

// text shows a value of a Change.
func text(v any) string {
	switch v := v.(type) {
	case *int64:
		if v == nil {
			return "none"
		}
		return fmt.Sprint(*v)
	case *time.Time:
		if v == nil {
			return "none"
		}
		return v.UTC().Format(time.RFC3339)
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

// load reads the rows the file names and checks what needs the database.
func (im *importer) load(ctx context.Context) error {
	t0 := time.Now()
	names := make([]string, 0, len(im.f.Members))
	keys := make([]string, 0, len(im.f.Members))
	for _, m := range im.f.Members {
		names = append(names, m.Name)
		keys = append(keys, m.Passkey)
	}
	refs := im.f.References()
	rows, err := im.tx.Query(ctx, query("users_select"), append(append([]string{}, names...), refs...))
	if err != nil {
		return fmt.Errorf("import site: read members: %w", err)
	}
	im.users = make(map[string]*existingUser, len(names))
	var u existingUser
	_, err = pgx.ForEachRow(rows, []any{&u.id, &u.name, &u.passkey, &u.class, &u.enabled, &u.invitedBy, &u.created, &u.siteID}, func() error {
		c := u
		im.users[u.name] = &c
		return nil
	})
	if err != nil {
		return fmt.Errorf("import site: read members: %w", err)
	}
	var ps problems
	for _, n := range refs {
		if im.users[n] == nil {
			ps = append(ps, im.unknownRefs(n)...)
		}
	}
	rows, err = im.tx.Query(ctx, query("users_passkey_owners"), keys, names)
	if err != nil {
		return fmt.Errorf("import site: read passkey owners: %w", err)
	}
	owners := map[string]string{}
	var id int64
	var name, key string
	if _, err := pgx.ForEachRow(rows, []any{&id, &name, &key}, func() error {
		owners[key] = fmt.Sprintf("%q (id %d)", name, id)
		return nil
	}); err != nil {
		return fmt.Errorf("import site: read passkey owners: %w", err)
	}
	for _, m := range im.f.Members {
		if o, taken := owners[m.Passkey]; taken {
			ps.add(record{"members", m.Index}, m.Name, "passkey", "already the passkey of member %s, who is not in this file", o)
		}
	}
	if err := im.siteIDOwners(ctx, names, &ps); err != nil {
		return err
	}
	if err := ps.err(); err != nil {
		return err
	}

	hashes := make([][]byte, len(im.f.Torrents))
	for i := range im.f.Torrents {
		hashes[i] = im.f.Torrents[i].InfoHash[:]
	}
	rows, err = im.tx.Query(ctx, query("torrents_select"), hashes)
	if err != nil {
		return fmt.Errorf("import site: read torrents: %w", err)
	}
	im.known = make(map[[20]byte]*existingTorrent, len(hashes))
	var t existingTorrent
	var ih []byte
	_, err = pgx.ForEachRow(rows, []any{&t.id, &ih, &t.name, &t.size, &t.promo, &t.dl, &t.up, &t.until, &t.created, &t.uploader, &t.siteID}, func() error {
		if len(ih) != 20 {
			return fmt.Errorf("torrent %d has a %d-byte info_hash", t.id, len(ih))
		}
		c := t
		im.known[[20]byte(ih)] = &c
		return nil
	})
	if err != nil {
		return fmt.Errorf("import site: read torrents: %w", err)
	}
	im.log.Debug("import site", "step", "read", "members_known", len(im.users), "torrents_known", len(im.known), "took", time.Since(t0))
	return nil
}

// unknownRefs: every record naming a member that is neither in the file nor
// in the database.
func (im *importer) unknownRefs(name string) problems {
	var ps problems
	for _, m := range im.f.Members {
		if m.InvitedBy != nil && *m.InvitedBy == name {
			ps.add(record{"members", m.Index}, m.Name, "invited_by", "no member %q in this file or in ratioguard", name)
		}
	}
	for _, t := range im.f.Torrents {
		if t.Uploader != nil && *t.Uploader == name {
			ps.add(record{"torrents", t.Index}, hex.EncodeToString(t.InfoHash[:]), "uploader", "no member %q in this file or in ratioguard", name)
		}
	}
	return ps
}

// members creates and updates the file's members (inviters come after,
// once every member has an id).
func (im *importer) members(ctx context.Context) error {
	var ins struct {
		names, keys, classes []string
		enabled              []bool
		created              []*time.Time
		siteIDs              []*int64
	}
	var upd struct {
		ids           []int64
		keys, classes []string
		enabled       []bool
		created       []time.Time
		siteIDs       []*int64
	}
	var newSiteID []int64        // existing members whose site id changes
	heldBy := map[string]int64{} // current passkey → id, of the file's existing members
	c := &im.s.Members
	for _, m := range im.f.Members {
		cur := im.users[m.Name]
		rec := record{"members", m.Index}
		if cur == nil {
			im.change(rec, m.Name, "", nil, nil)
			ins.names = append(ins.names, m.Name)
			ins.keys = append(ins.keys, m.Passkey)
			ins.classes = append(ins.classes, m.Class)
			ins.enabled = append(ins.enabled, m.Enabled == nil || *m.Enabled)
			ins.created = append(ins.created, m.Created)
			ins.siteIDs = append(ins.siteIDs, m.SiteID)
			continue
		}
		heldBy[cur.passkey] = cur.id
		enabled, created, siteID := cur.enabled, cur.created, cur.siteID
		if m.Enabled != nil {
			enabled = *m.Enabled
		}
		if m.SiteID != nil {
			siteID = m.SiteID
		}
		if m.Created != nil {
			created = *m.Created
		}
		changed := false
		count := func(diff bool, n *int) {
			if diff {
				*n++
				changed = true
			}
		}
		diff := func(d bool, n *int, field string, old, new any) {
			if d {
				im.change(rec, m.Name, field, old, new)
			}
			count(d, n)
		}
		diff(m.Passkey != cur.passkey, &c.Changed.Passkey, "passkey", cur.passkey, m.Passkey)
		diff(m.Class != cur.class, &c.Changed.Class, "class", cur.class, m.Class)
		diff(enabled != cur.enabled, &c.Changed.Enabled, "enabled", cur.enabled, enabled)
		diff(!created.Equal(cur.created), &c.Changed.CreatedAt, "created_at", cur.created, created)
		diff(!sameID(siteID, cur.siteID), &c.Changed.SiteID, "site_id", cur.siteID, siteID)
		if !changed {
			continue
		}
		if !sameID(siteID, cur.siteID) {
			newSiteID = append(newSiteID, cur.id)
		}
		upd.siteIDs = append(upd.siteIDs, siteID)
		upd.ids = append(upd.ids, cur.id)
		upd.keys = append(upd.keys, m.Passkey)
		upd.classes = append(upd.classes, m.Class)
		upd.enabled = append(upd.enabled, enabled)
		upd.created = append(upd.created, created)
		im.updated[cur.id] = true
	}
	// A passkey still held by another of the file's members (who gets a new
	// one too, since the file's passkeys are unique): park the holders first.
	var park []int64
	for _, m := range im.f.Members {
		if holder, held := heldBy[m.Passkey]; held {
			if cur := im.users[m.Name]; cur == nil || cur.id != holder {
				park = append(park, holder)
			}
		}
	}
	if len(park) > 0 {
		if _, err := im.tx.Exec(ctx, query("users_park_passkeys"), park); err != nil {
			return fmt.Errorf("import site: free %d passkeys members trade: %w", len(park), err)
		}
		im.log.Debug("import site", "passkeys_traded", len(park))
	}
	if len(newSiteID) > 0 {
		if _, err := im.tx.Exec(ctx, query("users_park_site_ids"), newSiteID); err != nil {
			return fmt.Errorf("import site: free the site ids of %d members: %w", len(newSiteID), err)
		}
	}
	if len(upd.ids) > 0 {
		if _, err := im.tx.Exec(ctx, query("users_update"), upd.ids, upd.keys, upd.classes, upd.enabled, upd.created, upd.siteIDs); err != nil {
			return fmt.Errorf("import site: update %d members: %w", len(upd.ids), err)
		}
	}
	im.ids = make(map[string]int64, len(im.users)+len(ins.names))
	for n, u := range im.users {
		im.ids[n] = u.id
	}
	if len(ins.names) > 0 {
		rows, err := im.tx.Query(ctx, query("users_insert"), ins.names, ins.keys, ins.classes, ins.enabled, ins.created, ins.siteIDs)
		if err != nil {
			return fmt.Errorf("import site: create %d members: %w", len(ins.names), err)
		}
		var id int64
		var name string
		n, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error {
			im.ids[name] = id
			return nil
		})
		if err == nil && int(n.RowsAffected()) != len(ins.names) {
			err = fmt.Errorf("%d of %d created", n.RowsAffected(), len(ins.names))
		}
		if err != nil {
			return fmt.Errorf("import site: create %d members: %w", len(ins.names), err)
		}
	}
	c.Created = len(ins.names)
	return nil
}

// invites sets who invited each member whose record says, once every
// member has an id (an inviter may come later in the file).
func (im *importer) invites(ctx context.Context) error {
	var ids, inviters []int64
	for _, m := range im.f.Members {
		if m.InvitedBy == nil {
			continue
		}
		want := int64(0)
		if *m.InvitedBy != "" {
			want = im.ids[*m.InvitedBy]
		}
		have := int64(0)
		cur := im.users[m.Name]
		if cur != nil {
			have = deref(cur.invitedBy)
		}
		if want == have {
			continue
		}
		ids = append(ids, im.ids[m.Name])
		inviters = append(inviters, want)
		if cur != nil {
			im.s.Members.Changed.InvitedBy++
			im.updated[cur.id] = true
			if im.changes {
				im.change(record{"members", m.Index}, m.Name, "invited_by", im.nameOf(have), im.nameOf(want))
			}
		}
	}
	im.s.Members.Updated = len(im.updated)
	im.s.Members.Unchanged = len(im.f.Members) - im.s.Members.Created - im.s.Members.Updated
	if len(ids) == 0 {
		return nil
	}
	if _, err := im.tx.Exec(ctx, query("users_invites"), ids, inviters); err != nil {
		return fmt.Errorf("import site: record who invited %d members: %w", len(ids), err)
	}
	return nil
}

// setChanges lists, in file order, the members whose set of field changed
// (sizes: the set's old and new size as text).
func (im *importer) setChanges(changed map[int64]bool, field string, sizes func(id int64) (string, string)) {
	if !im.changes || len(changed) == 0 {
		return
	}
	for _, m := range im.f.Members {
		if id := im.ids[m.Name]; changed[id] && im.users[m.Name] != nil { // a member created: listed as such
			old, new := sizes(id)
			im.change(record{"members", m.Index}, m.Name, field, old, new)
		}
	}
}

// nameOf names a member by id for a Change ("" for id 0: nobody).
func (im *importer) nameOf(id int64) string {
	if id == 0 {
		return `""`
	}
	if im.names == nil {
		im.names = make(map[int64]string, len(im.ids))
		for n, i := range im.ids {
			im.names[i] = n
		}
	}
	if n, ok := im.names[id]; ok {
		return n
	}
	return fmt.Sprintf("member id %d", id)
}

// seedboxes replaces the declared set of every member whose record gives one.
func (im *importer) seedboxes(ctx context.Context) error {
	c := &im.s.Seedboxes
	var users []int64
	want := map[int64]map[netip.Prefix]bool{}
	for _, m := range im.f.Members {
		if m.Seedboxes == nil {
			continue
		}
		id := im.ids[m.Name]
		users = append(users, id)
		set := make(map[netip.Prefix]bool, len(*m.Seedboxes))
		for _, p := range *m.Seedboxes {
			set[p] = true
		}
		want[id] = set
		c.Members++
		c.Set += len(set)
		if len(set) > 0 {
			c.Declaring++
		}
	}
	if len(users) == 0 {
		return nil
	}
	rows, err := im.tx.Query(ctx, query("seedboxes_select"), users)
	if err != nil {
		return fmt.Errorf("import site: read seedbox ranges: %w", err)
	}
	have := map[int64]map[netip.Prefix]bool{}
	changed := map[int64]bool{}
	var drop []int64
	before := map[int64]int{}
	var id, user int64
	var cidr string
	_, err = pgx.ForEachRow(rows, []any{&id, &user, &cidr}, func() error {
		before[user]++
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return fmt.Errorf("seedbox range %d %q: %w", id, cidr, err)
		}
		p = p.Masked()
		if have[user] == nil {
			have[user] = map[netip.Prefix]bool{}
		}
		if !want[user][p] || have[user][p] {
			drop = append(drop, id)
			changed[user] = true
			return nil
		}
		have[user][p] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("import site: read seedbox ranges: %w", err)
	}
	var addUsers []int64
	var addCIDRs []string
	for _, u := range users {
		for p := range want[u] {
			if !have[u][p] {
				addUsers = append(addUsers, u)
				addCIDRs = append(addCIDRs, p.String())
				changed[u] = true
			}
		}
	}
	if len(drop) > 0 {
		if _, err := im.tx.Exec(ctx, query("seedboxes_delete"), drop); err != nil {
			return fmt.Errorf("import site: remove %d seedbox ranges: %w", len(drop), err)
		}
	}
	if len(addUsers) > 0 {
		if _, err := im.tx.Exec(ctx, query("seedboxes_insert"), addUsers, addCIDRs); err != nil {
			return fmt.Errorf("import site: declare %d seedbox ranges: %w", len(addUsers), err)
		}
	}
	c.Added, c.Removed, c.Changed = len(addUsers), len(drop), len(changed)
	im.setChanges(changed, "seedbox_cidrs", func(id int64) (string, string) {
		return fmt.Sprintf("%d ranges", before[id]), fmt.Sprintf("%d ranges", len(want[id]))
	})
	return nil
}

// reportSecrets replaces the report secrets of every member whose record
// gives them; a secret already as the file says is not written.
func (im *importer) reportSecrets(ctx context.Context) error {
	c := &im.s.Secrets
	var users []int64
	want := map[int64]map[int64]string{}
	for _, m := range im.f.Members {
		if m.ReportSecrets == nil {
			continue
		}
		id := im.ids[m.Name]
		users = append(users, id)
		want[id] = *m.ReportSecrets
		c.Members++
		c.Set += len(*m.ReportSecrets)
	}
	if len(users) == 0 {
		return nil
	}
	rows, err := im.tx.Query(ctx, query("secrets_select"), users)
	if err != nil {
		return fmt.Errorf("import site: read report secrets: %w", err)
	}
	have := map[int64]map[int64]string{}
	changed := map[int64]bool{}
	var dropUsers, dropTorrents []int64
	var user, tid int64
	var secret string
	_, err = pgx.ForEachRow(rows, []any{&user, &tid, &secret}, func() error {
		if have[user] == nil {
			have[user] = map[int64]string{}
		}
		have[user][tid] = secret
		if _, keep := want[user][tid]; !keep {
			dropUsers, dropTorrents = append(dropUsers, user), append(dropTorrents, tid)
			changed[user] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import site: read report secrets: %w", err)
	}
	var wUsers, wTorrents []int64
	var wSecrets []string
	for _, u := range users {
		for tid, secret := range want[u] {
			if old, ok := have[u][tid]; !ok || old != secret {
				wUsers, wTorrents, wSecrets = append(wUsers, u), append(wTorrents, tid), append(wSecrets, secret)
				changed[u] = true
			}
		}
	}
	if len(dropUsers) > 0 {
		if _, err := im.tx.Exec(ctx, query("secrets_delete"), dropUsers, dropTorrents); err != nil {
			return fmt.Errorf("import site: remove %d report secrets: %w", len(dropUsers), err)
		}
	}
	if len(wUsers) > 0 {
		if _, err := im.tx.Exec(ctx, query("secrets_upsert"), wUsers, wTorrents, wSecrets); err != nil {
			return fmt.Errorf("import site: write %d report secrets: %w", len(wUsers), err)
		}
	}
	c.Written, c.Removed, c.Changed = len(wUsers), len(dropUsers), len(changed)
	im.setChanges(changed, "report_secrets", func(id int64) (string, string) {
		return fmt.Sprintf("%d secrets", len(have[id])), fmt.Sprintf("%d secrets", len(want[id]))
	})
	return nil
}

// torrents creates and updates the file's torrents.
func (im *importer) torrents(ctx context.Context) error {
	type cols struct {
		ids         []int64
		hashes      [][]byte
		names       []string
		sizes       []int64
		promos      []string
		dls, ups    []int32
		untils      []*time.Time
		created     []*time.Time // inserts: nil is now
		uploaders   []int64
		createdVals []time.Time // updates
		siteIDs     []*int64
	}
	var ins, upd cols
	var newSiteID []int64 // existing torrents whose site id changes
	c := &im.s.Torrents
	for _, t := range im.f.Torrents {
		uploader := int64(0)
		if t.Uploader != nil && *t.Uploader != "" {
			uploader = im.ids[*t.Uploader]
		}
		cur := im.known[t.InfoHash]
		rec, label := record{"torrents", t.Index}, hex.EncodeToString(t.InfoHash[:])
		if cur == nil {
			im.change(rec, label, "", nil, nil)
			promo, dl, up := "none", int32(100), int32(100)
			if t.Promo != nil {
				promo, dl, up = t.Promo.Name, int32(t.Promo.DownloadPercent), int32(t.Promo.UploadPercent)
			}
			h := t.InfoHash
			ins.hashes = append(ins.hashes, h[:])
			ins.names = append(ins.names, t.Name)
			ins.sizes = append(ins.sizes, t.Size)
			ins.promos = append(ins.promos, promo)
			ins.dls, ins.ups = append(ins.dls, dl), append(ins.ups, up)
			ins.untils = append(ins.untils, t.PromoUntil)
			ins.created = append(ins.created, t.Created)
			ins.uploaders = append(ins.uploaders, uploader)
			ins.siteIDs = append(ins.siteIDs, t.SiteID)
			c.Created++
			continue
		}
		promo, dl, up, until := cur.promo, cur.dl, cur.up, cur.until
		if t.Promo != nil {
			promo, dl, up, until = t.Promo.Name, int32(t.Promo.DownloadPercent), int32(t.Promo.UploadPercent), t.PromoUntil
		}
		created := cur.created
		if t.Created != nil {
			created = *t.Created
		}
		if t.Uploader == nil && cur.uploader != nil {
			uploader = *cur.uploader
		}
		siteID := cur.siteID
		if t.SiteID != nil {
			siteID = t.SiteID
		}
		changed := false
		count := func(diff bool, n *int) {
			if diff {
				*n++
				changed = true
			}
		}
		diff := func(d bool, n *int, field string, old, new any) {
			if d {
				im.change(rec, label, field, old, new)
			}
			count(d, n)
		}
		diff(t.Name != cur.name, &c.Changed.Name, "name", cur.name, t.Name)
		diff(t.Size != cur.size, &c.Changed.Size, "size", cur.size, t.Size)
		diff(promo != cur.promo || dl != cur.dl || up != cur.up || !sameTime(until, cur.until), &c.Changed.Promotion, "promotion",
			promoText(cur.promo, cur.until), promoText(promo, until))
		diff(!created.Equal(cur.created), &c.Changed.CreatedAt, "created_at", cur.created, created)
		diff(uploader != deref(cur.uploader), &c.Changed.Uploader, "uploader", im.nameOf(deref(cur.uploader)), im.nameOf(uploader))
		diff(!sameID(siteID, cur.siteID), &c.Changed.SiteID, "site_id", cur.siteID, siteID)
		if !changed {
			continue
		}
		if !sameID(siteID, cur.siteID) {
			newSiteID = append(newSiteID, cur.id)
		}
		upd.siteIDs = append(upd.siteIDs, siteID)
		upd.ids = append(upd.ids, cur.id)
		upd.names = append(upd.names, t.Name)
		upd.sizes = append(upd.sizes, t.Size)
		upd.promos = append(upd.promos, promo)
		upd.dls, upd.ups = append(upd.dls, dl), append(upd.ups, up)
		upd.untils = append(upd.untils, until)
		upd.createdVals = append(upd.createdVals, created)
		upd.uploaders = append(upd.uploaders, uploader)
		c.Updated++
	}
	c.Unchanged = len(im.f.Torrents) - c.Created - c.Updated
	if len(newSiteID) > 0 {
		if _, err := im.tx.Exec(ctx, query("torrents_park_site_ids"), newSiteID); err != nil {
			return fmt.Errorf("import site: free the site ids of %d torrents: %w", len(newSiteID), err)
		}
	}
	if len(upd.ids) > 0 {
		if _, err := im.tx.Exec(ctx, query("torrents_update"), upd.ids, upd.names, upd.sizes, upd.promos, upd.dls, upd.ups,
			upd.untils, upd.createdVals, upd.uploaders, upd.siteIDs); err != nil {
			return fmt.Errorf("import site: update %d torrents: %w", len(upd.ids), err)
		}
	}
	if len(ins.hashes) > 0 {
		tag, err := im.tx.Exec(ctx, query("torrents_insert"), ins.hashes, ins.names, ins.sizes, ins.promos, ins.dls, ins.ups,
			ins.untils, ins.created, ins.uploaders, ins.siteIDs)
		if err == nil && tag.RowsAffected() != int64(len(ins.hashes)) {
			err = errors.New("not every row inserted")
		}
		if err != nil {
			return fmt.Errorf("import site: create %d torrents: %w", len(ins.hashes), err)
		}
	}
	return nil
}

// promoText shows a promotion and its end for a Change.
func promoText(promo string, until *time.Time) string {
	if until == nil {
		return promo
	}
	return promo + " until " + text(until)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// siteIDOwners reports the file's site ids that members or torrents
// outside the file hold (names: the file's members).
func (im *importer) siteIDOwners(ctx context.Context, names []string, ps *problems) error {
	var ids, tids []int64
	var hashes [][]byte
	for _, m := range im.f.Members {
		if m.SiteID != nil {
			ids = append(ids, *m.SiteID)
		}
	}
	for i := range im.f.Torrents {
		t := &im.f.Torrents[i]
		hashes = append(hashes, t.InfoHash[:])
		if t.SiteID != nil {
			tids = append(tids, *t.SiteID)
		}
	}
	if len(ids) > 0 {
		rows, err := im.tx.Query(ctx, query("users_site_id_owners"), ids, names)
		if err != nil {
			return fmt.Errorf("import site: read site id owners: %w", err)
		}
		owner := map[int64]string{}
		var id, site int64
		var name string
		if _, err := pgx.ForEachRow(rows, []any{&id, &name, &site}, func() error {
			owner[site] = fmt.Sprintf("%q (id %d)", name, id)
			return nil
		}); err != nil {
			return fmt.Errorf("import site: read site id owners: %w", err)
		}
		for _, m := range im.f.Members {
			if m.SiteID != nil && owner[*m.SiteID] != "" {
				ps.add(record{"members", m.Index}, m.Name, "site_id", "already the site id of member %s, who is not in this file", owner[*m.SiteID])
			}
		}
	}
	if len(tids) > 0 {
		rows, err := im.tx.Query(ctx, query("torrents_site_id_owners"), tids, hashes)
		if err != nil {
			return fmt.Errorf("import site: read site id owners: %w", err)
		}
		owner := map[int64]string{}
		var id, site int64
		var ih []byte
		if _, err := pgx.ForEachRow(rows, []any{&id, &ih, &site}, func() error {
			owner[site] = fmt.Sprintf("%x (id %d)", ih, id)
			return nil
		}); err != nil {
			return fmt.Errorf("import site: read site id owners: %w", err)
		}
		for _, t := range im.f.Torrents {
			if t.SiteID != nil && owner[*t.SiteID] != "" {
				ps.add(record{"torrents", t.Index}, hex.EncodeToString(t.InfoHash[:]), "site_id", "already the site id of torrent %s, which is not in this file", owner[*t.SiteID])
			}
		}
	}
	return nil
}
