package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ratioguard/ratioguard/importer/announces"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/policy"
)

const importAnnouncesUsage = `usage: ratioguard import announces [flags] FILE...

Replays announce logs (popgen JSON lines or nginx/Apache combined access logs,
gzip accepted; see docs/IMPORT.md) through the tracker's frontend parser and
announce core on the logs' own clock into Kafka, against a snapshot of the
tracker's policy in Postgres.`

// importAnnounces is `ratioguard import announces`.
func importAnnounces(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "import announces")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, importAnnouncesUsage+"\n\nflags:")
		fs.PrintDefaults()
	}
	eng.RegisterFlags(fs)
	var cc core.Config
	coreFlags := registerCoreFlags(fs, &cc)
	topic := fs.String("topic", events.Topic, "Kafka topic of announce events")
	partitions := fs.Int("create-topic", 4, "create the topic with this many partitions if it does not exist")
	asJSON := fs.Bool("json", false, "print the summary as JSON on stdout")
	progress := fs.Duration("progress", 10*time.Second, "progress line on stderr every this long (0: none)")
	maxLag := fs.Duration("max-lag", 2*time.Minute, "a line earlier than the log time reached by at most this is replayed at that time; by more, it is a bad line (out of order)")
	maxReported := fs.Int("max-reported", 20, "bad lines quoted on stderr; later ones are only counted")
	batch := fs.Int("batch", 5000, "events per Kafka write")
	producer := fs.String("producer", "", "producer id of the events, 16 hex digits (default: derived from the files, so a re-import of the same files is deduplicated downstream)")
	dryRun := fs.Bool("dry-run", false, "do not write to Kafka: count and hash the events only")
	// Flags may come after files too: parse, take a file, parse the rest.
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files, rest = append(files, fs.Arg(0)), fs.Args()[1:]
	}
	if err := coreFlags(); err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{"import announces needs at least one FILE\n\n" + importAnnouncesUsage}
	}
	opts := announces.Options{Core: cc, BatchSize: *batch, MaxLag: *maxLag, MaxReported: *maxReported, Errors: env.stderr}
	if *maxLag == 0 {
		opts.MaxLag = -1
	}
	if *producer != "" {
		b, err := hex.DecodeString(*producer)
		if err != nil || len(b) != 8 {
			return usageError{"--producer must be 16 hex digits"}
		}
		opts.Producer = [8]byte(b)
	}
	if *progress > 0 {
		opts.ProgressEvery = *progress
		opts.Progress = func(r announces.Result) {
			fmt.Fprintf(env.stderr, "import announces: %s requests, %.0f requests/s, log time %s; accepted %d, refused %d, bad lines %d\n",
				thousands(r.Requests), r.RequestsPerSec, r.LogTime.Format(time.DateTime), r.Accepted, r.Refused, r.BadLines)
		}
	}

	pool, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	cache := policy.NewCache()
	err = policy.NewSyncer(pool, cache, policy.SyncConfig{}, env.log).LoadAll(ctx)
	pool.Close()
	if err != nil {
		return fmt.Errorf("load the tracker policy: %w", err)
	}
	opts.Policy = cache
	users, torrents := cache.Counts()
	env.log.Info("import announces: policy loaded", "members", users, "torrents", torrents)
	if users == 0 {
		env.log.Warn("import announces: no members in Postgres: every announce will be refused as an unknown passkey (register them first: ratioguard import site)")
	}

	if !*dryRun {
		if err := kafkaconn.EnsureTopic(ctx, eng.Brokers(), *topic, *partitions); err != nil {
			return err
		}
		w := kafkaconn.NewWriter(eng.Brokers(), *topic, 5*time.Millisecond)
		defer w.Close()
		opts.Writer = w
	}
	res, err := announces.Run(ctx, files, opts)
	if err != nil {
		// Say how far it got before failing.
		printImportSummary(env.stderr, res)
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.stdout).Encode(res)
	}
	printImportSummary(env.stdout, res)
	return nil
}

// printImportSummary writes an import's totals, refusals, bad and skipped
// lines by kind, events and elapsed time.
func printImportSummary(w io.Writer, r announces.Result) {
	fmt.Fprintf(w, "%s requests replayed (log %s to %s) in %s: %.0f requests/s\n",
		thousands(r.Requests), r.LogStart.Format(time.DateTime), r.LogTime.Format(time.DateTime), r.Elapsed.Round(time.Millisecond), r.RequestsPerSec)
	fmt.Fprintf(w, "  accepted %s, refused %s%s\n", thousands(r.Accepted), thousands(r.Refused), byKind(r.Refusals))
	if r.Late > 0 {
		fmt.Fprintf(w, "  late (replayed at the log time reached) %s, at most %s\n", thousands(r.Late), r.MaxLate)
	}
	fmt.Fprintf(w, "  bad lines %s%s\n", thousands(r.BadLines), byKind(r.Bad))
	var skipped int64
	for _, n := range r.Skipped {
		skipped += n
	}
	fmt.Fprintf(w, "  skipped lines %s%s\n", thousands(skipped), byKind(r.Skipped))
	for _, f := range r.Files {
		gz := ""
		if f.Gzip {
			gz = ", gzip"
		}
		fmt.Fprintf(w, "  %s (%s%s): %s lines, %s requests\n", f.Name, f.Format, gz, thousands(f.Lines), thousands(f.Requests))
	}
	fmt.Fprintf(w, "  events %s (%.1f MB, producer %s, %d with invalid UTF-8 replaced, %d unencodable), sha256 %s\n",
		thousands(r.Events), float64(r.Bytes)/1e6, r.Producer, r.Sanitized, r.Unencodable, r.Digest)
	if r.FirstEncodeError != "" {
		fmt.Fprintf(w, "  first unencodable event: %s\n", r.FirstEncodeError)
	}
}

// byKind is ": a 3, b 1" in descending count order, or "".
func byKind(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %s", k, thousands(m[k]))
	}
	return ": " + strings.Join(parts, ", ")
}

// thousands writes n with commas.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
