//! Accord's storage: the only crate that contains SQL.
//!
//! It will offer one `Store` API with a SQLite implementation (the embedded default) and a
//! PostgreSQL one, chosen once at startup, converting rows to `accord-core` values at its edge.
//! The agreement issue brings its first tables; until then this crate is a placeholder so the
//! workspace has its final shape.
