"""truceline db: the schema's migrations (docs/operations.md)."""

from __future__ import annotations

from typing import Any

import typer

from truceline.cli.common import DbOption
from truceline.cli.rendering import HELP_MARKUP, console, guarded

db_app = typer.Typer(
    help="The database schema: bring a database made by an older version up to date.",
    no_args_is_help=True,
    rich_markup_mode=HELP_MARKUP,
)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Run the schema migrations the database lacks (nothing stored is lost); a database
    made before migrations existed is recognised. Other commands refuse an old schema."""
    from truceline.store.database import database_url, default_url, open_engine, reaching, shown_url
    from truceline.store.migrate import upgrade

    url = database_url(db) if db else guarded(default_url)
    engine = guarded(lambda: open_engine(url))

    def run() -> Any:
        with reaching(url):
            return upgrade(engine)

    result = guarded(run)
    engine.dispose()
    if not result.changed:
        console.print(f"{shown_url(url)}: already at revision {result.after}.", markup=False)
    else:
        before = "new database" if result.created else (result.before or "before migrations")
        console.print(f"{shown_url(url)}: upgraded from {before} to revision {result.after}.", markup=False)
