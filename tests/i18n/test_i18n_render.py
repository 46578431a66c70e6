"""Rendering: every template in every language, plural forms, locale numbers and dates,
parameter errors, free text kept as written, and the JSON form of a body."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from babel import Locale
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st
from i18n_samples import SAMPLE_TIME, params_strategy, sample_params, variants

from truceline.domain.party import LANGUAGES
from truceline.errors import ValidationError
from truceline.i18n import (
    TEMPLATES,
    FreeText,
    Measure,
    Rendered,
    Text,
    body_from_json,
    body_to_json,
    render,
    render_body,
)

FSI, PDI = "\u2068", "\u2069"
CASES = [(t.id, v) for t in TEMPLATES.values() for v in variants(t)]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("template_id", "choice"), CASES)
def test_every_template_renders_in_every_language(template_id, choice, language):
    template = TEMPLATES[template_id]
    params = sample_params(template, choice)
    text = render(template_id, params, language)
    assert "{" not in text and "}" not in text
    for p in template.params:
        if p.kind == "text":
            assert str(params[p.name]) in text  # ids and names as written
    if language != "en":
        assert text != render(template_id, params, "en")


def test_choice_selects_the_wording():
    t = TEMPLATES["conflict.zone"]
    forbidden = render(t.id, sample_params(t, "forbidden"), "en")
    notice = render(t.id, sample_params(t, "notice"), "en")
    assert "forbidden" in forbidden and "prior notice" in notice
    assert "запрещён" in render(t.id, sample_params(t, "forbidden"), "ru")
    assert "уведомления" in render(t.id, sample_params(t, "notice"), "ru")


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_any_valid_parameters_render_everywhere(data):
    template = data.draw(st.sampled_from(list(TEMPLATES.values())))
    params = data.draw(params_strategy(template))
    for language in LANGUAGES:
        text = render(template.id, params, language)
        for p in template.params:
            if p.kind == "text":
                assert params[p.name] in text


COUNTS = (0, 1, 2, 3, 5, 11, 21, 100, 101)


def refused(n: int, language: str) -> str:
    return render("operation.refused", {"operation": "op-1", "party": "Blue", "conflicts": n}, language)


def test_russian_plurals():
    words = ["конфликтов", "конфликт", "конфликта", "конфликта", "конфликтов",
             "конфликтов", "конфликт", "конфликтов", "конфликт"]  # fmt: skip
    for n, word in zip(COUNTS, words, strict=True):
        assert refused(n, "ru").endswith(f"устранить {n} {word}."), n


def test_ukrainian_plurals():
    words = ["конфліктів", "конфлікт", "конфлікти", "конфлікти", "конфліктів",
             "конфліктів", "конфлікт", "конфліктів", "конфлікт"]  # fmt: skip
    for n, word in zip(COUNTS, words, strict=True):
        assert refused(n, "uk").endswith(f"усунути {n} {word}."), n


def test_english_plurals():
    for n in COUNTS:
        expected = f"{n} conflict must" if n == 1 else f"{n} conflicts must"
        assert expected in refused(n, "en"), n


def test_japanese_has_one_form():
    for n in COUNTS:
        assert f"{n} 件の競合" in refused(n, "ja")
    assert len({refused(n, "ja").replace(f" {n} ", " # ") for n in COUNTS}) == 1


def test_arabic_plurals():
    # zero, one (word "one"), two (dual), few 3-10 (plural), many 11-99 (accusative), other 100+
    expected = {
        0: f"{FSI}0{PDI} تعارض قبل",
        1: "تعارض واحد",
        2: "تعارضَين",
        3: f"{FSI}3{PDI} تعارضات",
        5: f"{FSI}5{PDI} تعارضات",
        11: f"{FSI}11{PDI} تعارضًا",
        21: f"{FSI}21{PDI} تعارضًا",
        100: f"{FSI}100{PDI} تعارض قبل",
        101: f"{FSI}101{PDI} تعارض قبل",
    }
    for n, phrase in expected.items():
        assert phrase in refused(n, "ar"), n


def test_plural_follows_the_named_count():
    # zone.signed: the plural follows the signatures required, not those collected.
    base = {"zone": "z1", "zone_name": "Alpha", "party": "Blue", "version": 2}
    assert render("zone.signed", {**base, "signed": 1, "required": 3}, "ru").endswith(
        "получено 1 из 3 необходимых подписей."
    )
    assert render("zone.signed", {**base, "signed": 1, "required": 1}, "en").endswith(
        "1 of 1 required signature."
    )


def operation_conflict(language: str) -> str:
    params = {
        "operation": "op-7", "party": "Blue", "other_operation": "op-9", "other_party": "Red",
        "start": SAMPLE_TIME, "end": SAMPLE_TIME + timedelta(hours=2),
        "lower_m": 1200, "upper_m": 3500.4, "area_km2": 12.5,
    }  # fmt: skip
    return render("conflict.operation", params, language)


def test_numbers_follow_the_locale():
    assert "1,200 m" in operation_conflict("en") and "12.5 km²" in operation_conflict("en")
    assert "1.200 m" in operation_conflict("de") and "12,5 km²" in operation_conflict("de")
    # French: narrow no-break spaces between digit groups and before the unit
    assert "12,5\u202fkm²" in operation_conflict("fr") and "1\u202f200\u202fm" in operation_conflict("fr")
    assert "1\u00a0200 м" in operation_conflict("ru")
    assert "1,200米" in operation_conflict("zh-CN")


def test_arabic_digits_are_what_cldr_says():
    # CLDR (Babel 2.18) gives `ar` the Latin numbering system by default; Arabic-Indic
    # digits (٠-٩) belong to ar with -u-nu-arab. We follow CLDR and check both facts.
    assert Locale.parse("ar").default_numbering_system == "latn"
    assert format_decimal(1200, locale="ar") == "1,200"
    text = operation_conflict("ar")
    assert f"{FSI}1,200 متر{PDI}" in text
    assert f"{FSI}12.5 كم²{PDI}" in text
    assert not re.search("[\u0660-\u0669\u06f0-\u06f9]", text)


def test_measures_round_to_their_precision():
    # altitudes to the metre, areas to 0.01 km²
    assert "3,500 m" in operation_conflict("en")
    text = render("conflict.operation", {**_conflict_params(), "area_km2": 0.123456}, "en")
    assert "0.12 km²" in text


def _conflict_params() -> dict[str, object]:
    return sample_params(TEMPLATES["conflict.operation"])


def test_distance_unit_is_the_callers_choice():
    base = {"track": "T1", "party": "Blue", "other_track": "T2", "other_party": "Red", "time_to_los_s": 45}
    assert "3.2 nmi" in render("alert.tactical", {**base, "distance": Measure(3.2, "NM")}, "en")
    assert "5.9 km" in render("alert.tactical", {**base, "distance": Measure(5.93, "km")}, "en")
    assert "45 sec" in render("alert.tactical", {**base, "distance": Measure(1, "km")}, "en")


def test_dates_follow_the_locale_in_utc():
    assert "March 4, 2025, 1:05:00\u202fPM UTC" in operation_conflict("en")
    assert "4. März 2025, 13:05:00 UTC" in operation_conflict("de")
    assert "4 марта 2025\u202fг., 13:05:00 UTC" in operation_conflict("ru")
    assert "2025年3月4日 13:05:00 UTC" in operation_conflict("ja")
    assert "4 مارس 2025" in operation_conflict("ar")


def test_other_offsets_are_shown_in_utc():
    kyiv = datetime(2025, 3, 4, 15, 5, tzinfo=timezone(timedelta(hours=2)))
    text = render("message.reminder", {"message": "m1", "deadline": kyiv}, "en")
    assert text == "Reminder: message m1 awaits your acknowledgement by March 4, 2025, 1:05:00\u202fPM UTC."


def test_free_text_in_a_rendered_message_stays_as_written():
    reason = "Граница проходит по реке, а не по дороге."
    params = {"zone": "z1", "zone_name": "Alpha", "party": "Red", "version": 2, "reason": reason}
    for language in LANGUAGES:
        assert reason in render("zone.rejected", params, language)


def test_arabic_isolates_inserted_values():
    text = render("zone.withdrawn", {"zone": "z-1", "zone_name": "Alpha", "party": "Blue"}, "ar")
    assert f"{FSI}Blue{PDI}" in text and f"{FSI}z-1{PDI}" in text
    assert FSI not in render("zone.withdrawn", {"zone": "z-1", "zone_name": "Alpha", "party": "Blue"}, "en")


# --- errors -------------------------------------------------------------------------------


def field_of(call) -> str | None:
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.field


def test_missing_parameter_is_named():
    params = sample_params(TEMPLATES["zone.expired"])
    del params["end"]
    assert field_of(lambda: render("zone.expired", params, "en")) == "end"


def test_extra_parameter_is_named():
    params = {**sample_params(TEMPLATES["zone.expired"]), "colour": "red"}
    assert field_of(lambda: render("zone.expired", params, "en")) == "colour"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("conflicts", -1),
        ("conflicts", True),
        ("conflicts", 2.0),
        ("party", ""),
        ("party", 7),
    ],
)
def test_ill_typed_parameter_is_named(name, value):
    params = {"operation": "op-1", "party": "Blue", "conflicts": 2, name: value}
    assert field_of(lambda: render("operation.refused", params, "en")) == name


def test_ill_typed_measures_and_datetimes_are_named():
    base = sample_params(TEMPLATES["alert.tactical"])
    assert field_of(lambda: render("alert.tactical", {**base, "distance": 3.2}, "en")) == "distance"
    wrong_unit = {**base, "distance": Measure(3.2, "m")}
    assert field_of(lambda: render("alert.tactical", wrong_unit, "en")) == "distance"
    nan = {**base, "time_to_los_s": float("nan")}
    assert field_of(lambda: render("alert.tactical", nan, "en")) == "time_to_los_s"
    naive = {"message": "m1", "deadline": datetime(2025, 3, 4, 13, 5)}
    assert field_of(lambda: render("message.reminder", naive, "en")) == "deadline"
    zone = {**sample_params(TEMPLATES["conflict.zone"]), "entry": "maybe"}
    assert field_of(lambda: render("conflict.zone", zone, "en")) == "entry"
    assert field_of(lambda: Measure(1.0, "ft")) == "unit"


def test_unknown_template_and_language_are_named():
    assert field_of(lambda: render("zone.teleported", {}, "en")) == "template"
    params = sample_params(TEMPLATES["zone.expired"])
    assert field_of(lambda: render("zone.expired", params, "it")) == "language"
    assert field_of(lambda: render("zone.expired", params, "zh")) == "language"


# --- bodies -------------------------------------------------------------------------------


def test_free_text_is_never_translated():
    body = FreeText("Підтверджуємо отримання. Колона пройде о 14:00.", "uk")
    for language in LANGUAGES:
        assert render_body(body, language) == Text(body.text, "uk", False)
    assert render_body(FreeText("نؤكد الاستلام.", "ar"), "en") == Text("نؤكد الاستلام.", "ar", True)
    assert render_body(FreeText("קיבלנו.", "he"), "ru").rtl  # any CLDR language, not only the ten


def test_free_text_needs_text_and_a_known_language():
    assert field_of(lambda: FreeText("  ", "en")) == "text"
    assert field_of(lambda: FreeText("hello", "not a tag")) == "language"
    assert field_of(lambda: FreeText("hello", "qq")) == "language"


def test_rendered_body_follows_the_reader():
    body = Rendered("zone.withdrawn", {"zone": "z1", "zone_name": "Alpha", "party": "Blue"})
    assert render_body(body, "en") == Text(
        "Blue has withdrawn zone Alpha (z1); it no longer applies.", "en", False
    )
    ar = render_body(body, "ar")
    assert ar.language == "ar" and ar.rtl and "Alpha" in ar.text
    assert field_of(lambda: render_body(body, "xx")) == "reader_language"


def test_rendered_checks_parameters_when_built():
    assert field_of(lambda: Rendered("zone.withdrawn", {"zone": "z1", "zone_name": "Alpha"})) == "party"


@pytest.mark.parametrize(("template_id", "choice"), CASES)
def test_json_round_trip(template_id, choice):
    body = Rendered(template_id, sample_params(TEMPLATES[template_id], choice))
    data = json.loads(json.dumps(body_to_json(body)))
    again = body_from_json(data)
    assert again == body
    assert render_body(again, "uk") == render_body(body, "uk")


def test_json_round_trip_of_free_text_and_bare_measures():
    free = FreeText("Принято.", "ru")
    assert body_from_json(json.loads(json.dumps(body_to_json(free)))) == free
    body = Rendered("conflict.operation", {**_conflict_params(), "lower_m": 1200})
    data = body_to_json(body)
    assert data["params"]["lower_m"] == {"value": 1200, "unit": "m"}
    assert data["params"]["start"] == "2025-03-04T13:05:00Z"
    assert body_from_json(data) == body


def test_json_errors_are_named():
    assert field_of(lambda: body_from_json({"kind": "poem"})) == "kind"
    data = body_to_json(Rendered("message.reminder", {"message": "m1", "deadline": SAMPLE_TIME}))
    soon = {**data, "params": {"message": "m1", "deadline": "soon"}}
    assert field_of(lambda: body_from_json(soon)) == "deadline"
    bad_measure = body_to_json(Rendered("conflict.operation", _conflict_params()))
    bad_measure["params"]["area_km2"] = {"value": 1, "unit": "acre"}
    assert field_of(lambda: body_from_json(bad_measure)) == "area_km2.unit"
    extra = {**data, "params": {**data["params"], "colour": "red"}}
    assert field_of(lambda: body_from_json(extra)) == "colour"


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_json_round_trip_of_any_body(data):
    template = data.draw(st.sampled_from(list(TEMPLATES.values())))
    body = Rendered(template.id, data.draw(params_strategy(template)))
    assert body_from_json(json.loads(json.dumps(body_to_json(body)))) == body


def test_utc_datetimes_only_compare_equal_after_the_round_trip():
    # A +02:00 datetime comes back as the same instant in UTC.
    kyiv = datetime(2025, 3, 4, 15, 5, tzinfo=timezone(timedelta(hours=2)))
    body = Rendered("message.reminder", {"message": "m1", "deadline": kyiv})
    again = body_from_json(body_to_json(body))
    assert again.params["deadline"] == kyiv and again.params["deadline"].tzinfo == UTC


def test_labels_follow_the_reader_language():
    from truceline.i18n import label

    assert label("deadline", "en") == "deadline (UTC)"
    assert label("deadline", "fr") == "échéance (UTC)"
    assert label("priority", "ru") == "приоритет"
    assert label("state", "ar") == "الحالة"


def test_an_unknown_label_or_language_is_refused():
    from truceline.i18n import label

    with pytest.raises(ValidationError) as error:
        label("colour", "en")
    assert error.value.field == "label"
    with pytest.raises(ValidationError) as error:
        label("priority", "xx")
    assert error.value.field == "language"
