"""Where one paged listing stands (shared by the crawl's stages and the collaboration view)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Cursor:
    """Where one listing stands: the token of its next page, every token it has followed
    (to catch a service paging in a loop), whether it has started over once, how many
    pages it has read and how many attempts earlier passes spent on it."""

    token: str | None = None
    followed: set[str] = field(default_factory=set)
    restarted: bool = False
    pages: int = 0
    spent: int = 0

    def advance(self, token: str) -> None:
        self.followed.add(token)
        self.token = token
        self.pages += 1

    def restart(self) -> None:
        self.token = None
        self.followed.clear()
        self.restarted = True
        self.pages = 0
