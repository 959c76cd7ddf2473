package replay

import (
	"net/url"
	"strings"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/sim/clients"
	"github.com/ratioguard/ratioguard/tracker/core"
)

// requestBuilder turns a simulated announce into the core's parsed request,
// reusing buffers; the parameter orders are cached per client and shape.
type requestBuilder struct {
	req    core.Request
	orders map[orderKey][]string
}

type orderKey struct {
	t       *clients.Template
	ev      clients.Event
	corrupt bool
}

var eventOf = [...]events.Event{
	clients.EventNone:      events.Event_EVENT_NONE,
	clients.EventStarted:   events.Event_EVENT_STARTED,
	clients.EventStopped:   events.Event_EVENT_STOPPED,
	clients.EventCompleted: events.Event_EVENT_COMPLETED,
}

func (b *requestBuilder) build(a *clients.Announce) *core.Request {
	if b.orders == nil {
		b.orders = map[orderKey][]string{}
	}
	k := orderKey{a.Client, a.Event, a.Corrupt > 0}
	order, ok := b.orders[k]
	if !ok {
		order = a.Client.ParamOrder(a)
		b.orders[k] = order
	}
	numwant := -1
	for _, p := range order {
		if p == "numwant" {
			numwant = a.Client.NumWant
			if a.Event == clients.EventStopped {
				numwant = a.Client.NumWantStopped
			}
		}
	}
	r := &b.req
	*r = core.Request{
		Passkey:    a.Passkey,
		InfoHash:   a.InfoHash[:],
		PeerID:     a.PeerID[:],
		Addr:       a.IP,
		Port:       a.Port,
		Uploaded:   a.Uploaded,
		Downloaded: a.Downloaded,
		Left:       a.Left,
		Corrupt:    a.Corrupt,
		Event:      eventOf[a.Event],
		NumWant:    numwant,
		Key:        append(r.Key[:0], wireKey(a.Key)...),
		UserAgent:  a.Client.UserAgent,
		ParamOrder: order,
	}
	return r
}

// wireKey decodes a percent-encoded key (aria2 sends raw peer_id bytes) as
// the tracker's query parser would.
func wireKey(k string) string {
	if !strings.Contains(k, "%") {
		return k
	}
	if v, err := url.QueryUnescape(k); err == nil {
		return v
	}
	return k
}
