"""truceline log: the ledger's export, offline verification and proofs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from truceline.cli.common import DbOption, open_register_or_fail
from truceline.cli.rendering import (
    HELP_MARKUP,
    console,
    fail,
    guarded,
    print_json,
)
from truceline.domain.clock import utc_now
from truceline.errors import TrucelineError

log_app = typer.Typer(
    help="The ledger: export it, verify an export offline, print inclusion and consistency proofs.",
    no_args_is_help=True,
    rich_markup_mode=HELP_MARKUP,
)
EXIT_VERIFY_FAILED = 1


def open_ledger_or_fail(db: str | None) -> tuple[Any, Any]:
    """(engine, Ledger) for ``--db`` / TRUCELINE_DB, with the log key from the keys dir next to it."""
    register = open_register_or_fail(db)
    return register.engine, register.ledger


@log_app.command("export")
def log_export(
    directory: Annotated[Path, typer.Argument(help="Folder to write entries.jsonl and sth.json into.")],
    db: DbOption = None,
) -> None:
    """Write the whole log (entries.jsonl) and a signed tree head for it (sth.json)."""
    from truceline.ledger import export_log

    engine, ledger = open_ledger_or_fail(db)
    with engine.connect() as conn:
        sth = guarded(lambda: export_log(conn, ledger, directory, utc_now()))
    console.print(f"Exported {sth.tree_size} entries to {directory}; root {sth.root_hash.hex()}")


@log_app.command("verify")
def log_verify(
    directory: Annotated[Path, typer.Argument(help="Folder holding entries.jsonl and sth.json.")],
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="An older sth.json of the same log that this one must extend."),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="The log's public key, as `truceline log public-key` prints it (base64), "
            "or a file holding it: the export must be signed by this key.",
        ),
    ] = None,
) -> None:
    """Verify an export from its files alone (no database, no server).

    Without --key the key sth.json names is trusted (and printed): a history rewritten and
    re-signed with another key is caught only by --key or --previous.

    Exit code 0: verified; 1: verification failed (the first bad entry and why on stderr);
    2: unreadable input.
    """
    from truceline.errors import VerificationError
    from truceline.ledger import fingerprint, verify_export
    from truceline.ledger.keys import parse_public_key

    pinned = guarded(lambda: parse_public_key(read_key_argument(key), field="--key")) if key else None
    try:
        sth = verify_export(directory, previous, key=pinned)
    except VerificationError as error:
        fail(error, EXIT_VERIFY_FAILED)
    except TrucelineError as error:
        fail(error)
    except OSError as error:
        fail(f"{error.filename}: {error.strerror}")
    extends = f"; extends the previous head of {previous}" if previous else ""
    console.print(f"OK: {sth.tree_size} entries, root {sth.root_hash.hex()}{extends}", markup=False)
    if pinned is not None:
        console.print(f"Signed by the pinned key {fingerprint(sth.public_key)}.", markup=False)
    else:
        console.print(
            f"Trusted the key sth.json names: {fingerprint(sth.public_key)}, not pinned "
            "(pass --key with the log's public key to pin it).",
            markup=False,
        )


def read_key_argument(value: str) -> str:
    """``value`` itself (base64), or the text of the file it names."""
    path = Path(value)
    return path.read_text(encoding="utf-8") if path.is_file() else value


@log_app.command("prove")
def log_prove(
    index: Annotated[int, typer.Argument(help="Sequence number of the entry.")],
    size: Annotated[int | None, typer.Option("--size", help="Tree size [default: the whole log].")] = None,
    db: DbOption = None,
) -> None:
    """Print an inclusion proof of entry N (RFC 9162 2.1.3) as JSON, with a signed tree head."""
    from truceline.ledger.proofs import InclusionProof

    engine, ledger = open_ledger_or_fail(db)
    with engine.connect() as conn:

        def prove() -> InclusionProof:
            tree_size = ledger.size(conn) if size is None else size
            proof = ledger.inclusion_proof(conn, index, tree_size)
            entry = ledger.entry(conn, index)
            sth = ledger.signed_tree_head(conn, utc_now(), tree_size)
            return InclusionProof(
                leaf_index=index,
                tree_size=tree_size,
                leaf_hash=entry.leaf_hash,
                inclusion_path=tuple(proof),
                entry=entry.canonical,
                root_hash=sth.root_hash,
                sth=sth,
            )

        print_json(guarded(prove).to_json())


@log_app.command("consistency")
def log_consistency(
    size1: Annotated[int, typer.Argument(help="The older tree size M.")],
    size2: Annotated[int, typer.Argument(help="The newer tree size N.")],
    db: DbOption = None,
) -> None:
    """Print a consistency proof between tree sizes M and N (RFC 9162 2.1.4) as JSON."""
    from truceline.ledger.proofs import ConsistencyProof

    engine, ledger = open_ledger_or_fail(db)
    with engine.connect() as conn:

        def prove() -> ConsistencyProof:
            proof = ledger.consistency_proof(conn, size1, size2)
            sth = ledger.signed_tree_head(conn, utc_now(), size2)
            return ConsistencyProof(
                tree_size_1=size1,
                tree_size_2=size2,
                consistency_path=tuple(proof),
                root_hash_1=ledger.root(conn, size1),
                root_hash_2=sth.root_hash,
                sth=sth,
            )

        print_json(guarded(prove).to_json())


@log_app.command("verify-proof")
def log_verify_proof(
    file: Annotated[Path, typer.Argument(help="A proof from `truceline log prove` or `log consistency`.")],
    key: Annotated[
        str | None,
        typer.Option("--key", help="The log's public key (base64, or a file holding it): the tree head "
                     "in the proof must be signed by it."),
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="An older sth.json you kept: a consistency proof must start "
                     "from its root."),
    ] = None,
) -> None:
    """Verify a saved inclusion or consistency proof from the file alone (RFC 9162 2.1.3.2,
    2.1.4.2); proofs saved before the field names followed RFC 9162 are read too.

    Exit code 0: verified; 1: verification failed (why on stderr); 2: unreadable input.
    """
    import json

    from truceline.errors import FormatError, VerificationError
    from truceline.ledger import SignedTreeHead
    from truceline.ledger.keys import parse_public_key
    from truceline.ledger.proofs import ConsistencyProof, InclusionProof

    pinned = guarded(lambda: parse_public_key(read_key_argument(key), field="--key")) if key else None

    def load() -> tuple[InclusionProof | ConsistencyProof, SignedTreeHead | None]:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise FormatError(f"is not JSON: {error}", where=str(file)) from None
        older = SignedTreeHead.load(previous) if previous else None
        # An inclusion proof names its leaf; a consistency proof names two tree sizes.
        kind = InclusionProof if isinstance(data, dict) and "leaf_hash" in data else ConsistencyProof
        try:
            return kind.from_json(data), older
        except FormatError as error:
            raise error.located(str(file)) from None

    bundle, older = guarded(load)
    try:
        if isinstance(bundle, InclusionProof):
            bundle.verify(public_key=pinned)
            said = f"entry {bundle.leaf_index} is in the tree of {bundle.tree_size} entries"
        else:
            root1 = None
            if older is not None:
                older.verify(pinned)
                if older.tree_size != bundle.tree_size_1:
                    raise VerificationError(
                        f"is for {older.tree_size} entries, the proof starts from {bundle.tree_size_1}",
                        field="--previous",
                    )
                root1 = older.root_hash
            bundle.verify(root_hash_1=root1, public_key=pinned)
            said = f"the tree of {bundle.tree_size_2} entries extends that of {bundle.tree_size_1}"
    except VerificationError as error:
        fail(error, EXIT_VERIFY_FAILED)
    from truceline.ledger import fingerprint

    head = bundle.sth
    signed = "" if head is None else f"; tree head signed by {fingerprint(head.public_key)}"
    if head is not None:
        signed += " (the pinned key)" if pinned is not None else " (not pinned: pass --key)"
    console.print(f"OK: {said}{signed}.", markup=False)


@log_app.command("verify-receipt")
def log_verify_receipt(
    file: Annotated[Path, typer.Argument(help="A receipt the register answered with (e.g. an incident's).")],
    key: Annotated[
        str | None,
        typer.Option("--key", help="The log's public key (base64, or a file holding it): the receipt "
                     "must be signed by it."),
    ] = None,
) -> None:
    """Verify a receipt from the file alone: the entry is in the signed tree at the index it
    names, and the log signed the entry itself (docs/incidents.md).

    Exit code 0: verified; 1: verification failed (why on stderr); 2: unreadable input.
    """
    from truceline.errors import VerificationError
    from truceline.ledger import fingerprint
    from truceline.ledger.keys import parse_public_key
    from truceline.ledger.receipts import Receipt, verify_receipt

    pinned = guarded(lambda: parse_public_key(read_key_argument(key), field="--key")) if key else None
    receipt = guarded(lambda: Receipt.load(file))
    try:
        entry = verify_receipt(receipt, pinned)
    except VerificationError as error:
        fail(error, EXIT_VERIFY_FAILED)
    head = receipt.proof.sth
    assert head is not None
    pinned_text = " (the pinned key)" if pinned is not None else " (not pinned: pass --key)"
    console.print(
        f"OK: entry {entry.seq} ({entry.type}, {entry.time.isoformat()}) is in the tree of "
        f"{receipt.proof.tree_size} entries; signed by {fingerprint(head.public_key)}{pinned_text}.",
        markup=False,
    )


@log_app.command("public-key")
def log_public_key(db: DbOption = None) -> None:
    """Print the log's Ed25519 public key (base64 of the raw 32 bytes)."""
    from truceline.ledger.canonical import b64encode

    _engine, ledger = open_ledger_or_fail(db)
    sys.stdout.write(b64encode(ledger.public_key) + "\n")


@log_app.command("rebuild")
def log_rebuild(db: DbOption = None) -> None:
    """Verify the log, then recreate every projection (parties, zones, operations,
    conflicts) from its entries alone."""
    register = open_register_or_fail(db)
    with register.engine.connect() as conn:
        guarded(lambda: register.ledger.verify(conn))
    count = guarded(register.rebuild)
    console.print(
        f"Rebuilt the projections from {count} verified entries: {len(register.parties())} parties, "
        f"{len(register.zones())} zones, {len(register.operations())} operations, "
        f"{len(register.conflicts())} conflicts."
    )


