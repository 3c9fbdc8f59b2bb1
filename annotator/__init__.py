"""annotator: turn news articles into reviewed, trustworthy training data."""

__version__ = "0.1.0"
