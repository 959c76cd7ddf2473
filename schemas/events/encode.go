package events

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// appendAnnounce appends a's wire form exactly as proto.Marshal writes it
// (known fields in field-number order, proto3 zero values omitted, every
// element of a repeated field kept), without protobuf's reflection: the
// tracker encodes every announce, and this is about a third of the cost.
// ok is false, with buf untouched, for what it does not handle — a nil
// message, unknown fields, or a string that is not valid UTF-8 (proto.Marshal
// refuses it): the caller then encodes with proto.Marshal.
func appendAnnounce(buf []byte, a *Announce) (b []byte, ok bool) {
	if a == nil || len(a.unknownFields) > 0 || (a.Promotion != nil && len(a.Promotion.unknownFields) > 0) ||
		!utf8.ValidString(a.UserAgent) || !utf8.ValidString(a.Key) || !utf8.ValidString(a.RefusalMessage) ||
		(a.Promotion != nil && !utf8.ValidString(a.Promotion.Name)) {
		return buf, false
	}
	for _, s := range a.ParamOrder {
		if !utf8.ValidString(s) {
			return buf, false
		}
	}
	b = buf
	b = appendUvarint(b, 1, uint64(a.SchemaVersion))
	b = appendBytes(b, 2, a.EventId)
	b = appendBytes(b, 3, a.ProducerId)
	b = appendUvarint(b, 4, a.Sequence)
	b = appendUvarint(b, 5, uint64(a.TimeUnixNano))
	b = appendUvarint(b, 6, a.UserId)
	b = appendUvarint(b, 7, a.TorrentId)
	b = appendBytes(b, 8, a.InfoHash)
	b = appendBytes(b, 9, a.PeerId)
	b = appendBytes(b, 10, a.Ip)
	b = appendUvarint(b, 11, uint64(a.Port))
	b = appendString(b, 12, a.UserAgent)
	b = appendString(b, 13, a.Key)
	for _, s := range a.ParamOrder {
		b = protowire.AppendTag(b, 14, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	b = appendUvarint(b, 15, uint64(int64(a.Event)))
	b = appendUvarint(b, 16, uint64(a.Numwant))
	b = appendUvarint(b, 17, a.Uploaded)
	b = appendUvarint(b, 18, a.Downloaded)
	b = appendUvarint(b, 19, a.Left)
	b = appendUvarint(b, 20, a.Corrupt)
	b = appendUvarint(b, 21, a.DeltaUploaded)
	b = appendUvarint(b, 22, a.DeltaDownloaded)
	b = appendUvarint(b, 23, a.CreditedUploaded)
	b = appendUvarint(b, 24, a.CreditedDownloaded)
	if p := a.Promotion; p != nil {
		n := 0
		if p.Name != "" {
			n += protowire.SizeTag(1) + protowire.SizeBytes(len(p.Name))
		}
		if p.DownloadPercent != 0 {
			n += protowire.SizeTag(2) + protowire.SizeVarint(uint64(p.DownloadPercent))
		}
		if p.UploadPercent != 0 {
			n += protowire.SizeTag(3) + protowire.SizeVarint(uint64(p.UploadPercent))
		}
		b = protowire.AppendTag(b, 25, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(n))
		b = appendString(b, 1, p.Name)
		b = appendUvarint(b, 2, uint64(p.DownloadPercent))
		b = appendUvarint(b, 3, uint64(p.UploadPercent))
	}
	b = appendUvarint(b, 26, uint64(a.SecondsSincePrevious))
	b = appendUvarint(b, 27, uint64(a.SeedtimeSeconds))
	b = appendBool(b, 28, a.Snatch)
	b = appendBool(b, 29, a.CounterReset)
	b = appendBool(b, 30, a.DualStackDuplicate)
	b = appendUvarint(b, 31, uint64(a.Seeders))
	b = appendUvarint(b, 32, uint64(a.Leechers))
	b = appendUvarint(b, 33, uint64(int64(a.Result)))
	b = appendUvarint(b, 34, uint64(int64(a.Refusal)))
	b = appendString(b, 35, a.RefusalMessage)
	return b, true
}

// appendUvarint appends a varint field unless it is zero (proto3).
func appendUvarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

func appendBool(b []byte, num protowire.Number, v bool) []byte {
	if !v {
		return b
	}
	return append(protowire.AppendTag(b, num, protowire.VarintType), 1)
}

// appendBytes appends a length-delimited field unless it is empty (proto3).
func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

func appendString(b []byte, num protowire.Number, v string) []byte {
	if v == "" {
		return b
	}
	return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), v)
}
