package state

import (
	"bytes"
	"context"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ratioguard/ratioguard/internal/sqlfile"
	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/stream"
)

//go:embed sql/*.sql
var sqlFS embed.FS

var query = sqlfile.Queries(sqlFS)

// Config configures a Keeper.
type Config struct {
	// Dir holds the snapshots (required; created if missing).
	Dir string
	// Brokers and Topic are the announce stream's (Topic default events.Topic).
	Brokers []string
	Topic   string
	// SpoolDir is the event producer's spool directory (empty: none).
	SpoolDir string
	// Window is how far back the state reaches: without a snapshot, the
	// events of the last Window are replayed. Set it to at least twice the
	// announce interval (sessions expire then). Required.
	Window time.Duration
	// Every is the period of snapshots while running (default 1 min;
	// negative: only on stop). It bounds the replay after a crash; a
	// snapshot of 1 M sessions costs ~0.3 s of CPU.
	Every time.Duration
	// Keep is how many snapshots are kept (default 2).
	Keep int
	// FollowWait is the longest a fetch of the follower waits for new
	// events (default 100 ms): other instances' events are learnt within
	// about this plus their producer's batch time.
	FollowWait time.Duration
}

func (c *Config) check() error {
	if c.Topic == "" {
		c.Topic = events.Topic
	}
	if c.Every == 0 {
		c.Every = time.Minute
	}
	if c.Keep <= 0 {
		c.Keep = 2
	}
	if c.FollowWait <= 0 {
		c.FollowWait = 100 * time.Millisecond
	}
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("no snapshot directory"))
	}
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no Kafka brokers"))
	}
	if c.Window <= 0 {
		errs = append(errs, errors.New("window must be positive (twice the announce interval)"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tracker state config: %w", err)
	}
	return nil
}

// Keeper restores, follows and snapshots one tracker's state (see the
// package documentation). Call Open, then Restore, then Run; Snapshot on
// stop.
type Keeper struct {
	cfg   Config
	log   *slog.Logger
	epoch time.Time
	held  string // the previous run's spool segments, until Restore replayed them

	cl *kgo.Client // the follower's consumer, from Restore on

	core    *core.Core // Start's
	stop    context.CancelFunc
	running sync.WaitGroup

	mu   sync.Mutex
	pos  map[int32]int64      // next offset to learn per partition
	skip map[[8]byte]struct{} // producer ids whose events are in the state already

	learnt, skipped atomic.Uint64
}

// Open prepares a restart: it creates the snapshot directory and holds the
// spool the previous process left (stream.HoldSpool), so call it before
// the producer starts on SpoolDir.
func Open(cfg Config, log *slog.Logger) (*Keeper, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	k := &Keeper{cfg: cfg, log: log.With("component", "state"), held: filepath.Join(cfg.Dir, "spool-held"),
		epoch: time.Now().Add(-cfg.Window - time.Minute), pos: map[int32]int64{}, skip: map[[8]byte]struct{}{}}
	if cfg.SpoolDir != "" {
		n, err := stream.HoldSpool(cfg.SpoolDir, k.held)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			k.log.Info("state: holding the previous run's spool for the replay", "segments", n)
		}
	}
	return k, nil
}

// Epoch is the time the core's Config.Epoch must be set to: every time the
// restored state holds is after it.
func (k *Keeper) Epoch() time.Time { return k.epoch }

// Restored says what Restore did.
type Restored struct {
	Snapshot       string // file loaded ("" none)
	Sessions       int    // sessions loaded from it
	KafkaEvents    int    // events replayed from the topic
	SpoolEvents    int    // events replayed from the held spool
	From, To       int64  // sums over the partitions of the first offset replayed and of the end
	LedgerTorrents int    // torrents whose snatch count the ledger raised
	SitePeers      int    // old tracker's peers imported at cutover, learnt as baselines
	Took           time.Duration
}

