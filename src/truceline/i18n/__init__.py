"""Messages in the ten reader languages: templates, gettext catalogues, negotiation.

See docs/i18n.md. The public surface:

- ``render(template_id, params, language)``: one automatic message in one language;
- ``Rendered``, ``FreeText``, ``render_body(body, reader_language) -> Text``;
- ``negotiate(accept_language_header, party_language)``, ``is_rtl(language)``;
- ``TEMPLATES`` (the registry), ``Measure`` (a number with a unit);
- ``label(label_id, language)``: a column header of the CLI's tables (``labels.LABELS``).
"""

from truceline.i18n.languages import BABEL_LOCALES, DEFAULT_LANGUAGE, is_rtl, negotiate
from truceline.i18n.render import (
    FreeText,
    MessageBody,
    Rendered,
    Text,
    body_from_json,
    body_to_json,
    label,
    render,
    render_body,
)
from truceline.i18n.templates import TEMPLATES, Kind, Measure, Param, Template, get_template

__all__ = [
    "BABEL_LOCALES",
    "DEFAULT_LANGUAGE",
    "TEMPLATES",
    "FreeText",
    "Kind",
    "Measure",
    "MessageBody",
    "Param",
    "Rendered",
    "Template",
    "Text",
    "body_from_json",
    "body_to_json",
    "get_template",
    "is_rtl",
    "label",
    "negotiate",
    "render",
    "render_body",
]
