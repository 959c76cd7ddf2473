-- The write-back's own tables in the site's database (created if missing on
-- start). Offsets and claimed event ids live beside the site's stats so one
-- transaction stores both: the write-back is exactly once.
CREATE TABLE IF NOT EXISTS ratioguard_writeback_offsets (
  consumer VARCHAR(64) NOT NULL,
  topic VARCHAR(249) NOT NULL,
  part INT NOT NULL,
  next_offset BIGINT NOT NULL,
  PRIMARY KEY (consumer, topic, part)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS ratioguard_writeback_events (
  event_id BINARY(16) NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (event_id),
  KEY applied_at_idx (applied_at)
) ENGINE=InnoDB;

-- Gazelle: freeleech tokens to expire on the site (tools.php?type=expiretoken),
-- queued with the batch that used them up and deleted once the site answered 200.
CREATE TABLE IF NOT EXISTS ratioguard_token_expiry (
  user_id INT NOT NULL,
  torrent_id INT NOT NULL,
  queued_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, torrent_id)
) ENGINE=InnoDB;
