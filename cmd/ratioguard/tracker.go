package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/state"
	"github.com/ratioguard/ratioguard/tracker/stream"
)

func runTracker(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "tracker")
	eng.RegisterFlags(fs)
	addr := fs.String("addr", config.Getenv(config.EnvTrackerAddr, config.DefaultTrackerAddr), "listen address (env "+config.EnvTrackerAddr+")")
	adminAddr := adminFlag(fs, defaultTrackerAdmin)
	ctl := registerControlFlags(fs)
	var cfg tracker.Config
	coreFlags := registerCoreFlags(fs, &cfg.Core)
	proxies := fs.String("trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For / X-Real-IP are believed")
	fs.DurationVar(&cfg.Sync.Resync, "policy-resync", 5*time.Minute, "full policy reload period (changes also arrive by LISTEN/NOTIFY)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "wait for in-flight requests on stop")
	fs.StringVar(&cfg.HTTPServer, "http-server", tracker.HTTPWire, "HTTP server of the announce listener: "+tracker.HTTPWire+" (the tracker's own, tracker/wire) or "+tracker.HTTPStd+" (net/http)")
	topic := fs.String("topic", events.Topic, "Kafka topic of announce events")
	spoolDir := fs.String("spool-dir", filepath.Join(".stack", "spool", "tracker"), "directory of the disk spool used while Kafka is unreachable")
	stateDir := fs.String("state-dir", "", "directory of the swarm snapshots (restart without losing credit; one per instance; default: state/ beside --spool-dir)")
	snapEvery := fs.Duration("snapshot-every", time.Minute, "period of swarm snapshots (bounds the replay after a crash; negative: only on stop)")
	drain := fs.Duration("drain-timeout", 30*time.Second, "on stop, how long to drain queued events to Kafka before spooling them")
	createTopic := fs.Int("create-topic", 0, "create the topic with this many partitions if it does not exist (0: expect it to exist, see ratioguard migrate)")
	pprofAddr := fs.String("pprof-addr", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060; default off)")
	queueSize := fs.Int("queue-size", defaultTrackerQueue, "events held in memory on their way to Kafka; beyond, they go to the disk spool")
	batchTimeout := fs.Duration("batch-timeout", stream.DefaultBatchTimeout, "how long a Kafka write waits for its partition batches to fill before sending them (events reach Kafka about this much later; the writer sends at most ~1000 events per wait, so a longer wait lowers the announce rate that Kafka keeps up with)")
	gcPercent := fs.Int("gc-percent", defaultGCPercent(), "Go GC target percentage; 0 leaves it to GOGC (default 400 when GOGC is unset: the live heap is small, so collections run a quarter as often on the hot path; GOMEMLIMIT caps memory as usual)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("tracker takes no arguments, got %q", fs.Args())}
	}
	if err := coreFlags(); err != nil {
		return err
	}
	if cfg.HTTPServer != tracker.HTTPWire && cfg.HTTPServer != tracker.HTTPStd {
		return usageError{fmt.Sprintf("--http-server must be %s or %s, got %q", tracker.HTTPWire, tracker.HTTPStd, cfg.HTTPServer)}
	}
	var err error
	if cfg.Frontend.TrustedProxies, err = parsePrefixes(*proxies); err != nil {
		return usageError{err.Error()}
	}
	if len(eng.Brokers()) == 0 {
		return usageError{"no Kafka brokers: every announce must be streamed (set --kafka-brokers or " + config.EnvKafkaBrokers + ")"}
	}
	if *queueSize <= 0 {
		return usageError{"--queue-size must be positive"}
	}
	if *batchTimeout <= 0 {
		return usageError{"--batch-timeout must be positive"}
	}
	if *gcPercent != 0 {
		debug.SetGCPercent(*gcPercent)
	}

	if *pprofAddr != "" {
		go func() {
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			env.log.Error("pprof server stopped", "err", http.ListenAndServe(*pprofAddr, mux))
		}()
	}
	adm, stopAdmin, err := startAdmin(ctx, env, fs, "tracker", *adminAddr)
	if err != nil {
		return err
	}
	defer stopAdmin()
	reg := adm.Registry()
	pool, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if *createTopic > 0 {
		if err := kafkaconn.EnsureTopic(ctx, eng.Brokers(), *topic, *createTopic); err != nil {
			return err
		}
	}
	// The announce stream is the swarms' write-ahead log (tracker/state):
	// hold the spool the last run left before the producer replays it.
	if *stateDir == "" {
		*stateDir = filepath.Join(filepath.Dir(filepath.Clean(*spoolDir)), "state")
	}
	keeper, err := state.Open(state.Config{Dir: *stateDir, Brokers: eng.Brokers(), Topic: *topic, SpoolDir: *spoolDir,
		Window: 2 * (cfg.Core.Interval + cfg.Core.Jitter), Every: *snapEvery}, env.log)
	if err != nil {
		return err
	}
	defer func() { // after the producer's Close
		if err := keeper.Stop(); err != nil {
			env.log.Error("tracker state: snapshot on stop failed", "err", err)
		}
	}()
	cfg.Core.Epoch = keeper.Epoch()
	// Events are pooled: the core takes them from the pool, the producer
	// gives each back once it is encoded for Kafka or the spool.
	cfg.Core.Events = core.NewEventPool()
	producer, err := stream.New(ctx, stream.Config{Brokers: eng.Brokers(), Topic: *topic, SpoolDir: *spoolDir,
		QueueSize: *queueSize, BatchTimeout: *batchTimeout, Recycle: cfg.Core.Events.Put}, reg, env.log)
	if err != nil {
		return fmt.Errorf("start the event producer: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), *drain)
		defer cancel()
		if cerr := producer.Close(dctx); cerr != nil {
			env.log.Error("event producer did not close cleanly", "err", cerr)
		}
	}()
	cfg.Restore = func(ctx context.Context, c *core.Core) error { return keeper.Start(ctx, c, pool, producer.Settle) }
	srv, err := tracker.New(cfg, pool, producer, reg, env.log)
	if err != nil {
		return err
	}
	adm.Check("tracker", srv.Ready)
	if err := ctl.mount(ctx, adm, pool, srv.Core(), env.log); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	return srv.Serve(ctx, ln)
}

// registerCoreFlags registers the announce core's flags into c (the
// tracker's policy knobs; import announces replays with the same ones). The
// function it returns finishes c after fs.Parse.
func registerCoreFlags(fs *flag.FlagSet, c *core.Config) func() error {
	fs.DurationVar(&c.Interval, "interval", 30*time.Minute, "announce interval told to clients")
	fs.DurationVar(&c.Jitter, "jitter", 5*time.Minute, "random extra added to the interval")
	fs.DurationVar(&c.MinInterval, "min-interval", 15*time.Minute, "announcing sooner draws a warning")
	fs.IntVar(&c.NumWant, "numwant", 50, "peers per answer when the client does not say")
	fs.IntVar(&c.MaxNumWant, "max-numwant", 50, "cap on numwant")
	fs.IntVar(&c.MaxIPs, "max-ips", 3, "locations a member may be active from at once")
	fs.IntVar(&c.MaxPeers, "max-peers-per-torrent", 3, "peers per member per torrent")
	fs.IntVar(&c.BadPasskeyLimit, "bad-passkey-limit", 10, "unknown passkeys from one source (IPv4 address, IPv6 /64) per window before it is blocked for unknown passkeys (members behind it keep announcing)")
	fs.DurationVar(&c.BadPasskeyWindow, "bad-passkey-window", time.Minute, "window of --bad-passkey-limit")
	ports := fs.String("blocked-ports", joinPorts(core.DefaultBlockedPorts), "comma-separated listening ports refused (empty: none)")
	return func() error {
		var err error
		if c.BlockedPorts, err = parsePorts(*ports); err != nil {
			return usageError{err.Error()}
		}
		return nil
	}
}

// defaultTrackerQueue absorbs a few seconds of peak load before the spool
// takes over (4x tracker/stream's default; ~50 MB of events at most).
const defaultTrackerQueue = 4 * stream.DefaultQueueSize

// defaultGCPercent is 400 unless GOGC is set (then 0: Go's runtime already
// applied it).
func defaultGCPercent() int {
	if os.Getenv("GOGC") != "" {
		return 0
	}
	return 400
}

func joinPorts(ps []uint16) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ",")
}

func parsePorts(s string) ([]uint16, error) {
	out := []uint16{}
	for _, f := range config.SplitList(s) {
		n, err := strconv.ParseUint(f, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("--blocked-ports: %q is not a port", f)
		}
		out = append(out, uint16(n))
	}
	return out, nil
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range config.SplitList(s) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, errors.New("--trusted-proxies: " + f + " is not a CIDR or address")
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
