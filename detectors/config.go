package detectors

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Duration is a time.Duration that reads and writes as "5m", "60d"-free Go syntax.
type Duration struct{ time.Duration }

// MarshalJSON writes the Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a Go duration string ("90m", "1440h").
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"90m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	d.Duration = v
	return nil
}

func days(n int) Duration { return Duration{time.Duration(n) * 24 * time.Hour} }

// Config holds every threshold and exemption. Zero values are never used:
// DefaultConfig fills everything and a JSON file overrides what it names.
type Config struct {
	// Exemptions.
	StaffClasses  []string `json:"staff_classes"`  // users.class values never reported (any case)
	AllowUsers    []uint64 `json:"allow_users"`    // member ids never reported
	AllowNetworks []string `json:"allow_networks"` // CIDRs ignored in network counts

	// Reporting.
	ReportThreshold  float64 `json:"report_threshold"`  // minimum score that becomes a report
	MaterialIncrease float64 `json:"material_increase"` // magnitude factor that reopens a dismissed report
	// GeoDB is the path of an optional MaxMind-format ASN/city database.
	GeoDB string `json:"geo_db"`

	FakedUpload    FakedUploadConfig    `json:"faked_upload"`
	MultiIP        MultiIPConfig        `json:"multi_ip"`
	AccountSelling AccountSellingConfig `json:"account_selling"`
	InviteTree     InviteTreeConfig     `json:"invite_tree"`
	LeakedPasskey  LeakedPasskeyConfig  `json:"leaked_passkey"`
	CloudLeech     CloudLeechConfig     `json:"cloud_leech"`
	GhostLeecher   GhostLeecherConfig   `json:"ghost_leecher"`
	NexusPHP       NexusPHPConfig       `json:"nexusphp"`
}

// FakedUploadConfig tunes the faked-upload score.
type FakedUploadConfig struct {
	Lookback Duration `json:"lookback"`
	// Impossible rate: one announce's delta over its interval.
	MaxRate        float64 `json:"max_rate"`         // bytes/s no member's client reaches
	MinRateBytes   uint64  `json:"min_rate_bytes"`   // ignore announces below this delta
	SeedboxRateMul float64 `json:"seedbox_rate_mul"` // MaxRate multiplier on declared seedboxes
	// Upload while the swarm had no other leecher at both announces.
	NoLeecherMinBytes uint64 `json:"no_leecher_min_bytes"`
	// Swarm balance (balance.go): the fitted share of a member's upload
	// nobody downloaded fires from BalanceMinShare, BalanceMinBytes and
	// BalanceZ noise widths; a bucket-torrent's noise is BalanceNoiseRel of
	// what its swarm acquired + BalanceNoiseSize of the torrent's size +
	// BalanceNoiseFloor bytes.
	BalanceBucket     Duration `json:"balance_bucket"`
	BalanceMinShare   float64  `json:"balance_min_share"`
	BalanceMinBytes   uint64   `json:"balance_min_bytes"`
	BalanceZ          float64  `json:"balance_z"`
	BalanceZSpread    float64  `json:"balance_z_spread"` // noise widths without the member's hardest-pulling torrent
	BalanceZDays      float64  `json:"balance_z_days"`   // or without its two hardest-pulling days (evidence in one swarm that persists; 0: off)
	BalanceZSingle    float64  `json:"balance_z_single"` // noise widths that fire even from one torrent
	BalanceNoiseRel   float64  `json:"balance_noise_rel"`
	BalanceNoiseSize  float64  `json:"balance_noise_size"`
	BalanceNoiseFloor uint64   `json:"balance_noise_floor"`
	// Counter jumps.
	JumpSizeMultiple float64 `json:"jump_size_multiple"`
	// Unnatural regularity over one peer's announces.
	RegularMinAnnounces int     `json:"regular_min_announces"`
	RegularMaxCV        float64 `json:"regular_max_cv"`
	// Collusion: pairs that only trade with each other.
	CollusionMinTorrents int `json:"collusion_min_torrents"` // distinct torrents one pair traded alone
	// Fingerprint: rare (family, key format, param order) combinations.
	FingerprintMaxShare float64 `json:"fingerprint_max_share"`
}