// Restore rebuilds c's state: the newest snapshot that checks, the topic
// from its offsets (or the last Window) to the end as of now, the held
// spool, then the ledger's snatch counts and the old tracker's peers
// imported at cutover within the window (pool nil: none). c must not have
// answered anything yet. An unreachable Kafka is an error: a tracker that
// started without its log would credit from new baselines.
func (k *Keeper) Restore(ctx context.Context, c *core.Core, pool *pgxpool.Pool) (Restored, error) {
	start := time.Now()
	var res Restored
	offsets, err := k.loadSnapshot(c, &res)
	if err != nil {
		return res, err
	}
	// The producer is delivering the held spool to Kafka again: those
	// copies, past the end read below, must not be learnt out of order.
	_, err = stream.ReadSpool(k.held, func(ev *events.Announce) {
		k.skip[[8]byte(ev.GetEventId()[:8])] = struct{}{}
	})
	if err != nil {
		return res, fmt.Errorf("read the held spool: %w", err)
	}
	if err := k.replayKafka(ctx, c, offsets, &res); err != nil {
		return res, err
	}
	rd, err := stream.ReadSpool(k.held, c.Learn)
	if err != nil {
		return res, fmt.Errorf("replay the held spool: %w", err)
	}
	res.SpoolEvents = rd.Events
	if err := os.RemoveAll(k.held); err != nil {
		k.log.Warn("state: could not remove the held spool", "dir", k.held, "err", err)
	}
	k.skip[c.ProducerID()] = struct{}{}
	if pool != nil {
		if res.LedgerTorrents, err = ledgerSnatches(ctx, pool, c); err != nil {
			return res, err
		}
		if res.SitePeers, err = sitePeers(ctx, pool, c, start.Add(-k.cfg.Window)); err != nil {
			return res, err
		}
	}
	res.Took = time.Since(start)
	k.log.Info("state: restored", "snapshot", res.Snapshot, "sessions", res.Sessions,
		"kafka_events", res.KafkaEvents, "offsets_from", res.From, "offsets_to", res.To, "spool_events", res.SpoolEvents, "ledger_torrents", res.LedgerTorrents, "site_peers", res.SitePeers,
		"took", res.Took.Round(time.Millisecond))
	return res, nil
}

func ledgerSnatches(ctx context.Context, pool *pgxpool.Pool, c *core.Core) (int, error) {
	rows, err := pool.Query(ctx, query("ledger_snatches"))
	if err != nil {
		return 0, fmt.Errorf("read snatch counts from the ledger: %w", err)
	}
	counts := map[uint64]uint32{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read snatch counts from the ledger: %w", err)
		}
		counts[uint64(id)] = uint32(min(n, 1<<32-1))
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read snatch counts from the ledger: %w", err)
	}
	c.AddSnatches(counts)
	return len(counts), nil
}

// sitePeers learns the old tracker's peers imported at cutover whose last
// announce there is after since, as that announce: the session's baseline
// becomes the counters the old tracker last saw, so the peer's first
// announce here credits what it moved since (docs/IMPORT.md, "peers"). A
// session the log already holds with a later announce is left as it is
// (core.Learn drops a stale event); after the window nothing is loaded, so
// an imported peer never comes back once its session ended here.
func sitePeers(ctx context.Context, pool *pgxpool.Pool, c *core.Core, since time.Time) (int, error) {
	rows, err := pool.Query(ctx, query("site_peers"), since)
	if err != nil {
		return 0, fmt.Errorf("read the old tracker's peers: %w", err)
	}
	var (
		user, torrent, up, down, left int64
		pid                           []byte
		ip                            string
		port                          int32
		ts                            time.Time
	)
	n := 0
	_, err = pgx.ForEachRow(rows, []any{&user, &torrent, &pid, &ip, &port, &up, &down, &left, &ts}, func() error {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return fmt.Errorf("peer address %q: %w", ip, err)
		}
		c.Learn(&events.Announce{SchemaVersion: events.SchemaVersion, TimeUnixNano: ts.UnixNano(),
			Result: events.Result_RESULT_ACCEPTED, UserId: uint64(user), TorrentId: uint64(torrent), PeerId: pid,
			Ip: a.Unmap().AsSlice(), Port: uint32(port), Uploaded: uint64(up), Downloaded: uint64(down), Left: uint64(left)})
		n++
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read the old tracker's peers: %w", err)
	}
	return n, nil
}

