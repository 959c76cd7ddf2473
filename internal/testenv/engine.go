package testenv

import "time"

// Engine is a private engine instance (KafkaBroker, ClickHouseServer,
// PostgresServer) that a fault test stops and starts.
type Engine interface {
	Start()
	Stop()
	Kill()
}

// Restart takes e down — SIGKILL when crash, a clean stop otherwise — keeps
// it down for the given time, and starts it again.
func Restart(e Engine, crash bool, down time.Duration) {
	if crash {
		e.Kill()
	} else {
		e.Stop()
	}
	time.Sleep(down)
	e.Start()
}
