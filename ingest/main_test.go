package ingest_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest"
	"github.com/ratioguard/ratioguard/internal/config"
)

// envChild makes the test binary run as an ingest process (the fault tests
// start it as a child and kill it).
const envChild = "RG_INGEST_TEST_CHILD_TOPIC"

func TestMain(m *testing.M) {
	if topic := os.Getenv(envChild); topic != "" {
		os.Exit(runChild(topic))
	}
	os.Exit(m.Run())
}

func runChild(topic string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := ingest.Run(ctx, ingest.Config{
		Engines: config.FromEnv(), Topic: topic, Sinks: []string{ingest.SinkClickHouse, ingest.SinkLedger},
		InstanceID: "fault-test", ClickHouseBatch: 20_000, LedgerBatch: 10_000, Linger: 300 * time.Millisecond,
		Log: testLog(),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest child:", err)
		return 1
	}
	return 0
}
