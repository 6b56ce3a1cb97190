"""stablewatch's bundled data, installed as the package `stablewatch_data`: the default
topics (topics.toml), the trained classifier (models/), the labelled training data
(train/) and the replayable sample (sample/). jobs/config.py finds it with
importlib.resources, so it works from a checkout and from an installed wheel alike."""
