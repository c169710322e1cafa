//! Hostile-input cases: hostile releases: archives, manifests, sums files, part lists.
