"""Language negotiation (Accept-Language, then the party's setting, then English) and
text direction."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.domain.party import LANGUAGES
from truceline.errors import ValidationError
from truceline.i18n import BABEL_LOCALES, is_rtl, negotiate


@pytest.mark.parametrize(
    ("header", "party", "expected"),
    [
        ("uk, ru;q=0.8", None, "uk"),
        ("ru;q=0.8, uk", None, "uk"),  # q-values, not order, decide
        ("ru;q=0.8, uk;q=0.8", None, "ru"),  # ties keep the header's order
        ("zh-Hans-CN", None, "zh-CN"),
        ("zh", None, "zh-CN"),
        ("zh_CN", None, "zh-CN"),
        ("zh-TW", "en", "zh-CN"),
        ("pt-BR,pt;q=0.9,en;q=0.5", None, "pt"),
        ("EN-gb", None, "en"),
        ("es-419", None, "es"),
        ("ar-EG;q=0.5, xx;q=0.9", None, "ar"),
        ("it, nl;q=0.9", "fr", "fr"),  # nothing acceptable: the party's setting
        ("it", None, "en"),  # and then English
        (None, "ja", "ja"),
        ("", "de", "de"),
        (None, None, "en"),
        ("de;q=0", "ja", "ja"),  # q=0 means "not this one"
        ("de;q=0, ru;q=0.1", None, "ru"),
        ("*", "uk", "uk"),  # the wildcard leaves the choice to the party's setting
        ("en;q=abc, fr", None, "fr"),  # malformed items are skipped
        ("en;q=1.5, fr;q=0.3", None, "fr"),  # so are q-values out of range
        (" , ;q=1, de ", None, "de"),
    ],
)
def test_negotiate(header, party, expected):
    assert negotiate(header, party) == expected


def test_party_language_must_be_one_of_the_ten():
    with pytest.raises(ValidationError) as error:
        negotiate("de", "it")
    assert error.value.field == "party_language"


@settings(max_examples=200, deadline=None)
@given(header=st.one_of(st.none(), st.text(max_size=60)), party=st.sampled_from([None, *LANGUAGES]))
def test_negotiate_always_answers_one_of_the_ten(header, party):
    assert negotiate(header, party) in LANGUAGES


@settings(max_examples=100, deadline=None)
@given(language=st.sampled_from(LANGUAGES), q=st.floats(min_value=0.001, max_value=1.0))
def test_a_single_acceptable_language_wins_over_the_party_setting(language, q):
    assert negotiate(f"{language};q={q:.3f}", "en" if language != "en" else "fr") == language


def test_only_arabic_is_right_to_left():
    assert [lang for lang in LANGUAGES if is_rtl(lang)] == ["ar"]
    with pytest.raises(ValidationError) as error:
        is_rtl("he")
    assert error.value.field == "language"


def test_every_language_has_a_babel_locale():
    assert set(BABEL_LOCALES) == set(LANGUAGES)
    assert BABEL_LOCALES["zh-CN"] == "zh_Hans_CN"