// snapshots lists the snapshot files, newest first.
func (k *Keeper) snapshots() ([]string, error) {
	entries, err := os.ReadDir(k.cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("read state directory: %w", err)
	}
	type snap struct {
		ns   int64
		name string
	}
	var snaps []snap
	for _, e := range entries {
		s, ok := strings.CutPrefix(e.Name(), "state-")
		if s, ok2 := strings.CutSuffix(s, ".snap"); ok && ok2 && !e.IsDir() {
			if ns, err := strconv.ParseInt(s, 10, 64); err == nil {
				snaps = append(snaps, snap{ns, e.Name()})
			}
		}
	}
	slices.SortFunc(snaps, func(a, b snap) int { return int(min(max(b.ns-a.ns, -1), 1)) })
	out := make([]string, len(snaps))
	for i, s := range snaps {
		out[i] = filepath.Join(k.cfg.Dir, s.name)
	}
	return out, nil
}

// loadSnapshot loads the newest snapshot that checks into c and returns
// its offsets (nil: none loaded).
func (k *Keeper) loadSnapshot(c *core.Core, res *Restored) (map[int32]int64, error) {
	files, err := k.snapshots()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		hdr, cnt, err := readSnapshot(f, c)
		if err == nil && hdr.Topic != k.cfg.Topic {
			err = fmt.Errorf("it covers topic %q, not %q", hdr.Topic, k.cfg.Topic)
		}
		if err != nil {
			k.log.Warn("state: skipping a snapshot that does not load", "file", f, "err", err)
			continue
		}
		res.Snapshot, res.Sessions = f, cnt.Sessions
		return hdr.Offsets, nil
	}
	return nil, nil
}

// Snapshot file: "RGSTATE1", uint32 length of the header (JSON), the
// header, its CRC-32C (uint32), then the core's state (core.WriteState,
// which carries its own checksum). Integers big-endian.
const fileMagic = "RGSTATE1"

