package clickhouse

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// rows holds one INSERT's columns, in the order of sql/insert_announces.sql.
type rows struct {
	eventID, producerID            [][]byte
	sequence                       []uint64
	kafkaPartition                 []uint32
	kafkaOffset                    []uint64
	schemaVersion                  []uint8
	time                           []time.Time
	timeMS, userID, torrentID      []uint64
	infoHash, peerID, ip           [][]byte
	ipFamily                       []uint8
	network                        [][]byte
	port                           []uint16
	userAgent, key, paramOrder     []string
	event                          []int8
	numwant                        []uint16
	uploaded, downloaded           []uint64
	left, corrupt                  []uint64
	deltaUp, deltaDown             []uint64
	creditedUp, creditedDown       []uint64
	promotion                      []string
	promoDown, promoUp             []uint16
	secondsSincePrevious, seedtime []uint32
	snatch, counterReset, dualDup  []uint8
	seeders, leechers              []uint32
	result                         []int8
	refusal                        []string
}

func (r *rows) len() int { return len(r.eventID) }

// add appends one event. Byte fields the schema fixes in length are padded
// or cut (refused announces may carry malformed info_hash or peer_id): a
// malformed field never blocks the stream.
func (r *rows) add(partition int32, ev consumer.Event) {
	a := ev.A
	t := time.Unix(0, a.GetTimeUnixNano()).UTC()
	ip, family := mappedIP(a.GetIp())
	r.eventID = append(r.eventID, a.GetEventId())
	r.producerID = append(r.producerID, fixed(a.GetProducerId(), 8))
	r.sequence = append(r.sequence, a.GetSequence())
	r.kafkaPartition = append(r.kafkaPartition, uint32(partition))
	r.kafkaOffset = append(r.kafkaOffset, uint64(ev.Offset))
	r.schemaVersion = append(r.schemaVersion, uint8(min(a.GetSchemaVersion(), math.MaxUint8)))
	r.time = append(r.time, t)
	r.timeMS = append(r.timeMS, uint64(a.GetTimeUnixNano()/int64(time.Millisecond)))
	r.userID = append(r.userID, a.GetUserId())
	r.torrentID = append(r.torrentID, a.GetTorrentId())
	r.infoHash = append(r.infoHash, fixed(a.GetInfoHash(), 20))
	r.peerID = append(r.peerID, fixed(a.GetPeerId(), 20))
	r.ip = append(r.ip, ip)
	r.ipFamily = append(r.ipFamily, family)
	r.network = append(r.network, Network(ip, family))
	r.port = append(r.port, u16(a.GetPort()))
	r.userAgent = append(r.userAgent, a.GetUserAgent())
	r.key = append(r.key, a.GetKey())
	r.paramOrder = append(r.paramOrder, strings.Join(a.GetParamOrder(), ","))
	r.event = append(r.event, eventCode(a.GetEvent()))
	r.numwant = append(r.numwant, u16(a.GetNumwant()))
	r.uploaded = append(r.uploaded, a.GetUploaded())
	r.downloaded = append(r.downloaded, a.GetDownloaded())
	r.left = append(r.left, a.GetLeft())
	r.corrupt = append(r.corrupt, a.GetCorrupt())
	r.deltaUp = append(r.deltaUp, a.GetDeltaUploaded())
	r.deltaDown = append(r.deltaDown, a.GetDeltaDownloaded())
	r.creditedUp = append(r.creditedUp, a.GetCreditedUploaded())
	r.creditedDown = append(r.creditedDown, a.GetCreditedDownloaded())
	promo := a.GetPromotion()
	r.promotion = append(r.promotion, promo.GetName())
	r.promoDown = append(r.promoDown, u16(promo.GetDownloadPercent()))
	r.promoUp = append(r.promoUp, u16(promo.GetUploadPercent()))
	r.secondsSincePrevious = append(r.secondsSincePrevious, a.GetSecondsSincePrevious())
	r.seedtime = append(r.seedtime, a.GetSeedtimeSeconds())
	r.snatch = append(r.snatch, b2u(a.GetSnatch()))
	r.counterReset = append(r.counterReset, b2u(a.GetCounterReset()))
	r.dualDup = append(r.dualDup, b2u(a.GetDualStackDuplicate()))
	r.seeders = append(r.seeders, a.GetSeeders())
	r.leechers = append(r.leechers, a.GetLeechers())
	r.result = append(r.result, resultCode(a.GetResult()))
	r.refusal = append(r.refusal, refusalName(a.GetRefusal()))
}

