"""FakeWatch: deepfake moderation for chat communities.

This package is the roof: the ``fakewatch`` command line and its commands, which
wire the other packages together. What every process shares lives in :mod:`base`.
Importing it never imports torch.
"""

__version__ = "0.1.0"