type header struct {
	Topic   string          `json:"topic"`
	Offsets map[int32]int64 `json:"offsets"` // next offset to learn per partition
	Written time.Time       `json:"written"`
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func readSnapshot(path string, c *core.Core) (header, core.StateCounts, error) {
	var hdr header
	f, err := os.Open(path)
	if err != nil {
		return hdr, core.StateCounts{}, err
	}
	defer f.Close()
	var pre [12]byte
	if _, err := io.ReadFull(f, pre[:]); err != nil || string(pre[:8]) != fileMagic {
		return hdr, core.StateCounts{}, fmt.Errorf("not a state snapshot (magic)")
	}
	n := binary.BigEndian.Uint32(pre[8:])
	if n > 1<<24 {
		return hdr, core.StateCounts{}, fmt.Errorf("header of %d bytes", n)
	}
	b := make([]byte, n+4)
	if _, err := io.ReadFull(f, b); err != nil {
		return hdr, core.StateCounts{}, fmt.Errorf("truncated header: %w", err)
	}
	if crc32.Checksum(b[:n], crcTable) != binary.BigEndian.Uint32(b[n:]) {
		return hdr, core.StateCounts{}, errors.New("header checksum mismatch")
	}
	if err := json.Unmarshal(b[:n], &hdr); err != nil {
		return hdr, core.StateCounts{}, fmt.Errorf("header: %w", err)
	}
	cnt, err := c.ReadState(f)
	return hdr, cnt, err
}

// replayKafka learns the topic from offsets (missing partitions: from
// Window ago) up to its end as of the call, and leaves the consumer at the
// end for Run.
func (k *Keeper) replayKafka(ctx context.Context, c *core.Core, offsets map[int32]int64, res *Restored) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.cfg.Brokers...), kgo.FetchMaxWait(k.cfg.FollowWait),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return fmt.Errorf("state: Kafka client: %w", err)
	}
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, k.cfg.Topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		cl.Close()
		return fmt.Errorf("state: end offsets of topic %s: %w", k.cfg.Topic, err)
	}
	var since kadm.ListedOffsets
	start := map[int32]int64{}
	end := map[int32]int64{}
	var sinceErr error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset < 0 && err == nil {
			err = fmt.Errorf("partition %d has no end offset", o.Partition)
		}
		end[o.Partition] = o.Offset
		if off, ok := offsets[o.Partition]; ok {
			start[o.Partition] = min(off, o.Offset)
			return
		}
		if since == nil && sinceErr == nil {
			since, sinceErr = adm.ListOffsetsAfterMilli(ctx, time.Now().Add(-k.cfg.Window).UnixMilli(), k.cfg.Topic)
			if sinceErr == nil {
				sinceErr = since.Error()
			}
		}
		start[o.Partition] = o.Offset
		if l, ok := since.Lookup(k.cfg.Topic, o.Partition); ok && l.Offset >= 0 {
			start[o.Partition] = min(l.Offset, o.Offset)
		}
	})
	if err != nil || len(end) == 0 {
		cl.Close()
		return fmt.Errorf("state: end offsets of topic %s: %w (%d partitions)", k.cfg.Topic, err, len(end))
	}
	if sinceErr != nil {
		cl.Close()
		return fmt.Errorf("state: offsets of the last %v of topic %s: %w", k.cfg.Window, k.cfg.Topic, sinceErr)
	}
	kofs := map[int32]kgo.Offset{}
	for p, off := range start {
		kofs[p] = kgo.NewOffset().At(off)
		res.From, res.To = res.From+off, res.To+end[p]
	}
	k.mu.Lock()
	k.pos = maps.Clone(start)
	k.mu.Unlock()
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{k.cfg.Topic: kofs})
	k.cl = cl
	behind := func() bool {
		k.mu.Lock()
		defer k.mu.Unlock()
		for p, e := range end {
			if k.pos[p] < e {
				return true
			}
		}
		return false
	}
	var replayed atomic.Int64
	for behind() {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("state: replay of topic %s: %w", k.cfg.Topic, err)
		}
		fs.EachError(func(t string, p int32, err error) {
			k.log.Warn("state: fetch error during the replay", "partition", p, "err", err)
		})
		// Partitions are learnt in parallel: a member's events (its
		// sessions, its locations) are all on one partition, in order.
		var wg sync.WaitGroup
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var ev events.Announce
				n := int64(0)
				for _, r := range p.Records {
					// Past the start's end: learnt too (it is newer), as Run would.
					past := r.Offset >= end[r.Partition]
					k.learn(c, r, &ev, past)
					if !past {
						n++
					}
				}
				replayed.Add(n)
			}()
		})
		wg.Wait()
	}
	res.KafkaEvents = int(replayed.Load())
	return nil
}

// learn applies one record; follow skips the events already in the state.
func (k *Keeper) learn(c *core.Core, r *kgo.Record, ev *events.Announce, follow bool) {
	defer func() {
		k.mu.Lock()
		k.pos[r.Partition] = r.Offset + 1
		k.mu.Unlock()
	}()
	if follow {
		// Skipped before decoding: following the topic, most events are
		// this instance's own (decoding them cost ~6% of the tracker's CPU).
		if producer, ok := events.EventProducer(r.Value); ok {
			k.mu.Lock()
			_, own := k.skip[producer]
			k.mu.Unlock()
			if own {
				k.skipped.Add(1)
				return
			}
		}
	}
	if err := events.DecodeInto(r.Value, ev); err != nil {
		k.log.Warn("state: skipping an undecodable event", "partition", r.Partition, "offset", r.Offset, "err", err)
		return
	}
	c.Learn(ev)
	k.learnt.Add(1)
}

