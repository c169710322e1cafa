//! Hostile-input cases: a hostile state dir or data dir: planted symlinks, FIFOs, huge records, wrong owners and modes.
