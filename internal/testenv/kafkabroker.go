package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// EnvKafkaLibs overrides where the Kafka broker jars are (default: the
// .stack/kafka/libs directory that scripts/stack fills, at the module root).
const EnvKafkaLibs = "RG_KAFKA_LIBS"

// KafkaBroker is a private single-node Apache Kafka (KRaft, broker and
// controller in one process) for fault tests that stop and restart a broker.
// It never touches the shared broker of the local stack: it listens on its
// own free ports and keeps its data in a temporary directory, which survives
// Kill, Stop and Start for the life of the test.
type KafkaBroker struct {
	Addr           string // 127.0.0.1:Port, the bootstrap address
	Port           int
	ControllerPort int
	Dir            string // config, data and logs

	t       testing.TB
	java    string
	libs    string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// StartKafkaBroker formats and starts a private broker and waits until it
// answers metadata requests. It is killed when the test ends. Without the
// jars or a java >= 17 the test is skipped, or fails when CI=true.
func StartKafkaBroker(t testing.TB) *KafkaBroker {
	t.Helper()
	java, libs, err := kafkaRuntime()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("private Kafka broker: %v (run scripts/stack up)", err)
		}
		t.Skipf("private Kafka broker: %v (run scripts/stack up)", err)
	}
	b := &KafkaBroker{t: t, java: java, libs: libs, Dir: t.TempDir()}
	b.Port, b.ControllerPort = freePort(t), freePort(t)
	b.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port))
	if err := b.configure(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if b.Running() {
			b.signal(syscall.SIGKILL)
			<-b.exited
		}
	})
	b.Start()
	return b
}

// kafkaRuntime finds java and the broker jars.
func kafkaRuntime() (java, libs string, err error) {
	libs = os.Getenv(EnvKafkaLibs)
	if libs == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", "", err
		}
		libs = filepath.Join(root, ".stack", "kafka", "libs")
	}
	if jars, _ := filepath.Glob(filepath.Join(libs, "kafka_2.13-*.jar")); len(jars) == 0 {
		return "", "", fmt.Errorf("no Kafka broker jars in %s", libs)
	}
	candidates := []string{}
	if h := os.Getenv("JAVA_HOME"); h != "" {
		candidates = append(candidates, filepath.Join(h, "bin", "java"))
	}
	if p, err := exec.LookPath("java"); err == nil {
		candidates = append(candidates, p)
	}
	jvms, _ := filepath.Glob("/usr/lib/jvm/*/bin/java")
	candidates = append(candidates, jvms...)
	for _, c := range candidates {
		if v := javaMajor(c); v >= 17 {
			return c, libs, nil
		}
	}
	return "", "", errors.New("no java >= 17 (Kafka 4 needs it)")
}

