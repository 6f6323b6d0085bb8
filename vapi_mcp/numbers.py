"""Phone numbers as the guard reads them: one resolver for every rule, the settings and the tools.

`resolve` reads a number once; everything that decides about a number (the E.164 rule, the
number and country lists, quiet hours, the free-number rule) uses that reading, whatever
`numberE164CheckEnabled` says. `normalized` is the E.164 form the tools send to Vapi.

This module needs only `phonenumbers` and the standard library, so settings can use it
without loading the guard or the MCP SDK.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, ValidationResult

RELAXED_NUMBER = re.compile(r"^\+?[a-zA-Z0-9]{3,40}$")
"""Vapi's rule for `number` when `numberE164CheckEnabled` is false (the document's `/^\\+?[a-zA-Z0-9]+$/`, 3-40 long)."""

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212.()/\[\]]")
"""What people put between digits: any space (no-break, thin...), hyphens and dashes, dots, brackets, slashes."""
_INTERNATIONAL_PREFIXES = ("00", "011")
"""Dialled before a country code instead of `+` (most of the world, and North America)."""
ASK_THE_USER = "Ask the user for the real number with its country code (E.164, like +14155550123); never guess or change digits."


def clean(text: str) -> str:
    """The number without its formatting: `tel:+1 (415) 555-0123`, full-width `＋１４１５…` -> `+14155550123`."""
    text = unicodedata.normalize("NFKC", text).strip()  # full-width digits and plus, no-break and thin spaces
    if text[:4].lower() == "tel:":
        text = text[4:].split(";", 1)[0]  # RFC 3966 parameters (;ext=, ;phone-context=) are not the number
    text = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)  # other digit scripts
    return _SEPARATORS.sub("", text)


@dataclass(frozen=True)
class Resolved:
    """One number as given, and what it is: the reading every rule uses."""

    given: str
    e164_check: bool = True
    number: PhoneNumber | None = None
    """The international reading when it is a valid number, else None."""
    explicit: bool = False
    """Written internationally (`+`, or a 00/011 prefix): only then is its country known."""
    problem: str | None = None
    """Why the E.164 rule refuses it (None: it passes)."""
    unknown: str | None = None
    """For a destination without a number (a SIP address, a customer by id): what it is."""

    @property
    def e164(self) -> str | None:
        return phonenumbers.format_number(self.number, phonenumbers.PhoneNumberFormat.E164) if self.number else None

    @property
    def key(self) -> str:
        """What the number lists compare: the E.164 reading, else the digits as given."""
        return self.e164 or clean(self.given)

    @property
    def region(self) -> str | None:
        """The ISO region ('US', 'GB', '001' for non-geographic numbers) when the country is known."""
        if self.number is None or not self.explicit:
            return None
        return phonenumbers.region_code_for_number(self.number)

    @property
    def calling_code(self) -> int | None:
        return self.number.country_code if self.number is not None and self.explicit else None

    @property
    def country(self) -> str | None:
        """'+44 GB' when the country is known, else None."""
        code = self.calling_code
        if code is None:
            return None
        region = self.region
        return f"+{code} {region}" if region and region != "001" else f"+{code} (international)"

    @property
    def shown(self) -> str:
        """The number as the human sees it: E.164 when that is what is sent, else exactly as given."""
        if self.unknown is not None:
            return self.unknown
        if self.e164_check and self.e164:
            return self.e164
        return self.given

    @property
    def why_country_unknown(self) -> str:
        if self.unknown is not None:
            return f"{self.unknown} is not a phone number"
        if self.number is None:
            return f"{self.given} is not a valid phone number"
        return f"{self.given} has no + or 00 prefix, so it may be dialled as a national number of any country"


def resolve(text: str, e164_check: bool = True) -> Resolved:
    """Read a number once: as given, with digits without `+` tried as international (a 00/011 prefix dropped)."""
    cleaned = clean(text)
    if e164_check:
        if not cleaned.startswith("+"):
            reading, _ = _international(cleaned)
            guess = f" (read as international it would be {reading}; only the user can confirm that)" if reading else ""
            return Resolved(text, True, problem=f"{text!r} has no + and country code, so it is not E.164{guess}. {ASK_THE_USER}")
        number, problem = _parse(cleaned, text)
        return Resolved(text, True, number, explicit=True, problem=problem)
    problem = None
    if not RELAXED_NUMBER.match(text):
        problem = (
            f"{text!r} must contain only letters and digits (3 to 40), optionally after a + (Vapi's rule when "
            "numberE164CheckEnabled is false: no spaces or punctuation)."
        )
    digits = keypad(cleaned[1:] if cleaned.startswith("+") else cleaned)
    explicit = cleaned.startswith("+") or digits.startswith(_INTERNATIONAL_PREFIXES)
    _, number = _international(digits)
    return Resolved(text, False, number, explicit=explicit and number is not None, problem=problem)


def keypad(text: str) -> str:
    """Letters as a phone's keypad dials them (`1415555CALL` -> `14155552255`): a carrier may dial a relaxed number's letters."""
    return phonenumbers.convert_alpha_characters_in_number(text) if any(ch.isalpha() for ch in text) else text


def possible_numbers(reading: Resolved, regions: Iterable[str]) -> set[str]:
    """Every E.164 number a call to `reading` may ring: its international reading and, for digits written
    without their country (E.164 check off, no `+`/00/011), their national reading in each of `regions`:
    a SIP trunk dials `4155550123` as a national number of its own country (+1 415... in the US)."""
    found = {reading.e164} if reading.e164 else set()
    cleaned = clean(reading.given) if reading.unknown is None else ""
    if not cleaned or reading.explicit or cleaned.startswith("+"):
        return found
    digits = keypad(cleaned)
    for region in regions:
        try:
            national = phonenumbers.parse(digits, region)
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(national):
            found.add(phonenumbers.format_number(national, phonenumbers.PhoneNumberFormat.E164))
    return found | abroad(digits)


def abroad(digits: str) -> set[str]:
    """Every E.164 number `digits` may dial as an international number: after the international prefix of any country
    (a trunk in Australia dials `0011 1 212...`, in Japan `010 1 212...`, in Russia `810 1 212...`), or after any
    leading zeros. A number written without its country is denied when any reading is listed, so each one counts."""
    rests = {digits.lstrip("0")}
    for pattern in _international_prefixes():
        rests.update(digits[i:] for i in range(1, min(len(digits), 8)) if pattern.fullmatch(digits[:i]))
    found = set()
    for rest in rests:
        if not rest.isdigit() or len(rest) < 7:
            continue
        try:
            number = phonenumbers.parse("+" + rest, None)
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            found.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return found


@functools.lru_cache(maxsize=1)
def _international_prefixes() -> tuple[re.Pattern[str], ...]:
    """The international dialling prefixes of every country, as phonenumbers' metadata writes them (regular expressions)."""
    patterns = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is not None and metadata.international_prefix:
            patterns.add(metadata.international_prefix)
    return tuple(re.compile(pattern) for pattern in sorted(patterns))


