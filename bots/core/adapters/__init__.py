"""The core's ports (:mod:`bots.core.ports`) over the real queue, store and Redis.

One module per port: :mod:`~bots.core.adapters.queue` (``CheckQueue``),
:mod:`~bots.core.adapters.chats` (``ChatStore``), :mod:`~bots.core.adapters.moderation`
(``ModerationStore``) and :mod:`~bots.core.adapters.limits` (``Gate``).
:class:`bots.core.services.BotServices` builds the four over one queue client.
"""
