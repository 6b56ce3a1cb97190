"""Orchestration: storage, the daily pipeline, summaries, the digest, scheduling and the CLI."""
