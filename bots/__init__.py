"""Chat bots (Discord, Telegram) and their shared core. Never imports ``inference``."""
