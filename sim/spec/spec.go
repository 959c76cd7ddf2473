// Package spec owns the simulator's population spec: a YAML file with a seed
// that fixes everything the simulator generates (members, their clients and
// networks, torrents, honest look-alikes, cheaters and the invite tree). Parse fills defaults
// and rejects unknown fields and impossible values with clear errors.
package spec

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ratioguard/ratioguard/sim/clients"
)

// Spec is a population and how it behaves.
type Spec struct {
	Name  string    `yaml:"name"`
	Seed  uint64    `yaml:"seed"`
	Start time.Time `yaml:"start"` // simulated start (replay); live mode starts now
	// Duration is the default length of a run (replay --days and live --duration override it).
	Duration time.Duration `yaml:"duration"`
	// Tick is the step of the transfer model.
	Tick time.Duration `yaml:"tick"`
	// Interval is the announce interval clients follow, with ±Jitter (fraction).
	Interval time.Duration `yaml:"interval"`
	Jitter   float64       `yaml:"jitter"`

	Members  int          `yaml:"members"`
	Torrents TorrentSpec  `yaml:"torrents"`
	Behavior BehaviorSpec `yaml:"behavior"`
	// Clients maps client family to weight (qbittorrent, transmission, deluge,
	// rtorrent, aria2, utorrent).
	Clients    map[string]float64 `yaml:"clients"`
	Lookalikes LookalikeSpec      `yaml:"lookalikes"`
	Cheaters   CheaterSpec        `yaml:"cheaters"`
	Invites    InviteSpec         `yaml:"invites"`
}

// TorrentSpec describes the catalog.
type TorrentSpec struct {
	Initial      int           `yaml:"initial"`        // torrents existing at the start
	NewPerDay    float64       `yaml:"new_per_day"`    // releases per day
	SizeMedian   Bytes         `yaml:"size_median"`    // log-normal median
	SizeSigma    float64       `yaml:"size_sigma"`     // log-normal sigma (heavy tail)
	SizeMin      Bytes         `yaml:"size_min"`       // clamp
	SizeMax      Bytes         `yaml:"size_max"`       // clamp
	Zipf         float64       `yaml:"zipf"`           // popularity exponent of the catalog
	MaxAge       time.Duration `yaml:"max_age"`        // age of the oldest initial torrent
	RushHalfLife time.Duration `yaml:"rush_half_life"` // how fast a release's popularity decays
	DeadAfter    time.Duration `yaml:"dead_after"`     // popularity floor reached: a dying swarm
}

// BehaviorSpec is how honest members use the site.
type BehaviorSpec struct {
	UploadMin      Bytes         `yaml:"upload_min"` // per second, log-uniform between min and max
	UploadMax      Bytes         `yaml:"upload_max"`
	DownloadFactor float64       `yaml:"download_factor"`  // download capacity = upload × factor (capped at 16× upload_max)
	AlwaysOn       float64       `yaml:"always_on"`        // fraction of members whose client never sleeps
	OnlineHoursMin float64       `yaml:"online_hours_min"` // others are online this many hours a day
	OnlineHoursMax float64       `yaml:"online_hours_max"`
	GrabsPerDay    float64       `yaml:"grabs_per_day"`     // new downloads per online day
	SeedTimeMedian time.Duration `yaml:"seed_time_median"`  // how long a member keeps seeding after completion
	InitialSeeding float64       `yaml:"initial_seeding"`   // mean torrents each member already seeds at the start
	MaxActive      int           `yaml:"max_active"`        // torrents a home client keeps active
	RestartsPerDay float64       `yaml:"restarts_per_day"`  // client restarts per online day
	LostStopped    float64       `yaml:"lost_stopped"`      // fraction of shutdowns whose `stopped` never arrives
	KeepPeerID     float64       `yaml:"keep_peer_id"`      // fraction of restarts that keep the peer_id (a counter reset to the tracker)
	IPChangePerDay float64       `yaml:"ip_change_per_day"` // dynamic residential address changes
}

