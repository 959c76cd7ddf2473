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

type fakeColumn struct{ c column.Interface }

func (c fakeColumn) Append(v any) error {
	_, err := c.c.Append(v)
	return err
}

func (c fakeColumn) AppendRow(v any) error { return c.c.AppendRow(v) }

// encodeBlock appends r to fresh columns (a prepared INSERT's) and encodes
// them into buf as Send would.
func encodeBlock(b *testing.B, types [][2]string, r *rows, buf *proto.Buffer) {
	batch := make(fakeBatch, len(types))
	for i, t := range types {
		c, err := column.Type(t[1]).Column(t[0], &column.ServerContext{})
		if err != nil {
			b.Fatal(err)
		}
		batch[i] = c
	}
	if err := r.appendTo(batch); err != nil {
		b.Fatal(err)
	}
	buf.Reset()
	for _, c := range batch {
		if s, ok := c.(column.CustomSerialization); ok {
			if err := s.WriteStatePrefix(buf); err != nil {
				b.Fatal(err)
			}
		}
		c.Encode(buf)
	}
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
