package clickhouse

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// rows holds one INSERT's columns, in the order of sql/insert_announces.sql.
// Its buffers are reused from batch to batch (truncate keeps their
// capacity), fixed-length byte columns are flat, and the LowCardinality
// columns hold interned values: adding a row allocates nothing once the
// buffers have grown to the batch size.
type rows struct {
	eventID, producerID, infoHash  fixedCol
	peerID, ip, network            fixedCol
	sequence, kafkaOffset, timeMS  vec[uint64]
	userID, torrentID              vec[uint64]
	uploaded, downloaded           vec[uint64]
	left, corrupt                  vec[uint64]
	deltaUp, deltaDown             vec[uint64]
	creditedUp, creditedDown       vec[uint64]
	kafkaPartition                 vec[uint32]
	secondsSincePrevious, seedtime vec[uint32]
	seeders, leechers              vec[uint32]
	schemaVersion, ipFamily        vec[uint8]
	snatch, counterReset, dualDup  vec[uint8]
	port, numwant                  vec[uint16]
	promoDown, promoUp             vec[uint16]
	time                           vec[int64] // DateTime, Unix seconds
	event, result                  vec[int8]
	key                            bytesCol
	userAgent, paramOrder          vec[any] // LowCardinality(String): interned strings
	promotion, refusal             vec[any]

	cols []colBuf // the above in INSERT order
	wire []byte   // scratch: one column in the native format
}

// columns returns the columns in INSERT order.
func (r *rows) columns() []colBuf { return r.cols }

// listColumns lists the columns in INSERT order.
func (r *rows) listColumns() []colBuf {
	return []colBuf{
		&r.eventID, &r.producerID, &r.sequence, &r.kafkaPartition, &r.kafkaOffset, &r.schemaVersion,
		&r.time, &r.timeMS, &r.userID, &r.torrentID, &r.infoHash, &r.peerID, &r.ip, &r.ipFamily, &r.network,
		&r.port, &r.userAgent, &r.key, &r.paramOrder, &r.event, &r.numwant,
		&r.uploaded, &r.downloaded, &r.left, &r.corrupt,
		&r.deltaUp, &r.deltaDown, &r.creditedUp, &r.creditedDown,
		&r.promotion, &r.promoDown, &r.promoUp,
		&r.secondsSincePrevious, &r.seedtime, &r.snatch, &r.counterReset, &r.dualDup,
		&r.seeders, &r.leechers, &r.result, &r.refusal,
	}
}

func newRows() *rows {
	r := &rows{}
	r.eventID.width, r.producerID.width, r.infoHash.width = events.IDLen, 8, 20
	r.peerID.width, r.ip.width, r.network.width = 20, 16, 16
	r.cols = r.listColumns()
	return r
}

func (r *rows) len() int { return len(r.sequence.v) }

// truncate empties r, keeping its buffers.
func (r *rows) truncate() {
	for _, c := range r.columns() {
		c.truncate()
	}
}

// gather sets r to the rows idx of src, in that order.
func (r *rows) gather(src *rows, idx []int32) {
	dst, from := r.columns(), src.columns()
	for i, c := range dst {
		c.gather(from[i], idx)
	}
}

