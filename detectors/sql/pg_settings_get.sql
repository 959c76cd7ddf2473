SELECT section, overrides FROM detector_settings
