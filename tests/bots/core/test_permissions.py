"""The permission model: anyone checks, moderators audit, configure and override."""

from __future__ import annotations

from dataclasses import dataclass, field

from bots.core.permissions import Action, Role, allowed, refusal


@dataclass
class Roles:
    moderators: set[str]
    asked: list[str] = field(default_factory=list)

    async def role_of(self, *, chat_id: str, user_id: str) -> Role:
        self.asked.append(user_id)
        return Role.MODERATOR if user_id in self.moderators else Role.MEMBER


async def test_moderator_actions_ask_the_platform_checks_do_not() -> None:
    roles = Roles(moderators={"1"})
    assert await allowed(roles, chat_id="c", user_id="2", action=Action.CHECK)
    assert roles.asked == []
    for action in (Action.AUDIT, Action.SETTINGS, Action.VERDICT):
        assert await allowed(roles, chat_id="c", user_id="1", action=action)
        assert not await allowed(roles, chat_id="c", user_id="2", action=action)
    assert "moderators" in refusal(Action.AUDIT)
