"""The Discord bot (discord.py 2.x) on top of the shared bot core in :mod:`bots`."""
