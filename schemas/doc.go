// Package schemas owns the storage schemas: Postgres migrations (applied with
// goose), ClickHouse DDL (applied in file order and recorded in a
// schema_migrations table), both embedded in the binary. The announce event
// schema lives in the events subpackage.
package schemas