def premium_rate(reading: Resolved) -> bool:
    """A premium-rate number (+1 900, +44 9..., +33 89...): each minute is billed at a rate its operator sets."""
    return reading.number is not None and phonenumbers.number_type(reading.number) == phonenumbers.PhoneNumberType.PREMIUM_RATE


def premium_rate_regions(reading: Resolved) -> tuple[str, ...]:
    """Where a number written without its country (E.164 check off, no `+`/00/011) is a premium-rate number when
    dialled as a national number there (`9005550123`: US and the rest of +1; `09098790000`: GB...); a SIP trunk
    dials it as a national number of its own country, so any of them may be the one that rings."""
    if reading.e164_check or reading.unknown is not None or reading.explicit:
        return ()
    digits = keypad(clean(reading.given)).lstrip("+")
    return _premium_national(digits) if digits.isdigit() else ()


@functools.lru_cache(maxsize=8192)
def _premium_national(digits: str) -> tuple[str, ...]:
    found = []
    for region, pattern, prefix in _premium_patterns():
        national = digits[len(prefix) :] if prefix and digits.startswith(prefix) else digits
        if not (pattern.fullmatch(national) or pattern.fullmatch(digits)):
            continue  # a quick test first: a full parse in each of ~150 regions would cost milliseconds per number
        try:
            parsed = phonenumbers.parse(digits, region)
        except NumberParseException:
            continue
        if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.PREMIUM_RATE:
            found.append(region)
    return tuple(found)


