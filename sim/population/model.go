// Package population owns who is on the simulated site: members with their
// passkeys, the agents through which they announce (a client installation on a
// network, honest or cheating, active for a window of time), the torrent
// catalog with its releases, the networks (residential, NAT households,
// carrier NAT, datacenters, IPv6 /64s), the invite tree (who invited whom)
// and the ground truth: which members cheat, how and since when, and which
// honest members look like cheaters.
// Build is deterministic: the same spec and seed give the same population.
package population

import (
	"net/netip"
	"time"

	"github.com/ratioguard/ratioguard/sim/clients"
)

// Kind is a cheat kind or an honest look-alike kind.
type Kind string

// Cheat kinds.
const (
	NaiveFaker    Kind = "naive_faker"
	CarefulFaker  Kind = "careful_faker"
	Colluder      Kind = "colluding_pair"
	SharedAccount Kind = "shared_account"
	SoldAccount   Kind = "sold_account"
	LeakedPasskey Kind = "leaked_passkey"
	LeechService  Kind = "leech_service"
	GhostLeecher  Kind = "ghost_leecher"
	InviteSeller  Kind = "invite_seller" // most of its invitees are shared or sold accounts
)

// Honest look-alike kinds.
const (
	Seedbox      Kind = "seedbox"
	NATHousehold Kind = "nat_household"
	CGNAT        Kind = "cgnat"
	DualStack    Kind = "dual_stack"
	IPv6Privacy  Kind = "ipv6_privacy"
	Restarts     Kind = "restarts"
	Travel       Kind = "travel"
	// Invite-tree look-alikes: many honest invitees (and a bad one or two),
	// or a household's members sharing one address.
	PopularInviter Kind = "popular_inviter"
	FamilyInviter  Kind = "family_inviter"
)

// CheatKinds lists every cheat kind.
var CheatKinds = []Kind{NaiveFaker, CarefulFaker, Colluder, SharedAccount, SoldAccount, LeakedPasskey, LeechService, GhostLeecher, InviteSeller}

// LookalikeKinds lists every honest look-alike kind.
var LookalikeKinds = []Kind{Seedbox, NATHousehold, CGNAT, DualStack, IPv6Privacy, Restarts, Travel, PopularInviter, FamilyInviter}

// Behavior is how an agent reports what it transfers.
type Behavior uint8

// Behaviors.
const (
	Honest      Behavior = iota
	NaiveFake            // reports a constant fake upload as a seeder, transfers nothing
	CarefulFake          // downloads for real, adds a randomised fake upload only when the swarm has leechers
	Collude              // reports transfers with its partner only, transfers nothing
	Ghost                // downloads for real but reports downloaded=0 and left unchanged
	LeechOnly            // downloads for real and stops right after completing (never seeds)
)

// RealTransfer says whether the agent moves real bytes in the swarm model.
func (b Behavior) RealTransfer() bool { return b != NaiveFake && b != Collude }

// Member is one account.
type Member struct {
	Index   int
	ID      uint64 // user id in Postgres (index+1 until setup assigns the real one)
	Name    string
	Passkey string
	Class   string
	Agents  []*Agent

	Cheat      Kind      // empty for honest members
	CheatStart time.Time // when the cheating starts (for sold accounts: when the buyer appears)
	Partner    *Member   // the other member of a colluding pair
	Lookalikes []Kind
	// InvitedBy is the member who invited this one (nil for founders).
	InvitedBy *Member
}

// NetKind classifies a network.
type NetKind uint8

// Network kinds.
const (
	Residential NetKind = iota
	Household           // residential address shared by a family
	CarrierNAT          // carrier-grade NAT address shared by many subscribers
	Datacenter          // hosting range (seedboxes, cloud leech services)
	Foreign             // hotel or foreign ISP while travelling; strangers' networks
)

// Network is where an agent announces from.
type Network struct {
	Kind NetKind
	ISP  int        // index of the provider (/16 of the IPv4 address)
	V4   netip.Addr // the address the tracker sees
	// V6 is the /64 of the agent (first 8 bytes); valid when HasV6.
	V6    [8]byte
	HasV6 bool
}

// Trip is a stay on another network.
type Trip struct {
	From, Until time.Time
	Net         *Network
}

// Agent is a client installation used with a member's passkey.
type Agent struct {
	ID       uint32
	Member   *Member
	Client   *clients.Template
	Behavior Behavior
	// Active window; a zero Until means until the end of the run.
	From, Until time.Time

	Up, Down    int64 // capacity, bytes per second
	AlwaysOn    bool
	OnlineStart float64 // hour of day (UTC) the client starts
	OnlineHours float64
	Net         *Network
	Trip        *Trip
	DualStack   bool
	PrivacyV6   bool
	Port        uint16

	GrabsPerDay    float64
	SeedTime       time.Duration // median seeding time after completion
	MaxActive      int
	RestartsPerDay float64
	// FakeRate is the fake upload rate of fakers and colluders, bytes per second.
	FakeRate int64
	// InitialSeeds are torrent indexes the agent already seeds at the start.
	InitialSeeds []int
	// Stranger marks agents not run by the member (leaked passkeys).
	Stranger bool
}

// ActiveAt says whether the agent exists at t.
func (a *Agent) ActiveAt(t time.Time) bool {
	return !t.Before(a.From) && (a.Until.IsZero() || t.Before(a.Until))
}

// NetworkAt is the network the agent uses at t.
func (a *Agent) NetworkAt(t time.Time) *Network {
	if a.Trip != nil && !t.Before(a.Trip.From) && t.Before(a.Trip.Until) {
		return a.Trip.Net
	}
	return a.Net
}

// Torrent is one registered torrent.
type Torrent struct {
	Index    int
	ID       uint64 // torrent id in Postgres (index+1 until setup assigns the real one)
	InfoHash [20]byte
	Name     string
	Size     int64
	Created  time.Time
	Weight   float64 // base popularity
	Uploader *Agent  // seeds the release when it appears (nil for the initial catalog)
}

// SeedboxRange is a declared seedbox range of a member.
type SeedboxRange struct {
	Member *Member
	Prefix netip.Prefix
}

// Population is everything Build generated.
type Population struct {
	Seed          uint64
	Start, End    time.Time
	Members       []*Member
	Agents        []*Agent
	Torrents      []*Torrent // sorted by Created; releases after Start included
	SeedboxRanges []SeedboxRange
}
