package reports

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	sqlTorrent        = query("torrent")
	sqlTorrentMembers = query("torrent_members")
	sqlTorrentNames   = query("torrent_names")
)

// ErrTorrentNotFound is a torrent id that names no torrent.
var ErrTorrentNotFound = errors.New("torrent not found")

// Torrent is everything the torrent page shows.
type Torrent struct {
	ID             int64      `json:"id"`
	Name           string     `json:"name"`
	InfoHash       string     `json:"info_hash"`
	Size           int64      `json:"size"`
	Promotion      string     `json:"promotion"`
	PromoDownload  int        `json:"promo_download_percent"`
	PromoUpload    int        `json:"promo_upload_percent"`
	PromotionUntil *time.Time `json:"promotion_until,omitempty"`
	UploaderID     *int64     `json:"uploader_id,omitempty"`
	UploaderName   string     `json:"uploader_name,omitempty"`
	DeletedReason  string     `json:"deleted_reason,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	// The swarm now: members whose last announce (within the hour) said
	// they were seeding or leeching, and snatches ever.
	Seeders  int64           `json:"seeders"`
	Leechers int64           `json:"leechers"`
	Snatches int64           `json:"snatches"`
	Members  []TorrentMember `json:"members"`
	Reports  []Report        `json:"reports"`
	// From ClickHouse, when configured.
	Swarm         []Series     `json:"swarm,omitempty"`
	Balance       []BalanceDay `json:"balance,omitempty"`
	TimesCheated  int          `json:"times_cheated"`
	Unbalancers   []Unbalancer `json:"unbalancers,omitempty"`
	ActivityError string       `json:"activity_error,omitempty"`
}

// TorrentMember is one member's ledger row on a torrent.
type TorrentMember struct {
	UserID             int64      `json:"user_id"`
	Name               string     `json:"name"`
	RawUploaded        string     `json:"raw_uploaded"`
	RawDownloaded      string     `json:"raw_downloaded"`
	CreditedUploaded   string     `json:"credited_uploaded"`
	CreditedDownloaded string     `json:"credited_downloaded"`
	SeedtimeSeconds    int64      `json:"seedtime_seconds"`
	SnatchedAt         *time.Time `json:"snatched_at,omitempty"`
	LastAnnounceAt     time.Time  `json:"last_announce_at"`
	Seeding            bool       `json:"seeding"`
}

// BalanceDay is a torrent's swarm balance over one UTC day: Σ upload
// announced − Σ download announced. Only closed days are judged (the day
// ended at least 2 h ago, DESIGN.md), and only above 5% of the torrent's
// size: below that, sessions straddling midnight explain it.
type BalanceDay struct {
	Day         time.Time `json:"day"`
	Uploaded    uint64    `json:"uploaded"`
	Downloaded  uint64    `json:"downloaded"`
	Balance     float64   `json:"balance"` // bytes, may be negative
	Members     int       `json:"members"`
	Starts      uint64    `json:"starts"`
	Completions uint64    `json:"completions"`
	Closed      bool      `json:"closed"`
	Unbalanced  bool      `json:"unbalanced"`
}

// Unbalancer is a member whose claimed upload on the torrent's unbalanced
// days exceeds what they downloaded there: the claims the swarm cannot account for.
type Unbalancer struct {
	UserID     uint64  `json:"user_id"`
	Name       string  `json:"name,omitempty"`
	Uploaded   uint64  `json:"uploaded"`
	Downloaded uint64  `json:"downloaded"`
	Days       int     `json:"days"`
	Share      float64 `json:"share"` // of the excess over those days
}

// Torrent reads a torrent, its swarm now, its ledger members and its reports.
func (s *Store) Torrent(ctx context.Context, id int64) (Torrent, error) {
	var t Torrent
	err := s.pool.QueryRow(ctx, sqlTorrent, id).Scan(&t.ID, &t.Name, &t.InfoHash, &t.Size, &t.Promotion, &t.PromoDownload,
		&t.PromoUpload, &t.PromotionUntil, &t.UploaderID, &t.UploaderName, &t.DeletedReason, &t.CreatedAt,
		&t.Seeders, &t.Leechers, &t.Snatches)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrTorrentNotFound
	}
	if err != nil {
		return t, fmt.Errorf("read torrent %d: %w", id, err)
	}
	if t.Members, err = collect(ctx, s, sqlTorrentMembers, "members of torrent", func(row pgx.CollectableRow) (TorrentMember, error) {
		var m TorrentMember
		return m, row.Scan(&m.UserID, &m.Name, &m.RawUploaded, &m.RawDownloaded, &m.CreditedUploaded, &m.CreditedDownloaded,
			&m.SeedtimeSeconds, &m.SnatchedAt, &m.LastAnnounceAt, &m.Seeding)
	}, id); err != nil {
		return t, err
	}
	if t.Reports, err = s.list(ctx, Filter{TorrentID: id}, 200); err != nil {
		return t, err
	}
	if t.Reports == nil {
		t.Reports = []Report{}
	}
	return t, nil
}

// TorrentNames maps torrent ids to names.
func (s *Store) TorrentNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	return s.names(ctx, sqlTorrentNames, "torrent names", ids)
}

// memberDay is one member's raw bytes on a torrent over one day.
type memberDay struct {
	Day                time.Time
	UserID             uint64
	Up, Down           uint64
	Starts, Completion uint64
	Last               time.Time
}

// TorrentBalance reads a torrent's days over the last days days and judges
// each closed day's balance against the floor (5% of size).
func (a *Activity) TorrentBalance(ctx context.Context, torrentID, size int64, now time.Time, days int) ([]BalanceDay, []Unbalancer, error) {
	from, _ := window(now, days)
	var cells []memberDay
	err := a.rows(ctx, "torrent_daily_members", func(scan func(...any) error) error {
		var c memberDay
		if err := scan(&c.Day, &c.UserID, &c.Up, &c.Down, &c.Starts, &c.Completion, &c.Last); err != nil {
			return err
		}
		cells = append(cells, c)
		return nil
	}, map[string]any{"from": uint32(from.Unix()), "torrent": uint64(torrentID)})
	if err != nil {
		return nil, nil, err
	}
	return judgeBalance(cells, size, now)
}

// judgeBalance sums members' days into the torrent's days, marks the closed
// unbalanced ones, and ranks members by their claimed upload on those days.
func judgeBalance(cells []memberDay, size int64, now time.Time) ([]BalanceDay, []Unbalancer, error) {
	floor := math.Max(0.05*float64(size), 1)
	byDay := map[time.Time]*BalanceDay{}
	var order []time.Time
	for _, c := range cells {
		d := byDay[c.Day]
		if d == nil {
			d = &BalanceDay{Day: c.Day}
			byDay[c.Day] = d
			order = append(order, c.Day)
		}
		d.Uploaded += c.Up
		d.Downloaded += c.Down
		d.Starts += c.Starts
		d.Completions += c.Completion
		d.Members++
	}
	sort.Slice(order, func(i, j int) bool { return order[i].Before(order[j]) })
	out := make([]BalanceDay, 0, len(order))
	flagged := map[time.Time]bool{}
	for _, day := range order {
		d := byDay[day]
		d.Balance = float64(d.Uploaded) - float64(d.Downloaded)
		d.Closed = !now.Before(day.Add(26 * time.Hour))
		d.Unbalanced = d.Closed && d.Balance > floor
		if d.Unbalanced {
			flagged[day] = true
		}
		out = append(out, *d)
	}
	per := map[uint64]*Unbalancer{}
	var excess float64
	for _, c := range cells {
		if !flagged[c.Day] {
			continue
		}
		u := per[c.UserID]
		if u == nil {
			u = &Unbalancer{UserID: c.UserID}
			per[c.UserID] = u
		}
		u.Uploaded += c.Up
		u.Downloaded += c.Down
		u.Days++
	}
	var list []Unbalancer
	for _, u := range per {
		if u.Uploaded > u.Downloaded {
			excess += float64(u.Uploaded - u.Downloaded)
			list = append(list, *u)
		}
	}
	for i := range list {
		list[i].Share = float64(list[i].Uploaded-list[i].Downloaded) / excess
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Share != list[j].Share {
			return list[i].Share > list[j].Share
		}
		return list[i].UserID < list[j].UserID
	})
	if len(list) > 50 {
		list = list[:50]
	}
	return out, list, nil
}

func (s *Server) torrentWithActivity(ctx context.Context, id int64) (Torrent, error) {
	t, err := s.store.Torrent(ctx, id)
	if err != nil || s.activity == nil {
		return t, err
	}
	now := time.Now()
	swarm, err := s.activity.Torrent(ctx, id, now, 30)
	if err == nil {
		t.Swarm = swarm
		t.Balance, t.Unbalancers, err = s.activity.TorrentBalance(ctx, id, t.Size, now, 30)
	}
	if err != nil {
		s.log.Error("torrent activity", "torrent", id, "err", err)
		t.ActivityError = "ClickHouse is not answering: the swarm history and balance are missing"
		return t, nil
	}
	for _, d := range t.Balance {
		if d.Unbalanced {
			t.TimesCheated++
		}
	}
	ids := make([]int64, len(t.Unbalancers))
	for i, u := range t.Unbalancers {
		ids[i] = int64(u.UserID)
	}
	if names, err := s.store.MemberNames(ctx, ids); err == nil {
		for i := range t.Unbalancers {
			t.Unbalancers[i].Name = names[int64(t.Unbalancers[i].UserID)]
		}
	}
	return t, nil
}

func (s *Server) torrentPage(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "torrent")
	if !ok {
		return
	}
	t, err := s.torrentWithActivity(r.Context(), id)
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	data := s.pageData(r, t.Name+" · torrent #"+strconv.FormatInt(id, 10))
	data["Torrent"] = t
	s.render(w, r, http.StatusOK, "torrent", data)
}
