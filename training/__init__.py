"""Training FakeWatch's own weights: data preparation, self-blended images, fitting, evaluation.

Only :mod:`fakewatch.commands` imports this package; the service never does.
"""
