"""The ground floor: what every FakeWatch process shares, and nothing heavy.

The settings object, the error hierarchy and the scheduling guard. It imports no
torch, database, queue, web or chat library (an import-linter contract), so a bot,
the dashboard, a worker and the command line all stand on it.
"""
