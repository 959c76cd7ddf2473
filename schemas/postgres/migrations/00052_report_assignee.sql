-- +goose Up
-- The staff member working on an open report (claimed by themselves or
-- assigned by another), so two moderators do not review the same one.
ALTER TABLE cheat_reports
    ADD COLUMN assignee_id BIGINT REFERENCES staff (id),
    ADD COLUMN assigned_at TIMESTAMPTZ;
CREATE INDEX cheat_reports_assignee ON cheat_reports (assignee_id) WHERE status = 'open' AND assignee_id IS NOT NULL;

-- +goose Down
DROP INDEX cheat_reports_assignee;
ALTER TABLE cheat_reports DROP COLUMN assigned_at, DROP COLUMN assignee_id;