// LookalikeSpec gives the fraction of honest members with each trait that a
// careless detector could mistake for cheating.
type LookalikeSpec struct {
	Seedbox       float64 `yaml:"seedbox"`         // declared seedbox: fast, datacenter range, always on
	NATHousehold  float64 `yaml:"nat_household"`   // 2–4 members behind one home address
	CGNAT         float64 `yaml:"cgnat"`           // many members behind a carrier NAT address
	DualStack     float64 `yaml:"dual_stack"`      // one peer_id announcing over IPv4 and IPv6
	IPv6Privacy   float64 `yaml:"ipv6_privacy"`    // IPv6 address rotating daily inside one /64 (implies dual stack)
	Restarts      float64 `yaml:"restarts"`        // restarts the client many times a day
	Travel        float64 `yaml:"travel"`          // a few days on a foreign network
	CGNATPoolSize int     `yaml:"cgnat_pool_size"` // members per carrier NAT address
}

// CheaterSpec gives how many members cheat in each way.
type CheaterSpec struct {
	NaiveFaker    int `yaml:"naive_faker"`
	CarefulFaker  int `yaml:"careful_faker"`
	CollusionPair int `yaml:"colluding_pair"` // pairs: two members each
	SharedAccount int `yaml:"shared_account"`
	SoldAccount   int `yaml:"sold_account"`
	LeakedPasskey int `yaml:"leaked_passkey"`
	LeechService  int `yaml:"leech_service"`
	GhostLeecher  int `yaml:"ghost_leecher"`
	// InviteSeller members sell or hand out invites: most of the shared and
	// sold accounts are their invitees (see InviteSpec). Each needs two.
	InviteSeller int `yaml:"invite_seller"`
	// Cheating starts uniformly between these fractions of the run.
	StartFrom float64 `yaml:"start_from"`
	StartTo   float64 `yaml:"start_to"`
}

// Total is the number of cheating members.
func (c CheaterSpec) Total() int {
	return c.NaiveFaker + c.CarefulFaker + 2*c.CollusionPair + c.SharedAccount + c.SoldAccount +
		c.LeakedPasskey + c.LeechService + c.GhostLeecher + c.InviteSeller
}

// InviteSpec shapes the invite tree: who invited whom. The oldest members
// (Founders) joined without an invite; every other member was invited by an
// older one, except the invitees the spec places on purpose: most shared and
// sold accounts under the invite sellers, a crowd of honest members (and a
// few bad ones) under popular inviters, and the members of a NAT household
// under the household's first member (look-alike family_inviter). Leaked,
// shared and sold accounts not placed under a seller get an inviter each
// with no other bad invitee.
type InviteSpec struct {
	Founders        float64 `yaml:"founders"`         // fraction of members who joined without an invite
	SellerShare     float64 `yaml:"seller_share"`     // fraction of shared and sold accounts invited by a seller
	SellerHonest    int     `yaml:"seller_honest"`    // each seller also invited 0..this many honest members
	Popular         int     `yaml:"popular"`          // honest members with many invitees (look-alike popular_inviter)
	PopularInvitees int     `yaml:"popular_invitees"` // honest invitees of each popular inviter
	PopularBad      int     `yaml:"popular_bad"`      // leaked, shared or sold invitees of each (when there are enough)
}

// Load reads and parses a spec file.
func Load(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sim spec: %w", err)
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("sim spec %s: %w", path, err)
	}
	return s, nil
}