// MultiIPConfig tunes multi-IP sharing.
type MultiIPConfig struct {
	Lookback Duration `json:"lookback"`
	MaxSites int      `json:"max_sites"` // locations one member may have present at once
	MinHours float64  `json:"min_hours"` // hours with more than MaxSites locations present at once before a report
	// MaxGap is the longest time between two announces of one session that
	// still counts as presence between them (clients announce every 30 min).
	MaxGap     Duration `json:"max_gap"`
	MaxClients int      `json:"max_clients"` // user agents of the locations present together above this raise the score
	// Seedbox providers: the /SeedboxAreaV4Bits (IPv6 /SeedboxAreaV6Bits)
	// around any member's declared seedbox range is a provider's network,
	// whose addresses are not locations (0: off).
	SeedboxAreaV4Bits int     `json:"seedbox_area_v4_bits"`
	SeedboxAreaV6Bits int     `json:"seedbox_area_v6_bits"`
	MaxASNs           int     `json:"max_asns"`       // concurrent ASNs (with a geo database)
	MaxTravelKMH      float64 `json:"max_travel_kmh"` // faster than this between cities is impossible travel
	TravelMinJumpKM   float64 `json:"travel_min_jump_km"`
}

// AccountSellingConfig tunes the change-point search.
type AccountSellingConfig struct {
	Baseline     Duration `json:"baseline"` // history searched for a change point
	Recent       Duration `json:"recent"`   // invite trees count bad invitees reported this recently
	MinGap       Duration `json:"min_gap"`  // silence required at the change point
	Dormancy     Duration `json:"dormancy"` // silence at which the dormancy signal is at full strength
	MinScore     float64  `json:"min_score"`
	MinAnnounces int      `json:"min_announces"` // before and after the change point
	// Cadence: incremental passes run the change-point search once per
	// cadence, over every member active since the previous boundary (weeks of
	// behaviour barely move in five minutes); 0 runs it on every pass. The
	// boundaries are the multiples of the cadence shifted by the detector's
	// own offset (CadenceOffset: 26m55s into the hour for an hourly cadence),
	// not the clock hour, where faked_upload makes its swarm-balance fit.
	Cadence Duration `json:"cadence"`
}

// InviteTreeConfig tunes invite-tree reports.
type InviteTreeConfig struct {
	MinBadInvitees int `json:"min_bad_invitees"`
	// MaxChance: an inviter is reported only when so many of its invitees
	// would be bad by chance with at most this probability (binomial tail at
	// the site's share of bad invitees, at least 1 %): with hundreds of
	// inviters, a few small ones have two bad invitees by luck.
	MaxChance float64 `json:"max_chance"`
	// CountOpen: the severities at which an invitee's open, unreviewed
	// report counts as bad. Default none: only reports staff confirmed
	// count, so one automated suspicion never begets another (an inviter is
	// accused on verdicts, not on other detectors' guesses). ["high",
	// "critical"] shows invite trees before review.
	CountOpen []string `json:"count_open"`
}

// LeakedPasskeyConfig tunes leaked-passkey detection.
type LeakedPasskeyConfig struct {
	Lookback       Duration `json:"lookback"`
	MinNetworks    int      `json:"min_networks"`     // distinct networks in one hour
	MinClients     int      `json:"min_clients"`      // distinct user agents in one hour, or on a day of MinDayNetworks
	MinDayNetworks int      `json:"min_day_networks"` // distinct networks in one day (24 h from 00:00 or from 12:00 UTC)
}

// CloudLeechConfig tunes offline-download / cloud-leech detection.
type CloudLeechConfig struct {
	Lookback        Duration `json:"lookback"`
	MinNetworkUsers int      `json:"min_network_users"` // members leeching through one network
	MaxNetworkRatio float64  `json:"max_network_ratio"` // upload/download of a leech download, and of the member
	MinUserTorrents int      `json:"min_user_torrents"` // completed torrents before the dropped share counts
	MaxSeedSeconds  uint64   `json:"max_seed_seconds"`  // stops this soon after completing
	// OfflineClients are the peer_id prefixes (2 to 8 characters) of offline-download services
	// (Xunlei and the like); their announces count whether the client rules
	// refused them or not, on MinOfflineTorrents distinct torrents or more.
	OfflineClients     []string `json:"offline_clients"`
	MinOfflineTorrents int      `json:"min_offline_torrents"`
	// A leech download completes at MinDownRate bytes/s or more (from its
	// first announce, at least a minute), uploads at most MaxNetworkRatio of
	// it and stops within MaxSeedSeconds; MinFastDumps of them fire.
	MinDownRate  float64 `json:"min_down_rate"`
	MinFastDumps int     `json:"min_fast_dumps"`
	// MinDrops torrents or more dropped within MaxSeedSeconds of completing,
	// at least 90 % of those completed, fire whatever the speed.
	MinDrops int `json:"min_drops"`
}

