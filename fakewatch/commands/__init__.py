"""Subcommands of ``fakewatch``; see :mod:`fakewatch.cli`."""
