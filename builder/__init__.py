"""builder: staged builds that turn a Chinese media corpus into instruction datasets."""

__version__ = "0.1.0"
