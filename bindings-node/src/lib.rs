//! Node binding (placeholder until the binding lands).
