package events

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// View is an announce decoded without allocating, for consumers that copy
// the fields somewhere else at once (the ClickHouse loader's columns): its
// byte and string fields alias the message bytes, so it is valid only while
// those are. Reuse one View per goroutine: DecodeView keeps the capacity of
// ParamOrder.
type View struct {
	SchemaVersion        uint32
	EventID, ProducerID  []byte
	Sequence             uint64
	TimeUnixNano         int64
	UserID, TorrentID    uint64
	InfoHash, PeerID, IP []byte
	Port                 uint32
	UserAgent, Key       []byte // UTF-8
	ParamOrder           [][]byte
	Event                Event
	Numwant              uint32
	Uploaded, Downloaded uint64
	Left, Corrupt        uint64
	DeltaUploaded        uint64
	DeltaDownloaded      uint64
	CreditedUploaded     uint64
	CreditedDownloaded   uint64
	PromotionName        []byte // empty without a promotion
	PromoDownloadPercent uint32
	PromoUploadPercent   uint32
	SecondsSincePrevious uint32
	SeedtimeSeconds      uint32
	Snatch, CounterReset bool
	DualStackDuplicate   bool
	Seeders, Leechers    uint32
	Result               Result
	Refusal              Refusal
	RefusalMessage       []byte
}

// DecodeView is Decode into a View: it accepts exactly the messages Decode
// accepts, with the same field values, and rejects the others with Decode's
// error (a rejected message is decoded again by Decode for its reason).
func DecodeView(b []byte, v *View) error {
	if err := v.decode(b); err == nil {
		return nil
	}
	a := &Announce{}
	if err := DecodeInto(b, a); err != nil {
		return err
	}
	v.set(a) // the fast path refused what Decode accepts: Decode decides
	return nil
}

// reset clears v, keeping ParamOrder's capacity.
func (v *View) reset() {
	po := v.ParamOrder[:0]
	*v = View{ParamOrder: po}
}

// decode is the allocation-free parser; an error means "ask Decode".
func (v *View) decode(b []byte) error {
	v.reset()
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return errWire
		}
		b = b[n:]
		if n = v.field(num, typ, b); n < 0 {
			return errWire
		}
		b = b[n:]
	}
	return validateView(v)
}

var errWire = fmt.Errorf("%w: malformed protobuf", ErrInvalid)

// consumeTag parses a field tag as proto.Unmarshal does: field numbers
// outside 1..2^29-1 and a stray end-group are errors.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	tag, n := consumeVarint(b)
	if n < 0 {
		return 0, 0, -1
	}
	num := tag >> 3
	typ := protowire.Type(tag & 7)
	if num < uint64(protowire.MinValidNumber) || num > uint64(protowire.MaxValidNumber) || typ == protowire.EndGroupType {
		return 0, 0, -1
	}
	return protowire.Number(num), typ, n
}

// field parses one field's value into v and returns its length. A known
// field number with another wire type is an unknown field, as for
// proto.Unmarshal.
func (v *View) field(num protowire.Number, typ protowire.Type, b []byte) int {
	switch typ {
	case protowire.VarintType:
		x, n := consumeVarint(b)
		if n >= 0 && v.varint(num, x) {
			return n
		}
	case protowire.BytesType:
		x, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return n
		}
		if known, ok := v.bytes(num, x); known {
			if !ok {
				return -1
			}
			return n
		}
	}
	return protowire.ConsumeFieldValue(num, typ, b)
}

// consumeVarint is protowire.ConsumeVarint with the one-byte case inlined.
func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return protowire.ConsumeVarint(b)
}

// varint sets a varint field; false if num is not one.
func (v *View) varint(num protowire.Number, x uint64) bool {
	switch num {
	case 1:
		v.SchemaVersion = uint32(x)
	case 4:
		v.Sequence = x
	case 5:
		v.TimeUnixNano = int64(x)
	case 6:
		v.UserID = x
	case 7:
		v.TorrentID = x
	case 11:
		v.Port = uint32(x)
	case 15:
		v.Event = Event(int32(x))
	case 16:
		v.Numwant = uint32(x)
	case 17:
		v.Uploaded = x
	case 18:
		v.Downloaded = x
	case 19:
		v.Left = x
	case 20:
		v.Corrupt = x
	case 21:
		v.DeltaUploaded = x
	case 22:
		v.DeltaDownloaded = x
	case 23:
		v.CreditedUploaded = x
	case 24:
		v.CreditedDownloaded = x
	case 26:
		v.SecondsSincePrevious = uint32(x)
	case 27:
		v.SeedtimeSeconds = uint32(x)
	case 28:
		v.Snatch = x != 0
	case 29:
		v.CounterReset = x != 0
	case 30:
		v.DualStackDuplicate = x != 0
	case 31:
		v.Seeders = uint32(x)
	case 32:
		v.Leechers = uint32(x)
	case 33:
		v.Result = Result(int32(x))
	case 34:
		v.Refusal = Refusal(int32(x))
	default:
		return false
	}
	return true
}

