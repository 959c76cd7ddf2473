package clickhouse

import (
	"strings"
	"testing"

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
	for range b.N {
		d.Reset()
		for off, m := range ds.Msgs {
			if err := d.Add(int64(off), m.Value); err != nil {
				b.Fatal(err)
			}
		}
		d.uniq()
		for _, m := range d.byMonth(d.keep) {
			encodeBlock(b, cols, m.rows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
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

// encodeBlock appends r to fresh columns and encodes them as Send would.
func encodeBlock(b *testing.B, types [][2]string, r *rows) {
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
	var buf proto.Buffer
	for _, c := range batch {
		if s, ok := c.(column.CustomSerialization); ok {
			if err := s.WriteStatePrefix(&buf); err != nil {
				b.Fatal(err)
			}
		}
		c.Encode(&buf)
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
