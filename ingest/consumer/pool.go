package consumer

import (
	"math/bits"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recordPool lets franz-go reuse the memory of fetched records (the
// decompressed batches and the Record slices) once the worker has decoded
// them and called Record.Recycle, instead of allocating it anew for every
// fetch: at hundreds of thousands of records per second that garbage is
// most of what the garbage collector would otherwise chase. Slices are kept
// in power-of-two size classes.
type recordPool struct {
	recs  [64]sync.Pool // *[]kgo.Record by capacity class
	bytes [64]sync.Pool // *[]byte by capacity class
}

var (
	_ kgo.PoolRecords         = (*recordPool)(nil)
	_ kgo.PoolDecompressBytes = (*recordPool)(nil)
)

// class is the size class holding slices of capacity >= n.
func class(n int) int { return bits.Len(uint(max(n, 1) - 1)) }

// GetRecords implements kgo.PoolRecords.
func (p *recordPool) GetRecords(n int) []kgo.Record {
	c := class(n)
	if s, ok := p.recs[c].Get().(*[]kgo.Record); ok {
		return (*s)[:0]
	}
	return make([]kgo.Record, 0, 1<<c)
}

// PutRecords implements kgo.PoolRecords.
func (p *recordPool) PutRecords(s []kgo.Record) {
	if c := class(cap(s)); 1<<c == cap(s) {
		p.recs[c].Put(&s)
	}
}

// decompressGuess is how much larger than the compressed bytes a batch is
// assumed to be; franz-go grows a slice that is too small and puts the
// grown one back.
const decompressGuess = 4

// GetDecompressBytes implements kgo.PoolDecompressBytes.
func (p *recordPool) GetDecompressBytes(compressed []byte, _ kgo.CompressionCodecType) []byte {
	c := class(len(compressed) * decompressGuess)
	if s, ok := p.bytes[c].Get().(*[]byte); ok {
		return (*s)[:0]
	}
	return make([]byte, 0, 1<<c)
}

// PutDecompressBytes implements kgo.PoolDecompressBytes.
func (p *recordPool) PutDecompressBytes(s []byte) {
	c := bits.Len(uint(cap(s))) - 1 // the class whose size cap(s) covers
	if c >= 0 {
		p.bytes[c].Put(&s)
	}
}
