-- Samples too old to be the baseline of any window any more. $1 now, $2 window (s).
DELETE FROM enforce_seed_samples WHERE sampled_at < $1::timestamptz - make_interval(secs => $2 + 2 * 86400)
