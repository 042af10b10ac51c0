"""Reading definition files from disk: the only I/O in the rules package."""

from __future__ import annotations

from pathlib import Path

import yaml

from divert.rules.definition import DefinitionError, ProgrammeDefinition
from divert.rules.schema import definition_from_dict


def load_definition(path: str | Path) -> ProgrammeDefinition:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise DefinitionError(source, [("", f"cannot be read ({error.strerror})")]) from None
    return parse_definition(text, source)


def parse_definition(text: str, source: str = "<upload>") -> ProgrammeDefinition:
    """A definition from YAML text (a file's, or what an administrator pasted), every problem at once."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise DefinitionError(source, [("", f"is not valid YAML{line}")]) from None
    return definition_from_dict(data, source=source)


def load_directory(path: str | Path) -> list[ProgrammeDefinition]:
    """Every definition in a directory, checked together so versions of one programme cannot contradict."""
    files = sorted(p for p in Path(path).iterdir() if p.suffix in (".yaml", ".yml"))
    definitions = [load_definition(file) for file in files]
    problems: list[tuple[str, str]] = []
    seen: dict[tuple[str, object], ProgrammeDefinition] = {}
    for definition in definitions:
        for key, what in (
            ((definition.code, definition.version), "version"),
            ((definition.code, definition.effective_from), "effective_from"),
        ):
            earlier = seen.get(key)
            if earlier is not None:
                problems.append(
                    (
                        what,
                        f"'{definition.code}' {what} {key[1]} is in both {earlier.source} "
                        f"and {definition.source}",
                    )
                )
            seen[key] = definition
    for definition in definitions:
        for other in definitions:
            if (
                other.code == definition.code
                and other.version > definition.version
                and other.effective_from < definition.effective_from
            ):
                problems.append(
                    (
                        "effective_from",
                        f"'{definition.code}' version {other.version} ({other.source}) takes effect before "
                        f"version {definition.version} ({definition.source})",
                    )
                )
    if problems:
        raise DefinitionError(str(path), problems)
    return sorted(definitions, key=lambda d: (d.code, d.version))