@functools.cache
def _premium_patterns() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """(region, its premium-rate national number pattern, its national prefix) for every region that has premium-rate numbers."""
    from phonenumbers import PhoneMetadata

    table = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        metadata = PhoneMetadata.metadata_for_region(region)
        desc = metadata.premium_rate if metadata is not None else None
        if metadata is None or desc is None or not desc.national_number_pattern:
            continue
        table.append((region, re.compile(desc.national_number_pattern), metadata.national_prefix or ""))
    return tuple(table)


_SIP_USER = re.compile(r"^\+?\d{2,40}$")


def sip_user(uri: str) -> str | None:
    """The user part of a SIP address when it is written like a phone number (`sip:911@trunk`, `sips:+1900...@host;user=phone`):
    the trunk behind it dials those digits, so the number rules read them."""
    text = unquote(uri).strip()
    scheme, sep, rest = text.partition(":")
    if sep and scheme.lower() in ("sip", "sips", "tel"):
        text = rest
    user = text.rsplit("@", 1)[0] if "@" in text else text
    user = clean(user.split(";", 1)[0].split(":", 1)[0])  # parameters, and a password after `user:`
    return user if _SIP_USER.match(user) else None


_SIP_ROUTING = frozenset({"maddr", "transport", "ttl", "lr", "method", "user", "port", "comp", "sigcomp-id", "gr", "ob"})
"""SIP URI parameters that route the request, never name a number (RFC 3261 and its extensions)."""
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?$")


def sip_numbers(uri: str) -> list[str]:
    """Every number a SIP address holds where a trunk may read it: its user part (`sip_user`), and the values of its
    parameters and headers written like a number (`;phone-context=+1212...`, `?To=%2B1212...`, `?X-Dial=<sip:+1212...@h>`):
    a trunk may route by a header, and the number rules read each of them."""
    found = [user] if (user := sip_user(uri)) else []
    text = unquote(uri).strip()
    for piece in re.split(r"[;?&]", text)[1:]:
        name, _, value = piece.partition("=")
        value = value.strip().strip("<>\"' ")
        if not value or name.strip().lower() in _SIP_ROUTING or _IPV4.match(value):
            continue
        inner = sip_user(value) if ":" in value else None
        candidate = inner or clean(value.split("@", 1)[0])
        if _SIP_USER.match(candidate) and candidate not in found:
            found.append(candidate)
    return found


def emergency_regions(reading: Resolved) -> list[str]:
    """The regions where a short number written as given (E.164 check off: `911`, `112`, `999`) reaches emergency services."""
    if reading.e164_check or reading.unknown is not None or reading.explicit:
        return []
    digits = keypad(clean(reading.given)).lstrip("+")
    if not digits.isdigit() or len(digits) > 6:  # emergency numbers are short codes
        return []
    from phonenumbers import shortnumberinfo

    return [region for region in sorted(phonenumbers.SUPPORTED_SHORT_REGIONS) if shortnumberinfo.is_emergency_number(digits, region)]


def regions_of(numbers: Iterable[str]) -> frozenset[str]:
    """The region of each of these E.164 numbers (`+14155550123` -> US): where a trunk dials it as a national number."""
    regions: set[str] = set()
    for number in numbers:
        reading = resolve(number)
        region = phonenumbers.region_code_for_number(reading.number) if reading.number is not None else None
        if region and region not in ("ZZ", "001"):
            regions.add(region)
    return frozenset(regions)


def unresolved(what: str) -> Resolved:
    """A destination that carries no phone number (a SIP address, a customer by id): it has no country."""
    return Resolved(what, True, unknown=what)


def normalized(text: str) -> str | None:
    """The E.164 form of a valid number written with `+` (any formatting), else None."""
    reading = resolve(text)
    return reading.e164 if reading.problem is None else None


def _international(digits: str) -> tuple[str | None, PhoneNumber | None]:
    """Digits read as an international number (after a 00/011 prefix): its E.164 form and parse, if valid."""
    for prefix in _INTERNATIONAL_PREFIXES:
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    if not digits.isdigit():
        return None, None
    try:
        number = phonenumbers.parse("+" + digits, None)
    except NumberParseException:
        return None, None
    if not phonenumbers.is_valid_number(number):
        return None, None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), number


