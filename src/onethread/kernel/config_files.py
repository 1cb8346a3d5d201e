"""Configuration files: one way to read a YAML file and check it, with errors that name the file,
the line and the field.

``load_text`` parses YAML into plain dicts and lists that remember the line of each entry
(``Marked``/``MarkedList``); a key given twice is refused. ``validate`` checks the parsed data with a
Pydantic model and turns the first problem into a ``ConfigError`` pointing at the line of the bad
field. ``error_at`` gives the same kind of error for checks made after validation (a time zone that
does not exist, say). Every capability's policy and table files go through here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

M = TypeVar("M", bound=BaseModel)

# Strict (YAML "yes" is not true, 5 is not "5") and closed (an unknown key is an error).
STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)


class ConfigError(ValueError):
    """A configuration file that does not follow its schema; the message names file, line and field."""

    def __init__(self, source_name: str, line: int | None, message: str, field: str | None = None):
        where = f"{source_name}, line {line}" if line else source_name
        super().__init__(f"{where}: {message}")
        self.source_name, self.line, self.detail, self.field = source_name, line, message, field


class Marked(dict[Any, Any]):
    """A YAML mapping that knows its own line, the line of each of its values and of each key
    (``key_lines``: not ``keys``, which would hide the mapping's own ``keys()``)."""

    line: int = 0
    lines: dict[Any, int]
    key_lines: dict[Any, int]


class MarkedList(list[Any]):
    """A YAML sequence that knows its own line and the line of each item."""

    line: int = 0
    lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Marked:
    loader.flatten_mapping(node)
    result = Marked()
    result.line, result.lines, result.key_lines = node.start_mark.line + 1, {}, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ConfigError(loader.name, key_node.start_mark.line + 1, f"'{key}' is given twice", str(key))
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = value_node.start_mark.line + 1
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> MarkedList:
    result = MarkedList(loader.construct_object(item, deep=True) for item in node.value)
    result.line, result.lines = node.start_mark.line + 1, [item.start_mark.line + 1 for item in node.value]
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


@contextmanager
def _yaml_errors(source_name: str) -> Iterator[None]:
    try:
        yield
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(source_name, mark.line + 1 if mark else None, f"not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(source_name, None, f"not valid YAML: {exc}") from exc


def load_text(text: str, source_name: str) -> Any:
    """The YAML document in ``text``, its mappings and sequences marked with their lines."""
    loader = _Loader(text)
    loader.name = source_name
    try:
        with _yaml_errors(source_name):
            return loader.get_single_data()
    finally:
        loader.dispose()


def compose(text: str, source_name: str) -> yaml.Node | None:
    """The YAML node tree of ``text``, for a file whose words are read as written ("no" stays a word);
    ``scalar`` gives a node's ordinary value."""
    with _yaml_errors(source_name):
        return yaml.compose(text, Loader=yaml.SafeLoader)


def scalar(node: yaml.Node) -> Any:
    """A scalar node's value as YAML reads it (``true`` a boolean, ``3`` a number)."""
    return yaml.SafeLoader("").construct_object(node) if isinstance(node, yaml.ScalarNode) else node


def read(path: str | Path) -> tuple[Any, str]:
    """A file's marked YAML and the name its errors use (the path)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(file), None, f"cannot read it ({exc.strerror or exc})") from exc
    return load_text(text, str(file)), str(file)


def line_of(data: Any, path: tuple[Any, ...]) -> int | None:
    """The line of the entry at ``path``; for a missing entry, the line of the key that should hold it."""
    line = getattr(data, "line", None) or None
    node, key_line = data, None
    for part in path:
        if isinstance(node, Marked) and part in node:
            key_line, line, node = node.key_lines.get(part), node.lines.get(part, line), node[part]
        elif isinstance(node, MarkedList) and isinstance(part, int) and 0 <= part < len(node):
            key_line, line, node = None, node.lines[part], node[part]
        else:
            return key_line if node is not data and key_line else line
    return line


def field_name(path: tuple[Any, ...]) -> str:
    """``("rules", 0, "when")`` -> ``rules[0].when``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def error_at(source_name: str, data: Any, path: tuple[Any, ...], message: str) -> ConfigError:
    """An error about the entry at ``path``, with its line and ``field: message``."""
    name = field_name(path)
    return ConfigError(source_name, line_of(data, path), f"{name}: {message}" if name else message, name or None)


def _unwrap(kind: Any) -> Any:
    """``X | None`` and ``Annotated[X, ...]`` -> ``X``."""
    while get_origin(kind) is Annotated or get_origin(kind) is Union or isinstance(kind, UnionType):
        args = [a for a in get_args(kind) if a is not type(None)]
        kind = args[0] if args else None
    return kind


def _model_at(model: Any, path: tuple[Any, ...]) -> Any:
    """What holds the entry at ``path`` (a model, through dict and list values), or None."""
    kind = model
    for part in path:
        kind = _unwrap(kind)
        fields = getattr(kind, "model_fields", None)
        if fields is not None:
            kind = fields[part].annotation if part in fields else None
        elif get_origin(kind) in (dict, list):
            kind = get_args(kind)[-1]
        else:
            return None
    return _unwrap(kind)


def _message(error: ErrorDetails, model: Any = None) -> str:
    kind, text = error["type"], error["msg"]
    if kind == "missing":
        return "is missing"
    if kind == "extra_forbidden":
        known = [name for name in getattr(model, "model_fields", {})]
        return f"is not a known entry (known: {', '.join(known)})" if known else "is not a known entry"
    if kind == "value_error":
        return str((error.get("ctx") or {}).get("error", text))
    return text[:1].lower() + text[1:]


def validate(model: type[M], data: Any, source_name: str) -> M:
    """``data`` checked by ``model``; the first problem as a ``ConfigError`` at its line."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        # Union members and the like add parts that are not keys of the file: keep those that are.
        path = tuple(p for p in error["loc"] if isinstance(p, int) or not str(p).startswith(("function-", "list[")))
        parent = _model_at(model, path[:-1])
        raise error_at(source_name, data, path, _message(error, parent)) from None


def load(model: type[M], path: str | Path) -> M:
    """The file at ``path``, read and checked by ``model``."""
    data, name = read(path)
    return validate(model, data, name)
