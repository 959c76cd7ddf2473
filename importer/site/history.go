package site

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// HistoryCounts says what an import did with the members' records from
// before ratioguard: opening balances and snatch histories.
type HistoryCounts struct {
	Openings         int `json:"openings"`          // members whose record has an opening
	OpeningsWritten  int `json:"openings_written"`  // first opening of the member
	OpeningsRevised  int `json:"openings_revised"`  // adjusted by the difference
	OpeningsKept     int `json:"openings_kept"`     // differ from the file, kept (MembersKept)
	SnatchMembers    int `json:"snatch_members"`    // members whose record has a snatch list
	Snatches         int `json:"snatches"`          // snatches those lists hold
	SnatchesWritten  int `json:"snatches_written"`  // added or changed
	SnatchesRemoved  int `json:"snatches_removed"`  // no longer listed
	MembersKept      int `json:"members_kept"`      // differ from the file, kept: ratioguard credited them since
	MembersObserving int `json:"members_observing"` // site records started (ratioguard observes them from the import)
	PeerMembers      int `json:"peer_members"`      // members whose record has a peer list
	Peers            int `json:"peers"`             // peers those lists hold
	PeersWritten     int `json:"peers_written"`     // added or changed
	PeersRemoved     int `json:"peers_removed"`     // no longer listed
}

// siteRecord is what Postgres keeps of one member's past on the site.
type siteRecord struct {
	exists    bool // a ledger_site_history row
	opening   Opening
	revision  int // 0: no opening yet
	recorded  int64
	announces int64
	snatches  map[int64]Snatch // by torrent id
}

// OpeningReason is the reason of the ledger adjustments an opening writes.
const OpeningReason = "opening balance"

// openingKey is the idempotency key of a member's opening adjustment: one
// per member and revision, so the ledger holds each exactly once.
func openingKey(userID int64, revision int) string {
	return fmt.Sprintf("site import: opening balance of member %d, revision %d", userID, revision)
}

