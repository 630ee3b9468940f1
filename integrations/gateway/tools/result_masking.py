"""Masking rules applied to tool results and audit rows (MCP-GATEWAY.md M26).

Staff set rules per environment, tenant admins add their own per tenant:
email addresses, phone numbers, the value of named fields, or a custom
pattern, for every tool or one. Custom patterns are bounded (length, no
nested repetition, no back-references) so that a rule cannot make a tool
call hang on backtracking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from re import _constants as sre_constants
from re import _parser as sre_parse
from typing import Any

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Digits with optional +country, brackets, spaces, dots or dashes; at least 7
# digits and not an ISO date or time (see `_phone`).
PHONE = re.compile(r"(?<![\w.-])\+?\(?\d[\d ().-]{5,22}\d(?![\w-])")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
MASK_EMAIL = "[email masked]"
MASK_PHONE = "[phone masked]"
MASK_TEXT = "[masked]"
MAX_PATTERN = 200
MAX_DEPTH = 12
# Longer strings are cut before custom patterns run; the rest is masked.
MAX_SCAN = 20_000


@dataclass(frozen=True)
class RuleSet:
    """What to mask for one tenant and tool."""

    emails: bool = False
    phones: bool = False
    fields: frozenset[str] = frozenset()
    patterns: tuple[re.Pattern, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return self.emails or self.phones or bool(self.fields or self.patterns)


def pattern_problem(pattern: str) -> str | None:
    """Return why a custom pattern is refused, or None if it is safe to run."""
    if not pattern or len(pattern) > MAX_PATTERN:
        return f"A pattern has 1 to {MAX_PATTERN} characters."
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        return f"Not a valid regular expression: {exc}."
    if _unsafe(parsed, inside_repeat=False):
        return (
            "Repetition inside repetition and back-references are not allowed "
            "(they can take exponential time)."
        )
    if re.compile(pattern).fullmatch(""):
        return "The pattern matches empty text."
    return None


def _unsafe(parsed, *, inside_repeat: bool) -> bool:
    for op, arg in parsed:
        if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            return True
        if op in (
            sre_constants.MAX_REPEAT,
            sre_constants.MIN_REPEAT,
            sre_constants.POSSESSIVE_REPEAT,
        ):
            low, high, sub = arg
            repeats = high is sre_constants.MAXREPEAT or high > 1
            if repeats and inside_repeat:
                return True
            if _unsafe(sub, inside_repeat=inside_repeat or repeats):
                return True
        elif op == sre_constants.SUBPATTERN:
            if _unsafe(arg[-1], inside_repeat=inside_repeat):
                return True
        elif op == sre_constants.BRANCH:
            if any(_unsafe(item, inside_repeat=inside_repeat) for item in arg[1]):
                return True
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT) and _unsafe(
            arg[1], inside_repeat=inside_repeat
        ):
            return True
    return False


def ruleset_from(rules) -> RuleSet:
    """Return the RuleSet of MaskingRule rows (already narrowed to a tool)."""
    kinds = {rule.kind for rule in rules}
    return RuleSet(
        emails="email" in kinds,
        phones="phone" in kinds,
        fields=frozenset(
            rule.value.strip().lower() for rule in rules if rule.kind == "field"
        ),
        patterns=tuple(
            re.compile(rule.value)
            for rule in rules
            if rule.kind == "pattern" and pattern_problem(rule.value) is None
        ),
    )


def mask_value(value: Any, rules: RuleSet, depth: int = 0) -> Any:
    """Return a copy of a JSON-like value with every rule applied.

    Strings anywhere (dict values, list items, at any depth) are masked;
    a named field's value is masked whole, whatever its type.
    """
    if not rules:
        return value
    if depth > MAX_DEPTH:
        return MASK_TEXT
    if isinstance(value, dict):
        return {
            key: (
                MASK_TEXT
                if str(key).lower() in rules.fields and value[key] not in (None, "")
                else mask_value(item, rules, depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_value(item, rules, depth + 1) for item in value]
    if isinstance(value, str):
        return mask_text(value, rules)
    return value


def mask_text(text: str, rules: RuleSet) -> str:
    """Return text with emails, phone numbers and custom patterns masked."""
    if len(text) > MAX_SCAN:
        text = text[:MAX_SCAN] + MASK_TEXT
    if rules.emails:
        text = EMAIL.sub(MASK_EMAIL, text)
    if rules.phones:
        text = PHONE.sub(_phone, text)
    for pattern in rules.patterns:
        text = pattern.sub(MASK_TEXT, text)
    return text


def _phone(match: re.Match) -> str:
    found = match.group(0)
    digits = sum(char.isdigit() for char in found)
    if not 7 <= digits <= 15 or ISO_DATE.search(found) or IPV4.fullmatch(found):
        return found
    return MASK_PHONE
