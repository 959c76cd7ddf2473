package labels

import (
	"time"

	"github.com/ratioguard/ratioguard/sim/population"
)

// Kinds that other generators label and sim/ does not model (popgen's, see
// sim/popgen). They share the vocabulary with sim/population's kinds so eval
// and the quality tables name one behaviour one way on every generator.
const (
	// Inflater is a real client in real swarms reporting more upload than it
	// did (faked upload).
	Inflater = "inflater"
	// FreshRush: an honest member grabbing new releases within minutes and
	// uploading at full speed during the rush.
	FreshRush = "fresh_rush"
	// DynamicIP: an honest member whose home address changes (forced
	// redial, reconnects).
	DynamicIP = "dynamic_ip"
	// DeadSwarm: an honest leecher stuck for a day on a torrent nobody seeds.
	DeadSwarm = "dead_swarm"
)

// CheatKinds is every cheat kind eval reports, in table order: sim's, then
// those only other generators label.
var CheatKinds = append(kindNames(population.CheatKinds), Inflater)

// LookalikeKinds is every honest look-alike kind eval reports, in table order.
var LookalikeKinds = append(kindNames(population.LookalikeKinds), FreshRush, DynamicIP, DeadSwarm)

func kindNames(ks []population.Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

// Named is a label whose member (and colluding partner) is known by name
// only: ground truth from another generator about members an import created
// (`ratioguard import site`). sim/setup resolves the names to user ids.
type Named struct {
	Name    string
	Role    Role
	Kind    string
	Start   time.Time
	Partner string // the other member of a colluding pair, by name
}
