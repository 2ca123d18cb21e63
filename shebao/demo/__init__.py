"""The synthetic demo county: a deterministic generator and its tables (used by `shebao seed`)."""
