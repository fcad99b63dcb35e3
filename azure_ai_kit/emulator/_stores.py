"""What the emulated resource remembers between requests, each store bounded so that a
long-running server does not grow: served images, prompt prefixes (prompt caching) and stored
Responses API answers (for ``previous_response_id`` and ``GET …/responses/{id}``).
"""

from __future__ import annotations

from collections import OrderedDict

from ._wire import StoredResponse

__all__ = ["MAX_PREFIXES", "MAX_STORED_IMAGES", "Stores"]

MAX_STORED_IMAGES = 256
MAX_PREFIXES = 4096


class Stores:
    """Bounded, least-recently-used memories of one emulator (the caller holds its lock)."""

    def __init__(self, responses_per_deployment: int) -> None:
        if (
            isinstance(responses_per_deployment, bool)
            or not isinstance(responses_per_deployment, int)
            or responses_per_deployment < 0
        ):
            raise ValueError(
                "stored_responses must be a count of responses to keep per deployment, "
                f"not {responses_per_deployment!r}"
            )
        self.responses_per_deployment = responses_per_deployment
        self._images: OrderedDict[str, bytes] = OrderedDict()
        self._prefixes: OrderedDict[str, None] = OrderedDict()
        self._responses: dict[str, OrderedDict[str, StoredResponse]] = {}

    def clear(self) -> None:
        """Forget everything."""
        self._images.clear()
        self._prefixes.clear()
        self._responses.clear()

    def image(self, image_id: str) -> bytes | None:
        """A served image by id, if still kept."""
        return self._images.get(image_id)

    def store_image(self, image_id: str, data: bytes) -> None:
        """Keep an image (the oldest go past ``MAX_STORED_IMAGES``)."""
        self._images[image_id] = data
        self._images.move_to_end(image_id)
        while len(self._images) > MAX_STORED_IMAGES:
            self._images.popitem(last=False)

    def remember_prefix(self, key: str) -> bool:
        """Record a prompt-prefix key; True when it was seen before."""
        seen = key in self._prefixes
        self._prefixes[key] = None
        self._prefixes.move_to_end(key)
        while len(self._prefixes) > MAX_PREFIXES:
            self._prefixes.popitem(last=False)
        return seen

    def recall_response(self, response_id: str) -> StoredResponse | None:
        """A stored response by id, from any deployment (a response lives on the resource)."""
        for kept in self._responses.values():
            if response_id in kept:
                return kept[response_id]
        return None

    def keep_response(self, stored: StoredResponse) -> None:
        """Keep a response; each deployment keeps its last ``responses_per_deployment``."""
        kept = self._responses.setdefault(stored.deployment, OrderedDict())
        kept[str(stored.body["id"])] = stored
        while len(kept) > self.responses_per_deployment:
            kept.popitem(last=False)