// columns returns the column slices in INSERT order.
func (r *rows) columns() []any {
	return []any{
		r.eventID, r.producerID, r.sequence, r.kafkaPartition, r.kafkaOffset, r.schemaVersion,
		r.time, r.timeMS, r.userID, r.torrentID, r.infoHash, r.peerID, r.ip, r.ipFamily, r.network,
		r.port, r.userAgent, r.key, r.paramOrder, r.event, r.numwant,
		r.uploaded, r.downloaded, r.left, r.corrupt,
		r.deltaUp, r.deltaDown, r.creditedUp, r.creditedDown,
		r.promotion, r.promoDown, r.promoUp,
		r.secondsSincePrevious, r.seedtime, r.snatch, r.counterReset, r.dualDup,
		r.seeders, r.leechers, r.result, r.refusal,
	}
}

// columnar is the part of a prepared INSERT (driver.Batch) rows fill.
type columnar interface {
	Column(int) driver.BatchColumn
}

// appendTo fills a prepared INSERT column by column.
func (r *rows) appendTo(b columnar) error {
	cols := r.columns()
	for i, c := range cols {
		if err := b.Column(i).Append(c); err != nil {
			return fmt.Errorf("append column %d: %w", i, err)
		}
	}
	return nil
}

// mappedIP returns the IPv4-mapped 16-byte form and the family (4, 6, 0 unknown).
func mappedIP(ip []byte) ([]byte, uint8) {
	out := make([]byte, 16)
	switch len(ip) {
	case 4:
		out[10], out[11] = 0xff, 0xff
		copy(out[12:], ip)
		return out, 4
	case 16:
		copy(out, ip)
		if isV4Mapped(out) {
			return out, 4
		}
		return out, 6
	}
	return out, 0
}

func isV4Mapped(ip []byte) bool {
	for _, b := range ip[:10] {
		if b != 0 {
			return false
		}
	}
	return ip[10] == 0xff && ip[11] == 0xff
}

// Network is the /24 (IPv4, kept IPv4-mapped) or /64 (IPv6) an address
// belongs to, as stored in the `network` column.
func Network(mapped []byte, family uint8) []byte {
	out := make([]byte, 16)
	switch family {
	case 4:
		copy(out, mapped[:15])
	case 6:
		copy(out, mapped[:8])
	}
	return out
}

func fixed(b []byte, n int) []byte {
	if len(b) == n {
		return b
	}
	out := make([]byte, n)
	copy(out, b)
	return out
}

func u16(v uint32) uint16 { return uint16(min(v, math.MaxUint16)) }

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func refusalName(r events.Refusal) string {
	if r == events.Refusal_REFUSAL_NONE {
		return ""
	}
	return strings.ToLower(strings.TrimPrefix(r.String(), "REFUSAL_"))
}

// eventCode maps the event to the Enum8 of the schema; a value from a newer
// producer this build does not know is stored as 'none'.
func eventCode(e events.Event) int8 {
	if e < events.Event_EVENT_NONE || e > events.Event_EVENT_PAUSED {
		return 0
	}
	return int8(e)
}

// resultCode maps the result to the Enum8 of the schema; an unknown value
// from a newer producer is stored as 'refused' (it credited nothing here).
func resultCode(r events.Result) int8 {
	if r == events.Result_RESULT_ACCEPTED {
		return 1
	}
	return 2
}
