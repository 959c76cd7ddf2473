// Command ratioguard is the one binary of the project. This package only wires
// subcommands to the packages that implement them; it holds no logic.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/ops"
)

// command is one subcommand: its one-line summary and its entry point.
type command struct {
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv is what every subcommand receives instead of globals.
type cliEnv struct {
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	// ops, when set, is the operations server every stage of `ratioguard
	// all` shares; a stage run on its own starts its own (startAdmin).
	ops *ops.Server
}

func commands() map[string]command {
	return map[string]command{
		"version":     {"print the version", runVersion},
		"healthcheck": {"probe a health URL (container healthchecks)", runHealthcheck},
		"migrate":     {"apply the Postgres and ClickHouse schemas and create the Kafka topics", runMigrate},
		"tracker":     {"serve announce and scrape", runTracker},
		"ingest":      {"consume announces into ClickHouse and the Postgres ledger", runIngest},
		"writeback":   {"write credited stats back into a Gazelle or UNIT3D site's database", runWriteback},
		"reconcile":   {"compare ledger totals with ClickHouse sums", runReconcile},
		"detect":      {"run the cheat detectors", runDetect},
		"enforce":     {"run the enforcement jobs", runEnforce},
		"reports":     {"serve the staff web UI and JSON API", runReports},
		"all":         {"run tracker, ingest and every later stage in one process", runAll},
		"import":      {"import a site's members and torrents, or replay announce logs (import site|announces)", runImport},
		"user":        {"manage members (user add NAME)", runUser},
		"api-token":   {"create a token of the tracker's native control API (api-token add NAME --scopes ...)", runAPIToken},
		"torrent":     {"manage torrents (torrent add FILE.torrent [--promo P])", runTorrent},
		"staff":       {"manage staff accounts (staff add NAME)", runStaff},
		"report":      {"list cheat reports (report list)", runReport},
		"sim":         {"simulate a private-tracker population", runSim},
	}
}

func main() {
	var level slog.Level
	if err := level.UnmarshalText([]byte(config.Getenv(config.EnvLogLevel, "info"))); err != nil {
		fmt.Fprintf(os.Stderr, "ratioguard: %s: %v (debug, info, warn or error)\n", config.EnvLogLevel, err)
		os.Exit(2)
	}
	env := &cliEnv{
		stdout: os.Stdout,
		stderr: os.Stderr,
		log:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, env *cliEnv, args []string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "ratioguard: unknown command %q\n\n", args[0])
		usage(env.stderr, cmds)
		return 2
	}
	if err := cmd.run(ctx, env, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(env.stderr, "ratioguard %s: %v\n", args[0], err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: ratioguard COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'ratioguard COMMAND -h' for a command's flags.")
}

// usageError marks a mistake in how the command was called (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errNotImplemented is what a subcommand returns until its issue lands: it
// says so and exits non-zero rather than pretending to work.
func errNotImplemented(name string) error {
	return fmt.Errorf("%s is not yet implemented", name)
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(env *cliEnv, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("ratioguard "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	return fs
}
