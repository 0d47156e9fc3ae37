"""Project-wide facts built from per-file summaries: definitions, imports across modules, call sites."""
