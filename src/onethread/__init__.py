"""onethread: every channel, one thread, one owner."""

__version__ = "0.1.0"
