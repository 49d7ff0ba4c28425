"""The ground floor: what every FakeWatch process shares, and nothing heavy.

The settings object, the error hierarchy, the scheduling guard and the vocabulary
(labels, statuses, actions, request kinds, reason codes, and the one label rule).
It imports no torch, database, queue, web or chat library (an import-linter
contract), so a bot, the dashboard, a worker and the command line all stand on it.
"""
