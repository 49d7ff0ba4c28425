"""The platform-neutral bot core: what every chat bot does, whatever the platform.

- :mod:`bots.core.media`: :class:`InboundMedia`, a media item seen in a chat, not yet downloaded.
- :mod:`bots.core.flow`: :class:`CheckFlow`, ``settings -> screen -> fetch -> submit -> wait
  -> format -> deliver``, and the :class:`Conversation` a platform implements.
- :mod:`bots.core.recovery`: answering checks the bot missed (a restart loses no verdict).
- :mod:`bots.core.formatting`: every text the bots post, within each platform's length.
- :mod:`bots.core.arguments`: ``/audit``, ``/settings`` and ``/verdict`` arguments.
- :mod:`bots.core.permissions`: who may do what (:class:`RoleSource` per platform).
- :mod:`bots.core.ports`: what the core needs from the queue and the store.
- :mod:`bots.core.adapters`: those, implemented with the queue client, the database and
  Redis, one module per port; :mod:`bots.core.services`: :class:`BotServices`, the four
  over one queue client.
- :mod:`bots.core.redaction`: keeping tokens out of logs.

Nothing here imports a chat library, ``inference`` or torch.
"""
