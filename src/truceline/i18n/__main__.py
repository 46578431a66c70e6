"""Maintainer commands for the catalogues (see docs/i18n.md):

python -m truceline.i18n pot      # rewrite locales/truceline.pot from the template registry
python -m truceline.i18n update   # the same, then merge it into every .po (new entries empty)
python -m truceline.i18n check    # exit 1 if the .pot or a .po is out of date
"""

from __future__ import annotations

import sys

from truceline.i18n import catalogues


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "pot":
        catalogues.POT_PATH.write_bytes(catalogues.pot_bytes())
        return 0
    if command == "update":
        catalogues.update()
        return 0
    if command == "check":
        stale = catalogues.stale_files()
        for path in stale:
            print(f"{path}: out of date; run python -m truceline.i18n update")
        return 1 if stale else 0
    print("usage: python -m truceline.i18n pot|update|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