// GhostLeecherConfig tunes ghost-leecher detection.
type GhostLeecherConfig struct {
	Lookback    Duration `json:"lookback"`
	MinTorrents int      `json:"min_torrents"` // peers stuck ≥ 2 h with seeders (supporting signal)
	// A held slot: a leecher session at the torrent's full size, nothing
	// downloaded, never completing, announcing for MinHold or longer with
	// seeders in at least MinSeededShare of the tracker's answers;
	// MinHeldSlots of them fire.
	MinHold        Duration `json:"min_hold"`
	MinSeededShare float64  `json:"min_seeded_share"`
	MinHeldSlots   int      `json:"min_held_slots"`
	// Cadence: incremental passes re-evaluate the members a new announce
	// points at once per cadence, with every such announce since the previous
	// boundary (a slot held for days, a blind completion or an upload from a
	// peer that holds nothing is as clear an hour later); 0 runs it on every
	// pass. The boundaries are shifted by the detector's own offset
	// (CadenceOffset: 4m09s into the hour for an hourly cadence).
	Cadence Duration `json:"cadence"`
}

// NexusPHPConfig is NexusPHP's inline check_cheater at a security level
// (1 conservative — the default — to 4 paranoid).
type NexusPHPConfig struct {
	Lookback Duration `json:"lookback"`
	Level    int      `json:"level"`
}

// DefaultConfig returns the defaults documented in docs/DETECTION.md.
func DefaultConfig() *Config {
	return &Config{
		StaffClasses:     DefaultStaffClasses(),
		ReportThreshold:  0.5,
		MaterialIncrease: 1.5,
		FakedUpload: FakedUploadConfig{
			Lookback:             days(7),
			MaxRate:              100 << 20,
			MinRateBytes:         1 << 30,
			SeedboxRateMul:       10,
			NoLeecherMinBytes:    64 << 20,
			BalanceBucket:        Duration{6 * time.Hour},
			BalanceMinShare:      0.2,
			BalanceMinBytes:      2 << 30,
			BalanceZ:             4,
			BalanceZSpread:       2.5,
			BalanceZDays:         3.5,
			BalanceZSingle:       25,
			BalanceNoiseRel:      0.015,
			BalanceNoiseSize:     0.01,
			BalanceNoiseFloor:    32 << 20,
			JumpSizeMultiple:     2,
			RegularMinAnnounces:  6,
			RegularMaxCV:         0.02,
			CollusionMinTorrents: 4,
			FingerprintMaxShare:  0.05,
		},
		MultiIP: MultiIPConfig{
			Lookback:          days(7),
			MaxSites:          1,
			MinHours:          1,
			MaxGap:            Duration{time.Hour},
			MaxClients:        1,
			SeedboxAreaV4Bits: 16,
			SeedboxAreaV6Bits: 32,
			MaxASNs:           2,
			MaxTravelKMH:      1000,
			TravelMinJumpKM:   500,
		},
		AccountSelling: AccountSellingConfig{
			Baseline:     days(60),
			Recent:       days(7),
			MinGap:       Duration{48 * time.Hour},
			Dormancy:     days(7),
			MinScore:     0.65,
			MinAnnounces: 2,
			Cadence:      Duration{time.Hour},
		},
		InviteTree:    InviteTreeConfig{MinBadInvitees: 2, MaxChance: 1e-4},
		LeakedPasskey: LeakedPasskeyConfig{Lookback: days(2), MinNetworks: 6, MinClients: 3, MinDayNetworks: 8},
		CloudLeech: CloudLeechConfig{
			Lookback:           days(7),
			MinNetworkUsers:    3,
			MaxNetworkRatio:    0.05,
			MinUserTorrents:    2,
			MaxSeedSeconds:     600,
			OfflineClients:     []string{"-XL", "-SD", "-XF", "-QD"},
			MinOfflineTorrents: 3,
			MinDownRate:        25 << 20,
			MinFastDumps:       3,
			MinDrops:           20,
		},
		GhostLeecher: GhostLeecherConfig{
			Lookback:       days(7),
			MinTorrents:    2,
			MinHold:        Duration{24 * time.Hour},
			MinSeededShare: 0.8,
			MinHeldSlots:   3,
			Cadence:        Duration{time.Hour},
		},
		NexusPHP: NexusPHPConfig{Lookback: days(1), Level: 1},
	}
}