// history writes the file members' opening balances and snatch histories
// (after members and torrents: snatches name torrents). A member's record
// is the site's while ratioguard has credited the member nothing since it
// was written: a file with other figures then replaces it (the opening by
// an adjustment of the difference); afterwards the site's figures include
// what ratioguard credited (the write-back), and the record is kept.
func (im *importer) history(ctx context.Context) error {
	c := &im.s.History
	var ids, start []int64
	for _, m := range im.f.Members {
		id := im.ids[m.Name]
		ids = append(ids, id)
		if im.users[m.Name] == nil || m.Opening != nil || m.Snatches != nil {
			start = append(start, id)
		}
	}
	tids, err := im.listedTorrents(ctx)
	if err != nil {
		return err
	}
	if len(start) > 0 {
		tag, err := im.tx.Exec(ctx, query("history_insert"), start)
		if err != nil {
			return fmt.Errorf("import site: start the site records of %d members: %w", len(start), err)
		}
		c.MembersObserving = int(tag.RowsAffected())
	}
	recs, err := im.siteRecords(ctx, ids)
	if err != nil {
		return err
	}
	var op struct {
		ids, du, dd, ds, up, down, seed []int64
		db, bonus                       []float64
		keys                            []string
	}
	var sn struct {
		users, torrents, seed, up, down []int64
		completed                       []time.Time
		last                            []*time.Time
	}
	var delUsers, delTorrents, touched []int64
	snatchSets := map[int64]bool{} // members whose site snatches change
	listed := map[int64]int{}      // their new number of snatches
	for _, m := range im.f.Members {
		id := im.ids[m.Name]
		r := recs[id]
		openingDiffers := m.Opening != nil && (r.revision == 0 || *m.Opening != r.opening)
		var want map[int64]Snatch
		snatchesDiffer := false
		if m.Snatches != nil {
			c.SnatchMembers++
			c.Snatches += len(*m.Snatches)
			want = make(map[int64]Snatch, len(*m.Snatches))
			for _, s := range *m.Snatches {
				tid := tids[s.InfoHash]
				want[tid] = s
				if have, ok := r.snatches[tid]; !ok || !sameSnatch(have, s) {
					snatchesDiffer = true
				}
			}
			snatchesDiffer = snatchesDiffer || len(want) != len(r.snatches)
		}
		if m.Opening != nil {
			c.Openings++
		}
		if !openingDiffers && !snatchesDiffer {
			continue
		}
		if (r.revision > 0 || len(r.snatches) > 0) && r.announces > r.recorded {
			c.MembersKept++
			if openingDiffers {
				c.OpeningsKept++
			}
			continue
		}
		touched = append(touched, id)
		if openingDiffers {
			o, prev := *m.Opening, r.opening
			op.ids = append(op.ids, id)
			op.du, op.dd, op.ds = append(op.du, o.Uploaded-prev.Uploaded), append(op.dd, o.Downloaded-prev.Downloaded), append(op.ds, o.Seedtime-prev.Seedtime)
			op.db = append(op.db, o.Bonus-prev.Bonus)
			op.keys = append(op.keys, openingKey(id, r.revision+1))
			op.up, op.down, op.seed, op.bonus = append(op.up, o.Uploaded), append(op.down, o.Downloaded), append(op.seed, o.Seedtime), append(op.bonus, o.Bonus)
			if r.revision == 0 {
				c.OpeningsWritten++
			} else {
				c.OpeningsRevised++
			}
			im.openingChanges(m, r)
		}
		if !snatchesDiffer {
			continue
		}
		snatchSets[id], listed[id] = true, len(want)
		for tid, s := range want {
			if have, ok := r.snatches[tid]; ok && sameSnatch(have, s) {
				continue
			}
			sn.users, sn.torrents = append(sn.users, id), append(sn.torrents, tid)
			sn.completed, sn.seed, sn.last = append(sn.completed, s.Completed), append(sn.seed, s.Seedtime), append(sn.last, s.LastSeeded)
			sn.up, sn.down = append(sn.up, s.Uploaded), append(sn.down, s.Downloaded)
		}
		for tid := range r.snatches {
			if _, ok := want[tid]; !ok {
				delUsers, delTorrents = append(delUsers, id), append(delTorrents, tid)
			}
		}
	}
	if len(op.ids) > 0 {
		var written, negative, kept int64
		if err := im.tx.QueryRow(ctx, query("opening_write"), op.ids, op.du, op.dd, op.ds, op.db, op.keys,
			op.up, op.down, op.seed, op.bonus).Scan(&written, &negative, &kept); err != nil {
			return fmt.Errorf("import site: write %d opening balances: %w", len(op.ids), err)
		}
		switch {
		case negative > 0:
			return fmt.Errorf("import site: a lower opening balance would make %d members' ledger totals negative; nothing was imported", negative)
		case written != int64(len(op.ids)) || kept != int64(len(op.ids)):
			return fmt.Errorf("import site: %d opening balances: %d adjustments and %d records written", len(op.ids), written, kept)
		}
	}
	if len(delUsers) > 0 {
		if _, err := im.tx.Exec(ctx, query("snatches_delete"), delUsers, delTorrents); err != nil {
			return fmt.Errorf("import site: remove %d site snatches: %w", len(delUsers), err)
		}
	}
	if len(sn.users) > 0 {
		if _, err := im.tx.Exec(ctx, query("snatches_upsert"), sn.users, sn.torrents, sn.completed, sn.seed, sn.last, sn.up, sn.down); err != nil {
			return fmt.Errorf("import site: write %d site snatches: %w", len(sn.users), err)
		}
	}
	if len(touched) > 0 {
		if _, err := im.tx.Exec(ctx, query("history_touch"), touched); err != nil {
			return fmt.Errorf("import site: mark %d members' site records: %w", len(touched), err)
		}
	}
	c.SnatchesWritten, c.SnatchesRemoved = len(sn.users), len(delUsers)
	im.setChanges(snatchSets, "snatches", func(id int64) (string, string) {
		return fmt.Sprintf("%d snatches", len(recs[id].snatches)), fmt.Sprintf("%d snatches", listed[id])
	})
	return im.peers(ctx, ids, tids)
}

// openingChanges lists the opening fields an import writes for an existing
// member (Options.Changes; a member created is listed as such).
func (im *importer) openingChanges(m Member, r *siteRecord) {
	if !im.changes || im.users[m.Name] == nil {
		return
	}
	o, prev := *m.Opening, r.opening
	for _, f := range []struct {
		field    string
		old, new any
	}{{"opening.uploaded", prev.Uploaded, o.Uploaded}, {"opening.downloaded", prev.Downloaded, o.Downloaded},
		{"opening.seedtime_s", prev.Seedtime, o.Seedtime}, {"opening.bonus", prev.Bonus, o.Bonus}} {
		switch {
		case r.revision == 0:
			im.change(record{"members", m.Index}, m.Name, f.field, "none", f.new)
		case f.old != f.new:
			im.change(record{"members", m.Index}, m.Name, f.field, f.old, f.new)
		}
	}
}

