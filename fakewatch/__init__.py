"""FakeWatch: deepfake moderation for chat communities.

This package holds what every process shares and nothing heavy: the error
hierarchy, the settings object and the ``fakewatch`` command line. Importing it
never imports torch.
"""

__version__ = "0.1.0"