func javaMajor(java string) int {
	out, err := exec.Command(java, "-XshowSettings:properties", "-version").CombinedOutput()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "java.specification.version = "); ok {
			v = strings.TrimPrefix(v, "1.")
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// moduleRoot is the directory holding go.mod, searched upwards from the
// working directory (a test runs in its package directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

const brokerLog4j = `status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
`

// configure writes server.properties and log4j2.properties and formats the
// storage (standalone KRaft controller).
func (b *KafkaBroker) configure() error {
	for _, d := range []string{"data", "logs"} {
		if err := os.MkdirAll(filepath.Join(b.Dir, d), 0o750); err != nil {
			return err
		}
	}
	ctrl := net.JoinHostPort("127.0.0.1", strconv.Itoa(b.ControllerPort))
	props := strings.Join([]string{
		"process.roles=broker,controller",
		"node.id=1",
		"controller.quorum.bootstrap.servers=" + ctrl,
		"listeners=PLAINTEXT://" + b.Addr + ",CONTROLLER://" + ctrl,
		"advertised.listeners=PLAINTEXT://" + b.Addr + ",CONTROLLER://" + ctrl,
		"inter.broker.listener.name=PLAINTEXT",
		"controller.listener.names=CONTROLLER",
		"listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
		"log.dirs=" + filepath.Join(b.Dir, "data"),
		"num.network.threads=2",
		"num.io.threads=2",
		"num.partitions=4",
		"default.replication.factor=1",
		"min.insync.replicas=1",
		"auto.create.topics.enable=false",
		"offsets.topic.replication.factor=1",
		"offsets.topic.num.partitions=4",
		"transaction.state.log.replication.factor=1",
		"transaction.state.log.min.isr=1",
		"share.coordinator.state.topic.replication.factor=1",
		"share.coordinator.state.topic.min.isr=1",
		"group.initial.rebalance.delay.ms=0",
	}, "\n") + "\n"
	if err := os.WriteFile(b.path("server.properties"), []byte(props), 0o640); err != nil {
		return err
	}
	if err := os.WriteFile(b.path("log4j2.properties"), []byte(brokerLog4j), 0o640); err != nil {
		return err
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	cmd := b.javaCmd(64, "kafka.tools.StorageTool", "format", "--standalone",
		"-t", base64.RawURLEncoding.EncodeToString(id), "-c", b.path("server.properties"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("format private Kafka storage: %v\n%s", err, out)
	}
	return nil
}

func (b *KafkaBroker) path(name string) string { return filepath.Join(b.Dir, name) }

func (b *KafkaBroker) javaCmd(heapMB int, args ...string) *exec.Cmd {
	full := append([]string{
		fmt.Sprintf("-Xmx%dm", heapMB), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile=" + b.path("log4j2.properties"),
		"-Dkafka.logs.dir=" + b.path("logs"),
		"-cp", filepath.Join(b.libs, "*"),
	}, args...)
	cmd := exec.Command(b.java, full...)
	cmd.Dir = b.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// Running reports whether the broker process is alive.
func (b *KafkaBroker) Running() bool {
	if b.exited == nil {
		return false
	}
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// Start starts the broker (again, on the same ports and data) and waits
// until it answers.
func (b *KafkaBroker) Start() {
	b.t.Helper()
	if b.Running() {
		b.t.Fatal("private Kafka broker already running")
	}
	out, err := os.OpenFile(b.path("logs/stdout.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		b.t.Fatal(err)
	}
	cmd := b.javaCmd(512, "kafka.Kafka", b.path("server.properties"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		b.t.Fatalf("start private Kafka broker: %v", err)
	}
	b.cmd, b.exited = cmd, make(chan struct{})
	go func() {
		b.waitErr = cmd.Wait()
		out.Close()
		close(b.exited)
	}()
	if err := b.waitReady(90 * time.Second); err != nil {
		b.t.Fatalf("private Kafka broker on %s: %v\n%s", b.Addr, err, b.logTail())
	}
}

// waitReady polls metadata until the broker lists itself.
func (b *KafkaBroker) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := kafka.DialContext(ctx, "tcp", b.Addr)
		if err == nil {
			var brokers []kafka.Broker
			brokers, err = conn.Brokers()
			conn.Close()
			if err == nil && len(brokers) > 0 {
				cancel()
				return nil
			}
		}
		cancel()
		select {
		case <-b.exited:
			return fmt.Errorf("broker exited while starting: %v", b.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %v", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (b *KafkaBroker) signal(sig syscall.Signal) {
	if b.cmd != nil && b.cmd.Process != nil {
		_ = syscall.Kill(-b.cmd.Process.Pid, sig) // the process group: the JVM
	}
}

// Kill stops the broker with SIGKILL (a crash) and waits for it to exit.
func (b *KafkaBroker) Kill() {
	b.t.Helper()
	if !b.Running() {
		b.t.Fatal("private Kafka broker not running")
	}
	b.signal(syscall.SIGKILL)
	<-b.exited
}

// Stop stops the broker cleanly (SIGTERM, controlled shutdown) and waits;
// after 60 s it is killed.
func (b *KafkaBroker) Stop() {
	b.t.Helper()
	if !b.Running() {
		b.t.Fatal("private Kafka broker not running")
	}
	b.signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(60 * time.Second):
		b.t.Logf("private Kafka broker ignored SIGTERM for 60s; killing it")
		b.Kill()
	}
}

func (b *KafkaBroker) logTail() string {
	var out bytes.Buffer
	for _, f := range []string{"logs/stdout.log", "logs/server.log"} {
		data, _ := os.ReadFile(b.path(f))
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		fmt.Fprintf(&out, "---- %s (last lines)\n%s\n", f, strings.Join(lines[max(0, len(lines)-30):], "\n"))
	}
	return out.String()
}
