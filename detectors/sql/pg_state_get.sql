SELECT last_until FROM detector_state WHERE detector = $1