func sameSnatch(a, b Snatch) bool {
	return a.Completed.Equal(b.Completed) && a.Seedtime == b.Seedtime && sameTime(a.LastSeeded, b.LastSeeded) &&
		a.Uploaded == b.Uploaded && a.Downloaded == b.Downloaded
}

// listedTorrents resolves the torrents the file's snatches and peers name:
// each must be a torrent of the file or of ratioguard.
func (im *importer) listedTorrents(ctx context.Context) (map[[20]byte]int64, error) {
	type ref struct {
		field string
		hash  [20]byte
	}
	refs := map[int][]ref{} // by member index
	var hashes [][]byte
	seen := map[[20]byte]bool{}
	add := func(m Member, field string, h [20]byte) {
		refs[m.Index] = append(refs[m.Index], ref{field, h})
		if !seen[h] {
			seen[h] = true
			hashes = append(hashes, h[:])
		}
	}
	for _, m := range im.f.Members {
		if m.Snatches != nil {
			for k, s := range *m.Snatches {
				add(m, fmt.Sprintf("snatches[%d].info_hash", k), s.InfoHash)
			}
		}
		if m.Peers != nil {
			for k, p := range *m.Peers {
				add(m, fmt.Sprintf("peers[%d].info_hash", k), p.InfoHash)
			}
		}
	}
	ids := make(map[[20]byte]int64, len(hashes))
	if len(hashes) == 0 {
		return ids, nil
	}
	rows, err := im.tx.Query(ctx, query("listed_torrents"), hashes)
	if err != nil {
		return nil, fmt.Errorf("import site: read the torrents of snatches and peers: %w", err)
	}
	var ih []byte
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&ih, &id}, func() error {
		ids[[20]byte(ih)] = id
		return nil
	}); err != nil {
		return nil, fmt.Errorf("import site: read the torrents of snatches and peers: %w", err)
	}
	var ps problems
	for _, m := range im.f.Members {
		for _, r := range refs[m.Index] {
			if ids[r.hash] == 0 {
				ps.add(record{"members", m.Index}, m.Name, r.field, "no torrent %s in this file or in ratioguard", hex.EncodeToString(r.hash[:]))
			}
		}
	}
	return ids, ps.err()
}

// siteRecords reads the site records of members ids.
func (im *importer) siteRecords(ctx context.Context, ids []int64) (map[int64]*siteRecord, error) {
	recs := make(map[int64]*siteRecord, len(ids))
	rows, err := im.tx.Query(ctx, query("history_select"), ids)
	if err != nil {
		return nil, fmt.Errorf("import site: read the members' site records: %w", err)
	}
	var id int64
	var r siteRecord
	if _, err := pgx.ForEachRow(rows, []any{&id, &r.exists, &r.opening.Uploaded, &r.opening.Downloaded, &r.opening.Seedtime,
		&r.opening.Bonus, &r.revision, &r.recorded, &r.announces}, func() error {
		c := r
		recs[id] = &c
		return nil
	}); err != nil {
		return nil, fmt.Errorf("import site: read the members' site records: %w", err)
	}
	rows, err = im.tx.Query(ctx, query("snatches_select"), ids)
	if err != nil {
		return nil, fmt.Errorf("import site: read the members' site snatches: %w", err)
	}
	var tid int64
	var s Snatch
	if _, err := pgx.ForEachRow(rows, []any{&id, &tid, &s.Completed, &s.Seedtime, &s.LastSeeded, &s.Uploaded, &s.Downloaded}, func() error {
		r := recs[id]
		if r.snatches == nil {
			r.snatches = map[int64]Snatch{}
		}
		c := s
		if s.LastSeeded != nil {
			t := *s.LastSeeded
			c.LastSeeded = &t
		}
		r.snatches[tid] = c
		return nil
	}); err != nil {
		return nil, fmt.Errorf("import site: read the members' site snatches: %w", err)
	}
	return recs, nil
}
