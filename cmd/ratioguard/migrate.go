package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ratioguard/ratioguard/internal/chconn"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/schemas"
	"github.com/ratioguard/ratioguard/schemas/events"
)

func runMigrate(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "migrate")
	eng.RegisterFlags(fs)
	partitions := fs.Int("partitions", 4, "partitions of the announces topic when it is created")
	asJSON := fs.Bool("json", false, "print what was applied as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	pool, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	applied, err := schemas.MigratePostgres(ctx, pool)
	if err != nil {
		return err
	}

	ch, err := chconn.EnsureDatabase(ctx, eng.ClickHouseURL)
	if err != nil {
		return err
	}
	defer ch.Close()
	chApplied, err := schemas.MigrateClickHouse(ctx, ch)
	applied = append(applied, chApplied...)
	if err != nil {
		return err
	}

	topics := []string{events.Topic, events.Topic + ".dlq"}
	for _, topic := range topics {
		if err := kafkaconn.EnsureTopic(ctx, eng.Brokers(), topic, *partitions); err != nil {
			return err
		}
	}

	if *asJSON {
		if applied == nil {
			applied = []schemas.Applied{}
		}
		return json.NewEncoder(env.stdout).Encode(map[string]any{"applied": applied, "topics": topics})
	}
	if len(applied) == 0 {
		fmt.Fprintln(env.stdout, "postgres and clickhouse schemas are up to date")
	}
	for _, a := range applied {
		fmt.Fprintf(env.stdout, "applied %s migration %d (%s)\n", a.Engine, a.Version, a.Name)
	}
	fmt.Fprintf(env.stdout, "kafka topics ready: %v\n", topics)
	return nil
}
