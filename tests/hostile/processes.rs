//! Hostile-input cases: hostile processes: process groups holding voxctl's ancestors, stopped holders.