// Parse decodes a spec over the defaults and validates it.
func Parse(b []byte) (*Spec, error) {
	s := Default()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Default is a small site that runs in seconds.
func Default() *Spec {
	return &Spec{
		Name:     "default",
		Seed:     1,
		Start:    time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC),
		Duration: 24 * time.Hour,
		Tick:     5 * time.Minute,
		Interval: 30 * time.Minute,
		Jitter:   0.1,
		Members:  200,
		Torrents: TorrentSpec{
			Initial: 150, NewPerDay: 5, SizeMedian: 1500 * MiB, SizeSigma: 1.2,
			SizeMin: 20 * MiB, SizeMax: 150 * GiB, Zipf: 1.0, MaxAge: 2 * 365 * 24 * time.Hour,
			RushHalfLife: 3 * 24 * time.Hour, DeadAfter: 365 * 24 * time.Hour,
		},
		Behavior: BehaviorSpec{
			UploadMin: 256 * KiB, UploadMax: 16 * MiB, DownloadFactor: 4,
			AlwaysOn: 0.35, OnlineHoursMin: 2, OnlineHoursMax: 14,
			GrabsPerDay: 0.8, SeedTimeMedian: 5 * 24 * time.Hour, InitialSeeding: 4, MaxActive: 25,
			RestartsPerDay: 0.1, LostStopped: 0.15, KeepPeerID: 0.4, IPChangePerDay: 0.03,
		},
		Clients: map[string]float64{
			"qbittorrent": 45, "transmission": 15, "deluge": 8, "rtorrent": 12, "aria2": 3, "utorrent": 17,
		},
		Lookalikes: LookalikeSpec{
			Seedbox: 0.04, NATHousehold: 0.05, CGNAT: 0.05, DualStack: 0.25, IPv6Privacy: 0.1,
			Restarts: 0.03, Travel: 0.03, CGNATPoolSize: 12,
		},
		Cheaters: CheaterSpec{
			NaiveFaker: 2, CarefulFaker: 2, CollusionPair: 1, SharedAccount: 2, SoldAccount: 1,
			LeakedPasskey: 1, LeechService: 1, GhostLeecher: 2, InviteSeller: 1, StartFrom: 0.1, StartTo: 0.5,
		},
		Invites: InviteSpec{Founders: 0.05, SellerShare: 0.8, SellerHonest: 2, Popular: 1, PopularInvitees: 15, PopularBad: 1},
	}
}

