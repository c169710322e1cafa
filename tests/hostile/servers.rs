//! Hostile-input cases: hostile HTTP servers: lying sizes, empty answers, endless retries.