// LoadConfig returns DefaultConfig overridden by the JSON file at path
// ("" means defaults only). Unknown fields are an error.
func LoadConfig(path string) (*Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		return cfg, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open detector config: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("parse detector config %s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("detector config %s: %w", path, err)
	}
	return cfg, nil
}

// Validate rejects settings that would make detectors meaningless.
func (c *Config) Validate() error {
	switch {
	case c.ReportThreshold <= 0 || c.ReportThreshold > 1:
		return fmt.Errorf("report_threshold must be in (0,1], got %v", c.ReportThreshold)
	case c.MaterialIncrease < 1:
		return fmt.Errorf("material_increase must be >= 1, got %v", c.MaterialIncrease)
	case c.NexusPHP.Level < 1 || c.NexusPHP.Level > 4:
		return fmt.Errorf("nexusphp.level must be 1..4, got %d", c.NexusPHP.Level)
	case c.FakedUpload.BalanceNoiseRel < 0 || c.FakedUpload.BalanceNoiseSize < 0 ||
		c.FakedUpload.BalanceNoiseRel+c.FakedUpload.BalanceNoiseSize == 0 && c.FakedUpload.BalanceNoiseFloor == 0:
		return fmt.Errorf("faked_upload: balance noise must be >= 0 and not all zero")
	case c.FakedUpload.BalanceBucket.Duration < time.Hour || c.FakedUpload.BalanceBucket.Duration%time.Hour != 0:
		return fmt.Errorf("faked_upload: balance_bucket must be whole hours, got %v", c.FakedUpload.BalanceBucket.Duration)
	case c.FakedUpload.BalanceZDays < 0:
		return fmt.Errorf("faked_upload: balance_z_days must be >= 0 (0: off), got %v", c.FakedUpload.BalanceZDays)
	case c.FakedUpload.BalanceMinShare <= 0 || c.FakedUpload.BalanceMinShare > 1 || c.FakedUpload.BalanceZ <= 0:
		return fmt.Errorf("faked_upload: balance_min_share must be in (0,1] and balance_z > 0")
	case c.InviteTree.MaxChance <= 0 || c.InviteTree.MaxChance > 1:
		return fmt.Errorf("invite_tree.max_chance must be in (0,1], got %v", c.InviteTree.MaxChance)
	case !validSeverities(c.InviteTree.CountOpen):
		return fmt.Errorf("invite_tree.count_open must list severities (low, medium, high, critical), got %q", c.InviteTree.CountOpen)
	case c.MultiIP.MaxSites < 1:
		return fmt.Errorf("multi_ip.max_sites must be >= 1")
	case c.MultiIP.MinHours <= 0 || c.MultiIP.MaxGap.Duration <= 0:
		return fmt.Errorf("multi_ip: min_hours and max_gap must be > 0")
	case c.MultiIP.SeedboxAreaV4Bits < 0 || c.MultiIP.SeedboxAreaV4Bits > 32 || c.MultiIP.SeedboxAreaV6Bits < 0 || c.MultiIP.SeedboxAreaV6Bits > 128:
		return fmt.Errorf("multi_ip: seedbox_area_v4_bits must be 0..32 and seedbox_area_v6_bits 0..128")
	case c.AccountSelling.Recent.Duration <= 0 || c.AccountSelling.Baseline.Duration <= c.AccountSelling.Recent.Duration:
		return fmt.Errorf("account_selling.baseline must be longer than recent (> 0)")
	case c.AccountSelling.Cadence.Duration < 0:
		return fmt.Errorf("account_selling.cadence must be >= 0, got %v", c.AccountSelling.Cadence.Duration)
	case c.GhostLeecher.Cadence.Duration < 0:
		return fmt.Errorf("ghost_leecher.cadence must be >= 0, got %v", c.GhostLeecher.Cadence.Duration)
	case c.AccountSelling.MinGap.Duration <= 0 || c.AccountSelling.Dormancy.Duration < c.AccountSelling.MinGap.Duration:
		return fmt.Errorf("account_selling: min_gap must be > 0 and dormancy >= min_gap")
	}
	for _, n := range c.AllowNetworks {
		if _, err := parseCIDR(n); err != nil {
			return fmt.Errorf("allow_networks: %w", err)
		}
	}
	return nil
}

// validSeverities says whether every name is a report severity.
func validSeverities(names []string) bool {
	for _, n := range names {
		switch Severity(n) {
		case SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
		default:
			return false
		}
	}
	return true
}