// add appends one event. Byte fields the schema fixes in length are padded
// or cut (refused announces may carry malformed info_hash or peer_id): a
// malformed field never blocks the stream.
func (r *rows) add(partition int32, offset int64, a *events.View, in *interner) {
	ns := a.TimeUnixNano
	r.eventID.add(a.EventID)
	r.producerID.add(a.ProducerID)
	r.sequence.add(a.Sequence)
	r.kafkaPartition.add(uint32(partition))
	r.kafkaOffset.add(uint64(offset))
	r.schemaVersion.add(uint8(min(a.SchemaVersion, math.MaxUint8)))
	r.time.add(ns / int64(time.Second))
	r.timeMS.add(uint64(ns / int64(time.Millisecond)))
	r.userID.add(a.UserID)
	r.torrentID.add(a.TorrentID)
	r.infoHash.add(a.InfoHash)
	r.peerID.add(a.PeerID)
	family := r.ip.addIP(a.IP)
	r.ipFamily.add(family)
	r.network.addNetwork(r.ip.last(), family)
	r.port.add(u16(a.Port))
	r.userAgent.add(in.get(a.UserAgent))
	r.key.add(a.Key)
	r.paramOrder.add(in.joined(a.ParamOrder))
	r.event.add(eventCode(a.Event))
	r.numwant.add(u16(a.Numwant))
	r.uploaded.add(a.Uploaded)
	r.downloaded.add(a.Downloaded)
	r.left.add(a.Left)
	r.corrupt.add(a.Corrupt)
	r.deltaUp.add(a.DeltaUploaded)
	r.deltaDown.add(a.DeltaDownloaded)
	r.creditedUp.add(a.CreditedUploaded)
	r.creditedDown.add(a.CreditedDownloaded)
	r.promotion.add(in.get(a.PromotionName))
	r.promoDown.add(u16(a.PromoDownloadPercent))
	r.promoUp.add(u16(a.PromoUploadPercent))
	r.secondsSincePrevious.add(a.SecondsSincePrevious)
	r.seedtime.add(a.SeedtimeSeconds)
	r.snatch.add(b2u(a.Snatch))
	r.counterReset.add(b2u(a.CounterReset))
	r.dualDup.add(b2u(a.DualStackDuplicate))
	r.seeders.add(a.Seeders)
	r.leechers.add(a.Leechers)
	r.result.add(resultCode(a.Result))
	r.refusal.add(in.refusal(a.Refusal))
}

// columnar is the part of a prepared INSERT (driver.Batch) rows fill.
type columnar interface {
	Column(int) driver.BatchColumn
}

// appendTo fills a prepared INSERT column by column. clickhouse-go's own
// batch exposes its columns: each is then filled in one go, by decoding the
// column from its native wire format (written from our buffers), instead of
// appending row by row (per-row reflection for LowCardinality, and column
// buffers grown from zero by append: most of clickhouse-go's cost and
// garbage per row).
func (r *rows) appendTo(b columnar) error {
	if cb, ok := b.(interface{ Columns() []column.Interface }); ok {
		return r.decodeInto(cb.Columns())
	}
	for i, c := range r.columns() {
		err := b.Column(i).Append(c.values())
		if v, ok := c.(interface{ dropViews() }); ok {
			v.dropViews() // clickhouse-go copied the rows: no pointers left for the GC to scan
		}
		if err != nil {
			return fmt.Errorf("append column %d: %w", i, err)
		}
	}
	return nil
}

// decodeInto fills a prepared INSERT's empty columns.
func (r *rows) decodeInto(cols []column.Interface) error {
	if len(cols) != len(r.cols) {
		return fmt.Errorf("insert has %d columns, the loader fills %d", len(cols), len(r.cols))
	}
	n := r.len()
	for i, c := range r.cols {
		r.wire = c.wire(r.wire[:0])
		if err := cols[i].Decode(proto.NewReader(bytes.NewReader(r.wire)), n); err != nil {
			return fmt.Errorf("fill column %s (%s): %w", cols[i].Name(), cols[i].Type(), err)
		}
		if got := cols[i].Rows(); got != n {
			return fmt.Errorf("fill column %s (%s): %d rows, want %d", cols[i].Name(), cols[i].Type(), got, n)
		}
	}
	return nil
}

// colBuf is one column's buffer.
type colBuf interface {
	truncate()
	gather(src colBuf, idx []int32)
	// values is what clickhouse-go's Append takes for the column.
	values() any
	// wire appends the column in ClickHouse's native format.
	wire(dst []byte) []byte
}

// vec is a column of values clickhouse-go takes as a slice.
type vec[T any] struct{ v []T }

func (c *vec[T]) add(x T)     { c.v = append(c.v, x) }
func (c *vec[T]) truncate()   { c.v = c.v[:0] }
func (c *vec[T]) values() any { return c.v }

