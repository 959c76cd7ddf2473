package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ClickHouseServer is a private clickhouse-server for fault tests that kill
// and restart ClickHouse. It never touches the shared server of the local
// stack: it listens on its own free ports, configured like scripts/stack
// configures the shared one, and keeps its data in a temporary directory
// that survives Kill, Stop and Start for the life of the test.
type ClickHouseServer struct {
	TCPPort  int
	HTTPPort int
	Dir      string // config, data and logs

	t    testing.TB
	bin  string
	proc *serverProc
}

// StartClickHouseServer configures and starts a private server and waits
// until it answers. It is killed when the test ends. Without
// clickhouse-server the test is skipped, or fails when CI=true.
func StartClickHouseServer(t testing.TB) *ClickHouseServer {
	t.Helper()
	bin := clickHouseServerBin()
	if bin == "" {
		skipOrFail(t, "private ClickHouse: clickhouse-server not installed (run scripts/stack up)")
	}
	s := &ClickHouseServer{t: t, bin: bin, Dir: t.TempDir(), TCPPort: freePort(t), HTTPPort: freePort(t)}
	if err := s.configure(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.Running() {
			s.proc.signal(syscall.SIGKILL)
			<-s.proc.exited
		}
	})
	s.Start()
	return s
}

func clickHouseServerBin() string {
	for _, c := range []string{"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return p
	}
	return ""
}

// URL is the native-protocol address of database db on this server, in the
// form RG_CLICKHOUSE_URL takes.
func (s *ClickHouseServer) URL(db string) string {
	return fmt.Sprintf("clickhouse://127.0.0.1:%d/%s", s.TCPPort, db)
}

func (s *ClickHouseServer) path(name string) string { return filepath.Join(s.Dir, name) }

// configure writes config.xml and users.xml (the same settings as the
// shared server's in scripts/stack, other ports and paths, less memory).
func (s *ClickHouseServer) configure() error {
	for _, d := range []string{"data", "tmp", "user_files", "format_schemas", "log"} {
		if err := os.MkdirAll(s.path(d), 0o750); err != nil {
			return err
		}
	}
	config := strings.NewReplacer("{dir}", s.Dir, "{http}", strconv.Itoa(s.HTTPPort), "{tcp}", strconv.Itoa(s.TCPPort)).
		Replace(chServerConfig)
	if err := os.WriteFile(s.path("config.xml"), []byte(config), 0o640); err != nil {
		return err
	}
	return os.WriteFile(s.path("users.xml"), []byte(chUsersConfig), 0o640)
}

// Running reports whether the server process is alive.
func (s *ClickHouseServer) Running() bool { return s.proc.running() }

// Start starts the server (again, on the same ports and data) and waits
// until it answers queries.
func (s *ClickHouseServer) Start() {
	s.t.Helper()
	if s.Running() {
		s.t.Fatal("private ClickHouse already running")
	}
	cmd := exec.Command(s.bin, "--config-file="+s.path("config.xml"))
	cmd.Dir = s.Dir
	p, err := startProc(cmd, s.path("log/stdout.log"))
	if err != nil {
		s.t.Fatalf("start private ClickHouse: %v", err)
	}
	s.proc = p
	if err := waitUntil(p, 60*time.Second, s.ping); err != nil {
		s.t.Fatalf("private ClickHouse on port %d: %v\n%s", s.TCPPort, err,
			logTail(s.path("log/stdout.log"), s.path("log/clickhouse-server.err.log")))
	}
}

// ping runs SELECT 1 over HTTP: the native and HTTP listeners open together,
// after the tables are loaded.
func (s *ClickHouseServer) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/?query=SELECT%%201", s.HTTPPort), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "1" {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	return nil
}

// Kill stops the server with SIGKILL (a crash) and waits for it to exit.
func (s *ClickHouseServer) Kill() {
	s.t.Helper()
	if !s.Running() {
		s.t.Fatal("private ClickHouse not running")
	}
	s.proc.signal(syscall.SIGKILL)
	<-s.proc.exited
}

// Stop stops the server cleanly (SIGTERM: it finishes running queries)
// and waits; after 60 s it is killed.
func (s *ClickHouseServer) Stop() {
	s.t.Helper()
	if !s.Running() {
		s.t.Fatal("private ClickHouse not running")
	}
	s.proc.stop(s.t, "private ClickHouse", syscall.SIGTERM, 60*time.Second)
}

const chServerConfig = `<?xml version="1.0"?>
<!-- a private test server written by internal/testenv (see scripts/stack for the shared one) -->
<yandex>
  <logger>
    <level>information</level>
    <log>{dir}/log/clickhouse-server.log</log>
    <errorlog>{dir}/log/clickhouse-server.err.log</errorlog>
    <size>100M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <path>{dir}/data/</path>
  <tmp_path>{dir}/tmp/</tmp_path>
  <user_files_path>{dir}/user_files/</user_files_path>
  <format_schema_path>{dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <max_connections>256</max_connections>
  <max_concurrent_queries>50</max_concurrent_queries>
  <keep_alive_timeout>3</keep_alive_timeout>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mlock_executable>false</mlock_executable>
  <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
  <max_session_timeout>3600</max_session_timeout>
  <default_session_timeout>60</default_session_timeout>
</yandex>
`

const chUsersConfig = `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
      <use_uncompressed_cache>0</use_uncompressed_cache>
      <allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks>
        <ip>127.0.0.1</ip>
        <ip>::1</ip>
      </networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries>
        <errors>0</errors>
        <result_rows>0</result_rows>
        <read_rows>0</read_rows>
        <execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
`

// CPUTime is the user + system CPU time the running server process has
// used (all its threads: queries and background merges), from /proc.
func (s *ClickHouseServer) CPUTime() (time.Duration, error) {
	if !s.Running() {
		return 0, errors.New("private ClickHouse not running")
	}
	return procCPUTime(s.proc.cmd.Process.Pid)
}

// procCPUTime reads utime + stime of pid from /proc/PID/stat (Linux).
func procCPUTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, nil
}
