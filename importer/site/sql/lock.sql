-- One site import at a time (a second one waits for the first to commit).
SELECT pg_advisory_xact_lock(hashtextextended('ratioguard import site', 0))
