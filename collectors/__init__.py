"""Sources of posts: each collector yields `Post` records and knows nothing about storage."""

from collectors.post import Harvest, Post

__all__ = ["Harvest", "Post"]
