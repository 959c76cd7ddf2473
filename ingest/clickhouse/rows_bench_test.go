package clickhouse

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/schemas"
)

// BenchmarkLoaderRows measures the loader's Go side for one batch of 50,000
// events without Kafka or ClickHouse: decoding the record values, the
// in-batch dedupe, building the columns and clickhouse-go appending and
// encoding them into a native block (what Send writes to the socket).
func BenchmarkLoaderRows(b *testing.B) {
	const n = 50_000
	ds := ingesttest.NewDataset(5, n, 50_000, 20_000, 0, 0)
	cols := announceColumns(b)
	d := newDecoded(0)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUTime(b)
	var buf proto.Buffer // the connection's, reused as clickhouse-go does
	for range b.N {
		d.Reset()
		for off, m := range ds.Msgs {
			if err := d.Add(int64(off), m.Value); err != nil {
				b.Fatal(err)
			}
		}
		d.uniq()
		for _, m := range d.byMonth(d.keep) {
			encodeBlock(b, cols, m.rows, &buf)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
	// CPU time (all threads, GC included) per event: what the shared
	// machine's other load does not inflate.
	b.ReportMetric(float64(processCPUTime(b)-cpu0)/float64(b.N*n), "cpu-ns/event")
}

// processCPUTime is this process's user+system CPU time so far.
func processCPUTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fakeBatch hands out clickhouse-go columns built from the table's types,
// as a prepared INSERT does.
type fakeBatch []column.Interface

func (f fakeBatch) Column(i int) driver.BatchColumn { return fakeColumn{f[i]} }

func (f fakeBatch) Columns() []column.Interface { return f }

// newBatch returns empty columns of the given (name, type)s.
func newBatch(tb testing.TB, types [][2]string) fakeBatch {
	batch := make(fakeBatch, len(types))
	for i, t := range types {
		c, err := column.Type(t[1]).Column(t[0], &column.ServerContext{})
		if err != nil {
			tb.Fatal(err)
		}
		batch[i] = c
	}
	return batch
}

// encode writes the columns as Send does.
func (f fakeBatch) encode(tb testing.TB, buf *proto.Buffer) {
	for _, c := range f {
		if s, ok := c.(column.CustomSerialization); ok {
			if err := s.WriteStatePrefix(buf); err != nil {
				tb.Fatal(err)
			}
		}
		c.Encode(buf)
	}
}

type fakeColumn struct{ c column.Interface }

func (c fakeColumn) Append(v any) error {
	_, err := c.c.Append(v)
	return err
}

func (c fakeColumn) AppendRow(v any) error { return c.c.AppendRow(v) }

// encodeBlock fills fresh columns (a prepared INSERT's) with r and encodes
// them into buf as Send would.
func encodeBlock(b *testing.B, types [][2]string, r *rows, buf *proto.Buffer) {
	batch := newBatch(b, types)
	if err := r.appendTo(batch); err != nil {
		b.Fatal(err)
	}
	buf.Reset()
	batch.encode(b, buf)
}

// announceColumns returns the (name, type) of every column of the INSERT,
// read from the `announces` DDL.
func announceColumns(tb testing.TB) [][2]string {
	files, err := schemas.ClickHouseMigrations()
	if err != nil {
		tb.Fatal(err)
	}
	types := map[string]string{}
	for _, f := range files {
		for _, stmt := range f.Statements {
			if !strings.Contains(stmt, "CREATE TABLE IF NOT EXISTS announces (") {
				continue
			}
			for _, line := range strings.Split(stmt, "\n")[1:] {
				name, typ, ok := strings.Cut(strings.TrimSpace(line), " ")
				if ok && !strings.HasPrefix(line, ")") {
					types[name] = strings.TrimSuffix(strings.TrimSpace(typ), ",")
				}
			}
		}
	}
	list := insertAnnouncesSQL[strings.Index(insertAnnouncesSQL, "(")+1 : strings.LastIndex(insertAnnouncesSQL, ")")]
	var out [][2]string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if types[name] == "" {
			tb.Fatalf("column %s not found in the announces DDL", name)
		}
		out = append(out, [2]string{name, types[name]})
	}
	return out
}