// wire: numbers little-endian; the one int64 column, `time`, is a
// DateTime (UInt32 seconds); the []any columns are LowCardinality(String).
func (c *vec[T]) wire(dst []byte) []byte {
	switch v := any(c.v).(type) {
	case []uint64:
		for _, x := range v {
			dst = binary.LittleEndian.AppendUint64(dst, x)
		}
	case []uint32:
		for _, x := range v {
			dst = binary.LittleEndian.AppendUint32(dst, x)
		}
	case []uint16:
		for _, x := range v {
			dst = binary.LittleEndian.AppendUint16(dst, x)
		}
	case []uint8:
		dst = append(dst, v...)
	case []int8:
		for _, x := range v {
			dst = append(dst, byte(x))
		}
	case []int64:
		for _, x := range v {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(x))
		}
	case []any:
		dst = lowCardinalityWire(dst, v)
	default:
		panic(fmt.Sprintf("clickhouse loader: no native format for a column of %T", c.v))
	}
	return dst
}

// lowCardinalityWire writes a LowCardinality(String) column as
// clickhouse-go itself encodes one: a dictionary whose entry 0 is the
// default "", then the values in order of first appearance, and each row's
// key into it, as narrow as the dictionary allows.
func lowCardinalityWire(dst []byte, vals []any) []byte {
	const hasAdditionalKeys, needUpdateDictionary = 1 << 9, 1 << 10
	pos := make(map[any]uint32, 16)
	dict := []string{""}
	keys := make([]uint32, len(vals))
	for i, v := range vals {
		k, ok := pos[v]
		if !ok {
			k = uint32(len(dict))
			pos[v] = k
			dict = append(dict, v.(string))
		}
		keys[i] = k
	}
	var width uint64
	switch distinct := len(pos); {
	case distinct < math.MaxUint8:
		width = 0
	case distinct < math.MaxUint16:
		width = 1
	default:
		width = 2
	}
	dst = binary.LittleEndian.AppendUint64(dst, hasAdditionalKeys|needUpdateDictionary|width)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(dict)))
	for _, s := range dict {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(keys)))
	for _, k := range keys {
		switch width {
		case 0:
			dst = append(dst, byte(k))
		case 1:
			dst = binary.LittleEndian.AppendUint16(dst, uint16(k))
		default:
			dst = binary.LittleEndian.AppendUint32(dst, k)
		}
	}
	return dst
}

func (c *vec[T]) gather(src colBuf, idx []int32) {
	s := src.(*vec[T]).v
	c.v = c.v[:0]
	for _, i := range idx {
		c.v = append(c.v, s[i])
	}
}

// fixedCol is a FixedString(width) column: one flat buffer, and the row
// views clickhouse-go takes built when the column is appended.
type fixedCol struct {
	width int
	buf   []byte
	views [][]byte
}

// add appends b, cut or zero-padded to the width.
func (c *fixedCol) add(b []byte) {
	n := len(c.buf)
	c.buf = append(c.buf, b[:min(len(b), c.width)]...)
	for range n + c.width - len(c.buf) {
		c.buf = append(c.buf, 0)
	}
}

// grow appends a zeroed row and returns it.
func (c *fixedCol) grow() []byte {
	n := len(c.buf)
	c.buf = append(c.buf, make([]byte, c.width)...)
	return c.buf[n:]
}

func (c *fixedCol) last() []byte { return c.buf[len(c.buf)-c.width:] }

func (c *fixedCol) truncate() { c.buf = c.buf[:0] }

func (c *fixedCol) gather(src colBuf, idx []int32) {
	s := src.(*fixedCol)
	c.buf = c.buf[:0]
	for _, i := range idx {
		c.buf = append(c.buf, s.buf[int(i)*s.width:(int(i)+1)*s.width]...)
	}
}

func (c *fixedCol) values() any {
	c.views = c.views[:0]
	for i := 0; i < len(c.buf); i += c.width {
		c.views = append(c.views, c.buf[i:i+c.width:i+c.width])
	}
	return c.views
}

func (c *fixedCol) dropViews() { clear(c.views) }

