"""Message bodies for the hotline: built from a template id and parameters, stored as JSON,
and rendered in each reader's language by ``truceline.i18n``.

While a language's catalogue is missing (it is built from the template registry), a body
renders in the template's English text, marked ``en``, rather than failing the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from truceline.i18n import FreeText, Rendered, Text, body_from_json, body_to_json, render_body
from truceline.i18n.languages import is_rtl
from truceline.i18n.render import format_value
from truceline.i18n.templates import get_template


def template_body(template_id: str, **params: object) -> dict[str, Any]:
    """The JSON body of an automatic message (params are checked against the template)."""
    return body_to_json(Rendered(template_id, params))


def free_body(text: str, language: str) -> dict[str, Any]:
    """The JSON body of a message a person wrote in ``language`` (never translated)."""
    return body_to_json(FreeText(text, language))


def _english(template_id: str, params: Mapping[str, object]) -> str:
    template = get_template(template_id)
    message = template.message_for(params)
    text = message.singular
    if message.plural is not None and template.plural is not None and params[template.plural] != 1:
        text = message.plural
    values = {p.name: format_value(p, params[p.name], "en") for p in template.params}
    return text.format(**values)


def render_text(body: Mapping[str, Any], language: str) -> Text:
    """``body`` (as stored) for a reader of ``language`` (one of the ten)."""
    parsed = body_from_json(body)
    try:
        return render_body(parsed, language)
    except OSError:
        # A missing catalogue file: English from the registry itself.
        assert isinstance(parsed, Rendered)
        return Text(_english(parsed.template_id, parsed.params), "en", is_rtl("en"))
