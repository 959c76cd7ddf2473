package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresServer is a private Postgres cluster for fault tests that kill and
// restart Postgres. It never touches the shared cluster of the local stack:
// it is initdb'd into a temporary directory and listens on its own free port
// (trust authentication, user postgres, loopback only). The data survives
// Kill, Stop and Start for the life of the test. As root, the cluster is
// owned and run by the `postgres` OS user (Postgres refuses to run as root).
type PostgresServer struct {
	Port int
	Dir  string // data, socket and log

	t     testing.TB
	bin   string
	runAs string // OS user running the cluster; "" = the current user
	pid   int    // the postmaster's pid while running
}

// StartPostgresServer creates and starts a private cluster and waits until
// it accepts connections. It is killed when the test ends. Without the
// Postgres binaries the test is skipped, or fails when CI=true.
func StartPostgresServer(t testing.TB) *PostgresServer {
	t.Helper()
	bin := postgresBinDir()
	if bin == "" {
		skipOrFail(t, "private Postgres: no /usr/lib/postgresql/*/bin/postgres (run scripts/stack up)")
	}
	s := &PostgresServer{t: t, bin: bin, Port: freePort(t)}
	if os.Geteuid() == 0 {
		s.runAs = "postgres"
	}
	if err := s.initdb(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.Running() {
			s.signalGroup(syscall.SIGKILL)
			s.waitGone(10 * time.Second)
		}
		_ = os.RemoveAll(s.Dir)
	})
	s.Start()
	return s
}

func postgresBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- { // the newest version first
		if _, err := os.Stat(filepath.Join(dirs[i], "postgres")); err == nil {
			return dirs[i]
		}
	}
	return ""
}

// URL is the address of database db, in the form RG_POSTGRES_URL takes.
func (s *PostgresServer) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

func (s *PostgresServer) path(name string) string { return filepath.Join(s.Dir, name) }

// command runs a Postgres binary as the cluster's OS user.
func (s *PostgresServer) command(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs, "--", bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	cmd.Dir = "/"
	return cmd
}

// initdb makes the directory (in os.TempDir, not t.TempDir: the postgres
// user must traverse every parent) and the cluster.
func (s *PostgresServer) initdb() error {
	dir, err := os.MkdirTemp("", "rg-pgserver-")
	if err != nil {
		return err
	}
	s.Dir = dir
	if s.runAs != "" {
		u, err := user.Lookup(s.runAs)
		if err != nil {
			return fmt.Errorf("private Postgres: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	out, err := s.command("initdb", "-D", s.path("data"), "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C.UTF-8", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("private Postgres initdb: %v\n%s", err, out)
	}
	conf := strings.Join([]string{
		"listen_addresses = '127.0.0.1'",
		"port = " + strconv.Itoa(s.Port),
		"unix_socket_directories = '" + s.Dir + "'",
		"max_connections = 100",
		"shared_buffers = 64MB",
		"fsync = on",
		"logging_collector = off",
	}, "\n") + "\n"
	// Append as the cluster's user: the file is theirs.
	cmd := exec.Command("sh", "-c", `cat >> "$1"`, "sh", s.path("data/postgresql.conf"))
	if s.runAs != "" {
		cmd = exec.Command("runuser", "-u", s.runAs, "--", "sh", "-c", `cat >> "$1"`, "sh", s.path("data/postgresql.conf"))
	}
	cmd.Stdin = strings.NewReader(conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("private Postgres config: %v\n%s", err, out)
	}
	return nil
}

// Running reports whether the postmaster is alive.
func (s *PostgresServer) Running() bool {
	return s.pid > 0 && syscall.Kill(s.pid, 0) == nil
}

// Start starts the cluster (again, on the same port and data) with pg_ctl
// and waits until it accepts connections (after crash recovery, if any).
func (s *PostgresServer) Start() {
	s.t.Helper()
	if s.Running() {
		s.t.Fatal("private Postgres already running")
	}
	out, err := s.command("pg_ctl", "-D", s.path("data"), "-l", s.path("postgres.log"), "-w", "-t", "120", "start").CombinedOutput()
	if err != nil {
		s.t.Fatalf("private Postgres pg_ctl start: %v\n%s\n%s", err, out, logTail(s.path("postgres.log")))
	}
	pid, err := s.postmasterPID()
	if err != nil {
		s.t.Fatal(err)
	}
	s.pid = pid
	if err := waitUntil(nil, 30*time.Second, s.ping); err != nil {
		s.t.Fatalf("private Postgres on port %d: %v\n%s", s.Port, err, logTail(s.path("postgres.log")))
	}
}

func (s *PostgresServer) postmasterPID() (int, error) {
	data, err := os.ReadFile(s.path("data/postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("private Postgres: %w", err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("private Postgres: bad postmaster.pid %q", first)
	}
	return pid, nil
}

func (s *PostgresServer) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
}

// signalGroup signals the postmaster and its backends: pg_ctl starts the
// postmaster as a session leader, so its pid is their process group.
func (s *PostgresServer) signalGroup(sig syscall.Signal) {
	if s.pid > 0 {
		if err := syscall.Kill(-s.pid, sig); err != nil {
			_ = syscall.Kill(s.pid, sig)
		}
	}
}

// waitGone waits until the postmaster and every backend of its group exited.
func (s *PostgresServer) waitGone(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for syscall.Kill(-s.pid, 0) == nil || syscall.Kill(s.pid, 0) == nil {
		if time.Now().After(deadline) {
			return errors.New("private Postgres still running")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// Kill stops the cluster with SIGKILL to the postmaster and every backend (a
// crash: the next Start runs crash recovery) and waits for them to exit.
func (s *PostgresServer) Kill() {
	s.t.Helper()
	if !s.Running() {
		s.t.Fatal("private Postgres not running")
	}
	s.signalGroup(syscall.SIGKILL)
	if err := s.waitGone(30 * time.Second); err != nil {
		s.t.Fatal(err)
	}
}

// Stop stops the cluster cleanly (pg_ctl stop -m fast: open transactions
// are rolled back, a checkpoint is written) and waits.
func (s *PostgresServer) Stop() {
	s.t.Helper()
	if !s.Running() {
		s.t.Fatal("private Postgres not running")
	}
	out, err := s.command("pg_ctl", "-D", s.path("data"), "-m", "fast", "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil {
		s.t.Fatalf("private Postgres pg_ctl stop: %v\n%s", err, out)
	}
	if err := s.waitGone(30 * time.Second); err != nil {
		s.t.Fatal(err)
	}
}
