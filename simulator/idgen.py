"""Deterministic ids for the synthetic organisation: the same seed gives the same ids, run after run."""

from __future__ import annotations

import base64
import random
import uuid


def rule_id(rng: random.Random) -> str:
    """An inbox rule id in Graph's shape (base64 of 8 bytes), drawn from the builder's random stream."""
    return base64.b64encode(rng.getrandbits(64).to_bytes(8, "big")).decode()


def fixed_uuid(*parts: str) -> str:
    """A uuid fixed by its parts, for objects added without drawing from the random stream (earlier ids keep)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "idaudit-sim:" + ":".join(parts)))


def fixed_rule_id(*parts: str) -> str:
    """An inbox rule id fixed by its parts (see fixed_uuid)."""
    return base64.b64encode(uuid.uuid5(uuid.NAMESPACE_URL, ":".join(parts)).bytes[:8]).decode()
