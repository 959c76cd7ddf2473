package sitedb

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ratioguard/ratioguard/importer/site"
)

// Problem is one record the site file's checks refuse, named by the site's
// row.
type Problem struct {
	Row   Row    `json:"row"`
	Name  string `json:"name"` // the member's name or the torrent's info_hash
	Field string `json:"field"`
	Msg   string `json:"message"`
}

func (p Problem) String() string { return site.FormatProblem(p.Row.String(), p.Name, p.Field, p.Msg) }

// InvalidError lists the site's rows the checks refuse. Nothing was
// imported.
type InvalidError struct {
	Problems []Problem
}

func (e *InvalidError) Error() string {
	return site.FormatProblems(fmt.Sprintf("%d invalid row field(s) in the site's database; nothing was imported (--skip-invalid imports the other rows):", len(e.Problems)), e.Problems)
}

// The site file's records (docs/IMPORT.md "Site file"), as File writes them.
type memberRecord struct {
	Name          string            `json:"name"`
	Passkey       string            `json:"passkey"`
	Class         string            `json:"class"`
	Enabled       *bool             `json:"enabled,omitempty"`
	InvitedBy     string            `json:"invited_by"`
	CreatedTS     *int64            `json:"created_ts,omitempty"`
	SiteID        int64             `json:"site_id"`
	ReportSecrets map[string]string `json:"report_secrets,omitempty"`
	Opening       *openingRecord    `json:"opening,omitempty"`
	Snatches      *[]snatchRecord   `json:"snatches,omitempty"`
	Peers         *[]peerRecord     `json:"peers,omitempty"`
}

type openingRecord struct {
	Uploaded   int64   `json:"uploaded"`
	Downloaded int64   `json:"downloaded"`
	SeedtimeS  int64   `json:"seedtime_s"`
	Bonus      float64 `json:"bonus"`
}

type snatchRecord struct {
	InfoHash     string `json:"info_hash"`
	CompletedTS  int64  `json:"completed_ts"`
	SeedtimeS    int64  `json:"seedtime_s"`
	LastSeededTS *int64 `json:"last_seeded_ts,omitempty"`
	Uploaded     int64  `json:"uploaded"`
	Downloaded   int64  `json:"downloaded"`
}

type peerRecord struct {
	InfoHash   string `json:"info_hash"`
	PeerID     string `json:"peer_id"`
	IP         string `json:"ip"`
	Port       int    `json:"port,omitempty"` // none: unknown (Gazelle's)
	Uploaded   int64  `json:"uploaded"`
	Downloaded int64  `json:"downloaded"`
	Left       int64  `json:"left"`
	TS         int64  `json:"ts"`
}

type torrentRecord struct {
	InfoHash     string `json:"info_hash"`
	Name         string `json:"name"`
	Size         int64  `json:"size"`
	Promo        string `json:"promo"`
	PromoUntilTS *int64 `json:"promo_until_ts,omitempty"`
	CreatedTS    *int64 `json:"created_ts,omitempty"`
	Uploader     string `json:"uploader"`
	SiteID       int64  `json:"site_id"`
}

type document struct {
	Members  []memberRecord  `json:"members"`
	Torrents []torrentRecord `json:"torrents"`
}

// File maps the snapshot to site file records and checks them with the
// site file's own checks (site.Parse). A refused record is a Problem named
// by its row: with skipInvalid the refused rows are left out (and
// returned), otherwise they are an *InvalidError. A member whose inviter
// is left out is invited by nobody; a torrent whose uploader is, has none.
// Every member's whole set of report secrets is given for NexusPHP (none
// is the empty set), and none for the other sites. A member the site
// disabled is disabled; one it has enabled is left as ratioguard has it
// (a new one enabled), so a resync never undoes enforcement or staff.
func (s *Snapshot) File(skipInvalid bool) (*site.File, []Problem, error) {
	drop := [2]map[int]bool{{}, {}}
	var skipped []Problem
	for {
		doc, rows := s.document(drop)
		data, err := json.Marshal(doc)
		if err != nil {
			return nil, nil, fmt.Errorf("site records: %w", err)
		}
		f, err := site.Parse(bytes.NewReader(data))
		var inv *site.InvalidError
		if !errors.As(err, &inv) {
			if err != nil {
				return nil, nil, fmt.Errorf("site records: %w", err)
			}
			s.records = rows
			return f, skipped, nil
		}
		ps := make([]Problem, 0, len(inv.Problems))
		for _, p := range inv.Problems {
			kind, i, ok := recordIndex(p.Record)
			if !ok {
				return nil, nil, fmt.Errorf("site records: a problem of an unknown record %q: %s", p.Record, p.Msg)
			}
			ps = append(ps, Problem{Row: rows[kind][i].row, Name: p.Name, Field: p.Field, Msg: rowNames(p.Msg, rows)})
			drop[kind][rows[kind][i].index] = true
		}
		if !skipInvalid {
			return nil, nil, &InvalidError{Problems: ps}
		}
		skipped = append(skipped, ps...)
	}
}

// RowOf names the site's row of a record of the File last returned
// ("members[3]", as site.Change and site.Problem name records).
func (s *Snapshot) RowOf(record string) (Row, bool) {
	kind, i, ok := recordIndex(record)
	if !ok || i < 0 || i >= len(s.records[kind]) {
		return Row{}, false
	}
	return s.records[kind][i].row, true
}