def _parse(cleaned: str, given: str) -> tuple[PhoneNumber | None, str | None]:
    """The parsed number if valid, else why not (what is wrong, and what to do)."""
    what = f"{given!r} is not a valid phone number"
    try:
        number = phonenumbers.parse(cleaned, None)
    except NumberParseException as exc:
        reasons = {
            NumberParseException.INVALID_COUNTRY_CODE: "its country code is unknown",
            NumberParseException.TOO_SHORT_NSN: "it is too short",
            NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short",
            NumberParseException.TOO_LONG: "it is too long",
        }
        reason = reasons.get(exc.error_type, "it is not a phone number")
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE and cleaned[1:].isdigit():
            reason = f"+{cleaned[1:4]} (and every shorter start of it) is not a country calling code"
        return None, f"{what}: {reason}. {ASK_THE_USER}"
    if phonenumbers.is_valid_number(number):
        return number, None
    return None, f"{what}: {_why_invalid(number)}. {ASK_THE_USER}"


def _why_invalid(number: PhoneNumber) -> str:
    code = number.country_code
    regions = [r for r in phonenumbers.region_codes_for_country_code(code or 0) if r != "ZZ"]
    if not regions:
        return f"+{code} is not a country calling code"
    where = f"+{code} ({'/'.join(regions[:3])}{'...' if len(regions) > 3 else ''})"
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == ValidationResult.INVALID_COUNTRY_CODE:
        return f"+{code} is not a country calling code"
    if reason == ValidationResult.TOO_SHORT:
        return f"it is too short for a {where} number"
    if reason == ValidationResult.TOO_LONG:
        return f"it is too long for a {where} number"
    if reason == ValidationResult.INVALID_LENGTH:
        return f"it has the wrong number of digits for a {where} number"
    if reason == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        return "it is a local number without its area code"
    national = phonenumbers.national_significant_number(number)
    if code == 1:
        area = national[:3]
        if area[0] in "01":
            return f"area code {area} does not exist (North American area codes never start with 0 or 1)"
        if not _area_code_in_use(area):
            return f"area code {area} is not assigned"
        return f"area code {area} exists, but {national[3:6]} is not an exchange in use there"
    return f"no {where} numbers start like this (no such area code or number range)"


def _area_code_in_use(area: str) -> bool:
    """Whether any North American number in `area` is valid (a few exchanges probed)."""
    exchanges = ("201", "212", "234", "300", "345", "456", "500", "555", "600", "678", "789", "800", "865", "987")
    return any(phonenumbers.is_valid_number(phonenumbers.parse(f"+1{area}{x}1234", None)) for x in exchanges)


# the settings' country entries


def country_entry(entry: str) -> str:
    """A country setting as the rules compare it: a calling code ('44') or an ISO region ('GB'); ValueError if neither."""
    text = entry.strip()
    code = text.lstrip("+")
    if code.isdigit():
        if not [r for r in phonenumbers.region_codes_for_country_code(int(code)) if r != "ZZ"]:
            raise ValueError(f"{entry!r} is not a country calling code")
        return str(int(code))
    region = text.upper()
    if region in phonenumbers.SUPPORTED_REGIONS:
        return region
    if region == "UK":
        raise ValueError(f"{entry!r} is not an ISO region code: the United Kingdom is GB (calling code 44)")
    three = " (a 3-letter code; the rules take the 2-letter ISO 3166 code)" if len(region) == 3 and region.isalpha() else ""
    raise ValueError(f"{entry!r} is neither a country calling code (like 44) nor a 2-letter ISO region (like GB){three}")


def country_label(entry: str) -> str:
    """'+44 GB' style, for the policy printout: a calling code with its regions, or a region with its code."""
    if entry.isdigit():
        regions = [r for r in phonenumbers.region_codes_for_country_code(int(entry)) if r not in ("ZZ", "001")]
        return f"+{entry} {'/'.join(regions[:4])}{'/...' if len(regions) > 4 else ''}".rstrip() if regions else f"+{entry}"
    return f"+{phonenumbers.country_code_for_region(entry)} {entry}"


def in_countries(reading: Resolved, entries: tuple[str, ...]) -> bool:
    """True when the number's (known) country is one of `entries` (calling codes or regions, as `country_entry` gives)."""
    code, region = reading.calling_code, reading.region
    if code is None:
        return False
    return any(entry == str(code) or entry == region for entry in entries)