// bytes sets a length-delimited field: known is false if num is not one,
// ok false if its value is invalid (a string that is not UTF-8, a
// malformed promotion).
func (v *View) bytes(num protowire.Number, x []byte) (known, ok bool) {
	switch num {
	case 2:
		v.EventID = x
	case 3:
		v.ProducerID = x
	case 8:
		v.InfoHash = x
	case 9:
		v.PeerID = x
	case 10:
		v.IP = x
	case 12:
		v.UserAgent = x
		return true, utf8.Valid(x)
	case 13:
		v.Key = x
		return true, utf8.Valid(x)
	case 14:
		v.ParamOrder = append(v.ParamOrder, x)
		return true, utf8.Valid(x)
	case 25:
		return true, v.promotion(x)
	case 35:
		v.RefusalMessage = x
		return true, utf8.Valid(x)
	default:
		return false, true
	}
	return true, true
}

// promotion merges a Promotion message into v (a repeated embedded message
// merges, as in proto.Unmarshal).
func (v *View) promotion(b []byte) bool {
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			x, m := protowire.ConsumeBytes(b)
			if m < 0 || !utf8.Valid(x) {
				return false
			}
			v.PromotionName, n = x, m
		case (num == 2 || num == 3) && typ == protowire.VarintType:
			x, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return false
			}
			if num == 2 {
				v.PromoDownloadPercent = uint32(x)
			} else {
				v.PromoUploadPercent = uint32(x)
			}
			n = m
		default:
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return false
			}
		}
		b = b[n:]
	}
	return true
}

// validateView checks what Validate checks.
func validateView(v *View) error {
	switch {
	case v.SchemaVersion == 0, len(v.EventID) != IDLen, v.TimeUnixNano <= 0,
		v.Result == Result_RESULT_UNSPECIFIED, len(v.IP) != 0 && len(v.IP) != 4 && len(v.IP) != 16:
		return ErrInvalid
	}
	return nil
}

// set fills v from a decoded message (the slow path).
func (v *View) set(a *Announce) {
	v.reset()
	*v = View{
		SchemaVersion: a.GetSchemaVersion(), EventID: a.GetEventId(), ProducerID: a.GetProducerId(),
		Sequence: a.GetSequence(), TimeUnixNano: a.GetTimeUnixNano(), UserID: a.GetUserId(),
		TorrentID: a.GetTorrentId(), InfoHash: a.GetInfoHash(), PeerID: a.GetPeerId(), IP: a.GetIp(),
		Port: a.GetPort(), UserAgent: []byte(a.GetUserAgent()), Key: []byte(a.GetKey()),
		ParamOrder: v.ParamOrder, Event: a.GetEvent(), Numwant: a.GetNumwant(),
		Uploaded: a.GetUploaded(), Downloaded: a.GetDownloaded(), Left: a.GetLeft(), Corrupt: a.GetCorrupt(),
		DeltaUploaded: a.GetDeltaUploaded(), DeltaDownloaded: a.GetDeltaDownloaded(),
		CreditedUploaded: a.GetCreditedUploaded(), CreditedDownloaded: a.GetCreditedDownloaded(),
		PromotionName:        []byte(a.GetPromotion().GetName()),
		PromoDownloadPercent: a.GetPromotion().GetDownloadPercent(), PromoUploadPercent: a.GetPromotion().GetUploadPercent(),
		SecondsSincePrevious: a.GetSecondsSincePrevious(), SeedtimeSeconds: a.GetSeedtimeSeconds(),
		Snatch: a.GetSnatch(), CounterReset: a.GetCounterReset(), DualStackDuplicate: a.GetDualStackDuplicate(),
		Seeders: a.GetSeeders(), Leechers: a.GetLeechers(), Result: a.GetResult(), Refusal: a.GetRefusal(),
		RefusalMessage: []byte(a.GetRefusalMessage()),
	}
	for _, s := range a.GetParamOrder() {
		v.ParamOrder = append(v.ParamOrder, []byte(s))
	}
}