// Validate rejects specs the simulator cannot run.
func (s *Spec) Validate() error {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if s.Members < 1 {
		bad("members must be at least 1, got %d", s.Members)
	}
	if s.Tick <= 0 || s.Interval < s.Tick {
		bad("tick must be positive and at most interval (tick %s, interval %s)", s.Tick, s.Interval)
	}
	if s.Duration < s.Tick {
		bad("duration %s is shorter than one tick", s.Duration)
	}
	if s.Jitter < 0 || s.Jitter >= 1 {
		bad("jitter must be in [0,1), got %g", s.Jitter)
	}
	t := s.Torrents
	if t.Initial < 1 {
		bad("torrents.initial must be at least 1")
	}
	if t.SizeMin <= 0 || t.SizeMax < t.SizeMin || t.SizeMedian < t.SizeMin || t.SizeMedian > t.SizeMax {
		bad("torrent sizes need 0 < size_min <= size_median <= size_max")
	}
	if t.NewPerDay < 0 || t.SizeSigma < 0 || t.Zipf < 0 {
		bad("torrents.new_per_day, size_sigma and zipf must not be negative")
	}
	if t.RushHalfLife <= 0 || t.DeadAfter <= 0 || t.MaxAge <= 0 {
		bad("torrents.rush_half_life, dead_after and max_age must be positive")
	}
	b := s.Behavior
	if b.UploadMin <= 0 || b.UploadMax < b.UploadMin {
		bad("behavior needs 0 < upload_min <= upload_max")
	}
	if b.DownloadFactor < 1 {
		bad("behavior.download_factor must be at least 1")
	}
	if b.OnlineHoursMin <= 0 || b.OnlineHoursMax < b.OnlineHoursMin || b.OnlineHoursMax > 24 {
		bad("behavior needs 0 < online_hours_min <= online_hours_max <= 24")
	}
	if b.SeedTimeMedian <= 0 || b.MaxActive < 1 {
		bad("behavior.seed_time_median and max_active must be positive")
	}
	for name, v := range map[string]float64{
		"behavior.always_on": b.AlwaysOn, "behavior.lost_stopped": b.LostStopped, "behavior.keep_peer_id": b.KeepPeerID,
		"lookalikes.seedbox": s.Lookalikes.Seedbox, "lookalikes.nat_household": s.Lookalikes.NATHousehold,
		"lookalikes.cgnat": s.Lookalikes.CGNAT, "lookalikes.dual_stack": s.Lookalikes.DualStack,
		"lookalikes.ipv6_privacy": s.Lookalikes.IPv6Privacy, "lookalikes.restarts": s.Lookalikes.Restarts,
		"lookalikes.travel": s.Lookalikes.Travel, "cheaters.start_from": s.Cheaters.StartFrom, "cheaters.start_to": s.Cheaters.StartTo,
		"invites.founders": s.Invites.Founders, "invites.seller_share": s.Invites.SellerShare,
	} {
		if v < 0 || v > 1 {
			bad("%s must be a fraction in [0,1], got %g", name, v)
		}
	}
	if b.GrabsPerDay < 0 || b.RestartsPerDay < 0 || b.InitialSeeding < 0 || b.IPChangePerDay < 0 {
		bad("behavior rates must not be negative")
	}
	if s.Lookalikes.CGNATPoolSize < 2 {
		bad("lookalikes.cgnat_pool_size must be at least 2")
	}
	if s.Cheaters.StartTo < s.Cheaters.StartFrom {
		bad("cheaters.start_to must not be before start_from")
	}
	c := s.Cheaters
	for name, v := range map[string]int{"naive_faker": c.NaiveFaker, "careful_faker": c.CarefulFaker,
		"colluding_pair": c.CollusionPair, "shared_account": c.SharedAccount, "sold_account": c.SoldAccount,
		"leaked_passkey": c.LeakedPasskey, "leech_service": c.LeechService, "ghost_leecher": c.GhostLeecher,
		"invite_seller": c.InviteSeller} {
		if v < 0 {
			bad("cheaters.%s must not be negative", name)
		}
	}
	if c.InviteSeller > 0 && c.SharedAccount+c.SoldAccount < 2*c.InviteSeller {
		bad("cheaters.invite_seller: each of the %d invite sellers needs two shared or sold invitees, there are %d (shared_account + sold_account)",
			c.InviteSeller, c.SharedAccount+c.SoldAccount)
	}
	inv := s.Invites
	for name, v := range map[string]int{"seller_honest": inv.SellerHonest, "popular": inv.Popular,
		"popular_invitees": inv.PopularInvitees, "popular_bad": inv.PopularBad} {
		if v < 0 {
			bad("invites.%s must not be negative", name)
		}
	}
	if inv.Founders == 0 {
		bad("invites.founders must be above 0: someone invited the first members")
	}
	if c.Total() > s.Members/2 {
		bad("%d cheating members is more than half of the %d members", c.Total(), s.Members)
	}
	if len(s.Clients) == 0 {
		bad("clients must name at least one client")
	}
	var total float64
	for name, w := range s.Clients {
		if _, err := clients.ByName(name); err != nil || name == "ratiofaker-fixed" || name == "ratiofaker-mimic" {
			bad("clients: %q is not an honest client (known: %v)", name, clients.Honest())
		}
		if w < 0 {
			bad("clients.%s has a negative weight", name)
		}
		total += w
	}
	if total <= 0 {
		bad("client weights sum to zero")
	}
	if len(errs) > 0 {
		sortStrings(errs)
		return fmt.Errorf("invalid sim spec: %s", joinLines(errs))
	}
	return nil
}
