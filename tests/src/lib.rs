//! Workspace-level integration tests live in `tests/tests/`: the crates against the real
//! third-party data in `../shared/data` (located by `mlff_testkit::third_party`).
