"""Country names and codes, in English, French, German or Spanish -> ISO 3166 alpha-2.

Built once from pycountry's data and translations. Matching ignores case, accents, dots and
surrounding spaces, so "Deutschland", "ALLEMAGNE", "Alemania", "DE" and "DEU" all give "DE".
"""

from __future__ import annotations

import gettext
import unicodedata

import pycountry

LANGUAGES = ("fr", "de", "es")

# Names HR systems write that are in none of pycountry's name fields.
_EXTRA_NAMES = {
    "uk": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "great britain": "GB",
    "usa": "US",
    "u.s.a.": "US",
    "u.s.": "US",
    "united states of america": "US",
    "america": "US",
    "south korea": "KR",
    "north korea": "KP",
    "russia": "RU",
    "vietnam": "VN",
    "czech republic": "CZ",
    "holland": "NL",
    "ivory coast": "CI",
    "turkey": "TR",
}


def fold(text: str) -> str:
    """Lower case, no accents, no dots, single spaces: how names are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.replace(".", " ").split())


def _build() -> dict[str, str]:
    translations = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        for language in LANGUAGES
    ]
    names: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        english = [
            getattr(country, attribute, None)
            for attribute in ("name", "official_name", "common_name")
        ]
        for name in english:
            if not name:
                continue
            names.setdefault(fold(name), code)
            for translation in translations:
                names.setdefault(fold(translation.gettext(name)), code)
    for name, code in _EXTRA_NAMES.items():
        names.setdefault(fold(name), code)
    # Codes last and over names: "IN" is India, not the word.
    for country in pycountry.countries:
        names[country.alpha_2.lower()] = country.alpha_2
        names[country.alpha_3.lower()] = country.alpha_2
    return names


_BY_NAME = _build()


def country_code(text: str) -> str | None:
    """The ISO 3166 alpha-2 code of a country name or code, or None when it is none."""
    return _BY_NAME.get(fold(text))