// Run follows the topic, learning other instances' events, and writes a
// snapshot every Config.Every (settle: the producer's Settle, see
// Snapshot), until ctx ends. Call it after Restore.
func (k *Keeper) Run(ctx context.Context, c *core.Core, settle func(context.Context) error) error {
	if k.cl == nil {
		return errors.New("state: Run before Restore")
	}
	var wg sync.WaitGroup
	if k.cfg.Every > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(k.cfg.Every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				if _, err := k.Snapshot(ctx, c, settle); err != nil && ctx.Err() == nil {
					k.log.Error("state: periodic snapshot failed (the previous one stays)", "err", err)
				}
			}
		}()
	}
	var ev events.Announce
	for ctx.Err() == nil {
		fs := k.cl.PollFetches(ctx)
		if fs.IsClientClosed() {
			break
		}
		fs.EachError(func(t string, p int32, err error) {
			if ctx.Err() == nil {
				k.log.Warn("state: fetch error while following the topic", "partition", p, "err", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) { k.learn(c, r, &ev, true) })
	}
	wg.Wait()
	return nil
}

// Start restores c (Restore) and runs the follower and the periodic
// snapshots (Run) in the background until Stop. It is the hook a tracker
// calls once its policy is loaded, before it answers.
func (k *Keeper) Start(ctx context.Context, c *core.Core, pool *pgxpool.Pool, settle func(context.Context) error) error {
	if _, err := k.Restore(ctx, c, pool); err != nil {
		k.Close()
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	k.stop = cancel
	k.core = c
	k.running.Add(1)
	go func() {
		defer k.running.Done()
		_ = k.Run(rctx, c, settle)
	}()
	return nil
}

// Stop ends what Start began and writes the final snapshot. Call it once
// the tracker answers no more and the producer is closed (every event it
// accepted is on Kafka or in its spool). Without a successful Start it
// only releases the Kafka client.
func (k *Keeper) Stop() error {
	defer k.Close()
	if k.stop == nil {
		return nil
	}
	k.stop()
	k.running.Wait()
	f, err := k.Snapshot(context.Background(), k.core, nil)
	if err != nil {
		return err
	}
	k.log.Info("state: snapshot written on stop", "file", f, "positions", k.Positions())
	return nil
}

// Close releases the Kafka client (after Run returned).
func (k *Keeper) Close() {
	if k.cl != nil {
		k.cl.Close()
	}
}

// Positions returns the next offset to learn per partition.
func (k *Keeper) Positions() map[int32]int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return maps.Clone(k.pos)
}

// Snapshot writes c's state with the offsets it covers and publishes it
// once settle (the producer's Settle; nil when the producer is closed)
// returned, so that it holds no event a crash could still lose. Older
// snapshots beyond Config.Keep are removed. It returns the file written.
func (k *Keeper) Snapshot(ctx context.Context, c *core.Core, settle func(context.Context) error) (string, error) {
	hdr := header{Topic: k.cfg.Topic, Offsets: k.Positions(), Written: time.Now().UTC()}
	hb, err := json.Marshal(hdr)
	if err != nil {
		return "", fmt.Errorf("state snapshot header: %w", err)
	}
	final := filepath.Join(k.cfg.Dir, fmt.Sprintf("state-%020d.snap", hdr.Written.UnixNano()))
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return "", fmt.Errorf("state snapshot: %w", err)
	}
	var pre bytes.Buffer
	pre.WriteString(fileMagic)
	_ = binary.Write(&pre, binary.BigEndian, uint32(len(hb)))
	pre.Write(hb)
	_ = binary.Write(&pre, binary.BigEndian, crc32.Checksum(hb, crcTable))
	_, err = f.Write(pre.Bytes())
	if err == nil {
		err = c.WriteState(f)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && settle != nil {
		err = settle(ctx)
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("state snapshot: %w", err)
	}
	syncDir(k.cfg.Dir)
	if files, err := k.snapshots(); err == nil {
		for _, old := range files[min(k.cfg.Keep, len(files)):] {
			_ = os.Remove(old)
		}
	}
	return final, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Stats counts the follower's work (for logs and tests).
type Stats struct{ Learnt, Skipped uint64 }

// Stats returns the counts so far.
func (k *Keeper) Stats() Stats { return Stats{Learnt: k.learnt.Load(), Skipped: k.skipped.Load()} }