// wire: the flat buffer is the native format.
func (c *fixedCol) wire(dst []byte) []byte { return append(dst, c.buf...) }

// addIP appends the IPv4-mapped 16-byte form of ip and returns its family
// (4, 6, 0 unknown).
func (c *fixedCol) addIP(ip []byte) uint8 {
	out := c.grow()
	switch len(ip) {
	case 4:
		out[10], out[11] = 0xff, 0xff
		copy(out[12:], ip)
		return 4
	case 16:
		copy(out, ip)
		if isV4Mapped(out) {
			return 4
		}
		return 6
	}
	return 0
}

// addNetwork appends the network of a mapped address (see Network).
func (c *fixedCol) addNetwork(mapped []byte, family uint8) {
	out := c.grow()
	switch family {
	case 4:
		copy(out, mapped[:15])
	case 6:
		copy(out, mapped[:8])
	}
}

// bytesCol is a String column: one flat buffer and each row's end.
type bytesCol struct {
	buf   []byte
	ends  []int
	views [][]byte
}

func (c *bytesCol) add(b []byte) {
	c.buf = append(c.buf, b...)
	c.ends = append(c.ends, len(c.buf))
}

func (c *bytesCol) truncate() { c.buf, c.ends = c.buf[:0], c.ends[:0] }

func (c *bytesCol) row(i int) []byte {
	start := 0
	if i > 0 {
		start = c.ends[i-1]
	}
	return c.buf[start:c.ends[i]:c.ends[i]]
}

func (c *bytesCol) gather(src colBuf, idx []int32) {
	s := src.(*bytesCol)
	c.truncate()
	for _, i := range idx {
		c.add(s.row(int(i)))
	}
}

func (c *bytesCol) values() any {
	c.views = c.views[:0]
	for i := range c.ends {
		c.views = append(c.views, c.row(i))
	}
	return c.views
}

func (c *bytesCol) dropViews() { clear(c.views) }

// wire: each row's length (uvarint), then its bytes.
func (c *bytesCol) wire(dst []byte) []byte {
	for i := range c.ends {
		row := c.row(i)
		dst = binary.AppendUvarint(dst, uint64(len(row)))
		dst = append(dst, row...)
	}
	return dst
}

// mappedIP returns the IPv4-mapped 16-byte form and the family (4, 6, 0 unknown).
func mappedIP(ip []byte) ([]byte, uint8) {
	c := fixedCol{width: 16}
	family := c.addIP(ip)
	return c.buf, family
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
	c := fixedCol{width: 16}
	c.addNetwork(mapped, family)
	return c.buf
}

// interner hands out the LowCardinality columns' values as interned
// strings boxed once, so a row costs a map lookup and no allocation.
type interner struct {
	m        map[string]any
	scratch  []byte
	refusals []any
}

// maxInterned bounds the interner (user agents come from clients): past it
// the table starts over.
const maxInterned = 100_000

func newInterner() *interner {
	return &interner{m: map[string]any{}, refusals: make([]any, len(events.Refusal_name))}
}

func (in *interner) get(b []byte) any {
	if v, ok := in.m[string(b)]; ok {
		return v
	}
	if len(in.m) >= maxInterned {
		clear(in.m)
	}
	s := string(b)
	v := any(s)
	in.m[s] = v
	return v
}

// joined is the comma-joined list, interned.
func (in *interner) joined(parts [][]byte) any {
	in.scratch = in.scratch[:0]
	for i, p := range parts {
		if i > 0 {
			in.scratch = append(in.scratch, ',')
		}
		in.scratch = append(in.scratch, p...)
	}
	return in.get(in.scratch)
}

// refusal is the refusal's name as stored ("" for none), interned.
func (in *interner) refusal(r events.Refusal) any {
	if r >= 0 && int(r) < len(in.refusals) {
		if v := in.refusals[r]; v != nil {
			return v
		}
		v := in.get([]byte(refusalName(r)))
		in.refusals[r] = v
		return v
	}
	return in.get([]byte(refusalName(r)))
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
