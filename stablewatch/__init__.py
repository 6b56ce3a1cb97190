"""stablewatch's shared base: the root of its errors (`stablewatch.errors`).

The code lives in `collectors/` (sources), `classifier/` (scoring) and `jobs/` (storage,
pipeline, CLI); this package is the one thing all three import.
"""
