"""The old Python and Rust demos' result folders: found, read, judged and imported."""
