"""An optional language-model backend for triage, on a district's own OpenAI-compatible
endpoint (configured by URL and model name).

The local classifier stays the authority on two things: whether a group message is a report
at all (chatter is never sent to the model) and urgency cues (a model may not downgrade a
gas smell). The model only gets a say on the category and a routine priority, within a
timeout; any failure — slow, down, malformed, an unknown code — falls back to the local
answer and is counted, so a district can see how often its model helps.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from triage.categories import Category, Priority
from triage.classifier import Triage

log = logging.getLogger(__name__)

_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)\d{3,4}-\d{7,8}(?!\d)")


def mask_phones(text: str, replacement: str = "[phone]") -> str:
    """Mobile and landline numbers replaced: for text that leaves the grid (a model, a
    leader's subscription), where nobody needs to call the resident."""
    return _PHONE.sub(replacement, text)


_CODES = ", ".join(str(c) for c in Category)
SYSTEM_PROMPT = (
    "You sort residents' reports for a Chinese neighbourhood grid-governance service. "
    f'Answer with one JSON object only: {{"category": one of [{_CODES}], '
    '"priority": "urgent" | "normal" | "low", "confidence": number 0..1}. '
    "urgent = danger to people or property now; low = suggestions and enquiries."
)


@dataclass(frozen=True)
class LLMConfig:
    url: str  # the base URL, e.g. http://llm.district.local/v1
    model: str
    api_key: str | None = None
    timeout: float = 3.0


LocalClassify = Callable[..., Triage]


class LLMTriager:
    def __init__(
        self,
        config: LLMConfig,
        local: LocalClassify,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.config = config
        self.local = local
        self._session = session
        self.answered = 0
        self.fallbacks = 0

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def classify(self, text: str, *, addressed: bool = False) -> Triage:
        local = self.local(text, addressed=addressed)
        if not local.is_report or not text.strip():
            return local
        try:
            async with asyncio.timeout(self.config.timeout):
                answer = await self._ask(text)
            merged = self._merge(local, answer)
        except (TimeoutError, aiohttp.ClientError, ValueError, KeyError, TypeError) as exc:
            self.fallbacks += 1
            log.warning(
                "language model unavailable (%s: %s); using the local classifier",
                type(exc).__name__,
                exc,
            )
            return local
        self.answered += 1
        return merged

    async def _ask(self, text: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        payload = {
            "model": self.config.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                # Phone numbers are not needed to sort a report; they stay here.
                {"role": "user", "content": mask_phones(text[:2000])},
            ],
        }
        url = self.config.url.rstrip("/") + "/chat/completions"
        async with self._client().post(url, json=payload, headers=headers) as response:
            response.raise_for_status()
            body = await response.json(content_type=None)
        content = body["choices"][0]["message"]["content"]
        parsed = json.loads(content)
        if not isinstance(parsed, dict):
            raise ValueError("the model did not answer with a JSON object")
        return parsed

    @staticmethod
    def _merge(local: Triage, answer: dict[str, Any]) -> Triage:
        category = Category(str(answer["category"]))  # ValueError on an unknown code
        priority = Priority(str(answer.get("priority", local.priority)))
        if local.priority is Priority.URGENT:
            priority = Priority.URGENT  # rules found an emergency cue: never downgrade
        confidence = min(1.0, max(0.0, float(answer.get("confidence", 0.8))))
        return Triage(
            category=category,
            confidence=confidence,
            is_report=True,
            priority=priority,
            emergency_numbers=local.emergency_numbers,
        )