// recordRef is a record named in a check's message ("also the passkey of
// members[3]").
var recordRef = regexp.MustCompile(`\b(members|torrents)\[(\d+)\]`)

// rowNames names the records a message refers to by their rows.
func rowNames(msg string, rows [2][]source) string {
	return recordRef.ReplaceAllStringFunc(msg, func(ref string) string {
		kind, i, ok := recordIndex(ref)
		if !ok || i >= len(rows[kind]) {
			return ref
		}
		return rows[kind][i].row.String()
	})
}

// recordIndex reads "members[3]" (0, 3) and "torrents[0]" (1, 0).
func recordIndex(rec string) (kind, i int, ok bool) {
	name, idx, found := strings.Cut(strings.TrimSuffix(rec, "]"), "[")
	n, err := strconv.Atoi(idx)
	if !found || err != nil {
		return 0, 0, false
	}
	switch name {
	case "members":
		return 0, n, true
	case "torrents":
		return 1, n, true
	}
	return 0, 0, false
}

// source: where a document record came from (its row and its index in
// the snapshot).
type source struct {
	row   Row
	index int
}

// document builds the site file of the snapshot without the dropped
// records ([0]: members, [1]: torrents, by snapshot index); rows[k][i] is
// the source of the document's record i.
func (s *Snapshot) document(drop [2]map[int]bool) (document, [2][]source) {
	var rows [2][]source
	doc := document{Members: make([]memberRecord, 0, len(s.Members)), Torrents: make([]torrentRecord, 0, len(s.Torrents))}
	names := make(map[int64]string, len(s.Members))
	for i, m := range s.Members {
		if !drop[0][i] {
			names[m.Row.ID] = m.Name
		}
	}
	hashes := make(map[int64]string, len(s.Torrents)) // the torrents imported, by site id
	for i, t := range s.Torrents {
		if !drop[1][i] {
			hashes[t.Row.ID] = hex.EncodeToString(t.InfoHash)
		}
	}
	for i, m := range s.Members {
		if drop[0][i] {
			continue
		}
		r := memberRecord{Name: m.Name, Passkey: m.Passkey, Class: m.Class,
			InvitedBy: names[m.Inviter], CreatedTS: unix(m.Created), SiteID: m.Row.ID}
		if !m.Enabled { // only ever disabled: a resync never undoes enforcement's or staff's disabling
			r.Enabled = &m.Enabled
		}
		if r.InvitedBy == m.Name {
			r.InvitedBy = "" // a site row inviting itself (Gazelle's first user): nobody
		}
		if s.Kind == NexusPHP {
			r.ReportSecrets = make(map[string]string, len(m.ReportSecrets))
			for tid, secret := range m.ReportSecrets {
				r.ReportSecrets[strconv.FormatInt(tid, 10)] = secret
			}
		}
		if o := m.Opening; o != nil {
			r.Opening = &openingRecord{Uploaded: o.Uploaded, Downloaded: o.Downloaded, SeedtimeS: o.Seedtime, Bonus: o.Bonus}
		}
		if s.HasSnatches {
			list := make([]snatchRecord, 0, len(m.Snatches))
			for _, sn := range m.Snatches {
				if ih, ok := hashes[sn.Torrent]; ok { // a torrent left out: its snatch too
					list = append(list, snatchRecord{InfoHash: ih, CompletedTS: sn.Completed.Unix(), SeedtimeS: sn.Seedtime,
						LastSeededTS: unix(sn.LastSeeded), Uploaded: sn.Uploaded, Downloaded: sn.Downloaded})
				}
			}
			r.Snatches = &list
		}
		if s.HasPeers {
			list := make([]peerRecord, 0, len(m.Peers))
			for _, p := range m.Peers {
				if ih, ok := hashes[p.Torrent]; ok {
					list = append(list, peerRecord{InfoHash: ih, PeerID: hex.EncodeToString(p.PeerID), IP: p.Addr.Addr().String(),
						Port: int(p.Addr.Port()), Uploaded: p.Uploaded, Downloaded: p.Downloaded, Left: p.Left, TS: p.Announced.Unix()})
				}
			}
			r.Peers = &list
		}
		doc.Members = append(doc.Members, r)
		rows[0] = append(rows[0], source{m.Row, i})
	}
	for i, t := range s.Torrents {
		if drop[1][i] {
			continue
		}
		doc.Torrents = append(doc.Torrents, torrentRecord{InfoHash: hex.EncodeToString(t.InfoHash), Name: t.Name, Size: t.Size,
			Promo: t.Promo, PromoUntilTS: unix(t.PromoUntil), CreatedTS: unix(t.Created), Uploader: names[t.Uploader], SiteID: t.Row.ID})
		rows[1] = append(rows[1], source{t.Row, i})
	}
	return doc, rows
}

// LeftOut lists Left as lines ("3 torrents banned: not registered"), in
// order.
func (s *Snapshot) LeftOut() []string {
	out := make([]string, 0, len(s.Left))
	for reason, n := range s.Left {
		out = append(out, fmt.Sprintf("%d %s", n, reason))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// unix is a time as the site file's *_ts (nil: none).
func unix(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	ts := t.Unix()
	return &ts
}
