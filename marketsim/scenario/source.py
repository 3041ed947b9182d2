"""Read YAML into plain data, remembering where every key and value was written.

PyYAML's composer gives nodes with positions; the constructor would lose them. So the
tree is built here from the nodes: mappings and lists by hand (to keep positions, refuse
duplicate keys and bound alias expansion), scalars by PyYAML's safe constructor. Nothing
but plain data is ever constructed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml
from yaml.composer import Composer, ComposerError

from marketsim.core.errors import Problem, ScenarioError, show

MAX_BYTES = 2 * 1024 * 1024
"""Largest scenario file read: far above any real scenario, far below trouble."""

MAX_ALIAS_NODES = 100_000
"""Nodes that alias expansion may add, so "billion laughs" files fail fast."""

MAX_DEPTH = 100
"""Deepest nesting of mappings and lists; scenarios need a handful of levels."""

Path = tuple[str | int, ...]

_MAP, _SEQ, _STR, _MERGE = (f"tag:yaml.org,2002:{t}" for t in ("map", "seq", "str", "merge"))


class Location(NamedTuple):
    """A 1-based position in a named source (a file, or `--set` for overrides)."""

    file: str
    line: int
    col: int


@dataclass(frozen=True)
class Document:
    """Plain data read from YAML, with where each value (and mapping key) was written."""

    name: str
    data: Any
    values: dict[Path, Location]
    keys: dict[Path, Location]
    label: str = "id"
    """The key that names a list item in dotted paths (`id` in scenarios)."""

    def locate(self, path: Path, *, key: bool = False) -> Location:
        """Where `path` was written (its key if asked), else its nearest written ancestor."""
        if key and path in self.keys:
            return self.keys[path]
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, Location(self.name, 1, 1))

    def dotted(self, path: Path) -> str:
        """`channels.tv.budget`: list items by their id where they have one, else by index."""
        names, node = [], self.data
        for part in path:
            child = _child(node, part)
            has_id = isinstance(node, list) and isinstance(child, dict)
            label = child.get(self.label) if has_id else None
            names.append(label if isinstance(label, str) else str(part))
            node = child
        return ".".join(names)

    def problem(self, path: Path, message: str, *, key: bool = False) -> Problem:
        """A problem at `path`, located where it was written."""
        return Problem(*self.locate(path, key=key), self.dotted(path), message)


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def read_document(path: str | os.PathLike[str], what: str = "scenario") -> Document:
    """Read a scenario (or another `what`) file: refuse oversize or non-UTF-8 files first."""
    name = os.fspath(path)

    def refuse(message: str, line: int = 1, col: int = 1) -> ScenarioError:
        return ScenarioError([Problem(name, line, col, "", message)])

    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
            size = os.fstat(f.fileno()).st_size
    except OSError as e:
        raise refuse(f"cannot read the file: {e.strerror}") from None
    if len(raw) > MAX_BYTES:
        found = _mib(size) if size > MAX_BYTES else f"more than {_mib(MAX_BYTES)}"
        raise refuse(f"expected a file of at most {_mib(MAX_BYTES)}, found {found}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line_start = raw.rfind(b"\n", 0, e.start) + 1
        raise refuse(
            f"expected UTF-8 text, found byte 0x{raw[e.start]:02x}",
            raw.count(b"\n", 0, e.start) + 1,
            e.start - line_start + 1,
        ) from None
    return parse_document(text, name, what)


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def parse_document(text: str, name: str, what: str = "scenario") -> Document:
    """Parse a whole scenario (or `what`): it must be one non-empty YAML mapping."""
    doc = parse_yaml(text, name)
    if not doc.values:  # not even an explicit null
        problem = Problem(name, 1, 1, "", f"expected a {what} mapping, found an empty file")
        raise ScenarioError([problem])
    if not isinstance(doc.data, dict):
        message = f"expected a mapping of {what} keys at the top level, found {show(doc.data)}"
        raise ScenarioError([doc.problem((), message)])
    return doc


def parse_yaml(text: str, name: str, line: int = 1, col: int = 1) -> Document:
    """Parse any YAML text that starts at `line`:`col` of source `name`.

    An empty text gives a document with no data and no positions.
    """

    def at(mark: yaml.Mark) -> Location:
        if mark.line > text.count("\n"):  # libyaml puts the end of text without "\n" past it
            mark = _mark(text, len(text))
        return Location(name, line + mark.line, (col if mark.line == 0 else 1) + mark.column)

    def refuse(mark: yaml.Mark, message: str) -> ScenarioError:
        return ScenarioError([Problem(*at(mark), "", message)])

    # Checked here, not by the parser: libyaml reports the offset in bytes, not characters.
    bad = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if bad:
        message = f"invalid YAML: character #x{ord(bad.group()):04x} is not allowed"
        raise refuse(_mark(text, bad.start()), message)
    loader = _Loader(text)
    builder = _Builder(loader, at)
    data = None
    try:
        root = loader.get_single_node()
        if root is not None:
            builder.check_aliases(root)
            data = builder.build(root, ())
    except yaml.MarkedYAMLError as e:
        context = ""
        if e.context and e.context_mark:
            context = f" ({e.context} at line {line + e.context_mark.line})"
        raise refuse(
            e.problem_mark or e.context_mark, f"invalid YAML: {e.problem}{context}"
        ) from None
    finally:
        loader.dispose()
    return Document(name, data, builder.values, builder.keys)


def _mark(text: str, index: int) -> yaml.Mark:
    """The mark of a character index in `text`."""
    before = text[:index]
    return yaml.Mark("", index, before.count("\n"), len(before.rsplit("\n")[-1]), None, None)


def _short(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


# libyaml scans and parses several times faster; composing stays in Python to see aliases.
_BASES = (Composer, yaml.CSafeLoader) if yaml.__with_libyaml__ else (yaml.SafeLoader,)


class _Loader(*_BASES):
    """Composer that bounds nesting and makes each alias a copy at the alias's position.

    Plain PyYAML hands back the anchor's node itself, which loses where the alias was
    written: the place to blame when its expansion blows up.
    """

    def __init__(self, text: str) -> None:
        _BASES[-1].__init__(self, text)
        Composer.__init__(self)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if self._depth >= MAX_DEPTH:
            message = f"expected nesting at most {MAX_DEPTH} deep, found deeper"
            raise ComposerError(None, None, message, event.start_mark)
        self._depth += 1
        node = super().compose_node(parent, index)
        self._depth -= 1
        if not isinstance(event, yaml.AliasEvent):
            return node
        alias = type(node)(node.tag, node.value, event.start_mark, event.end_mark)
        alias.anchor = event.anchor
        return alias


class _Builder:
    """Turns a node graph into plain data plus positions, expanding aliases on a budget."""

    def __init__(self, loader: _Loader, at: Callable[[yaml.Mark], Location]) -> None:
        self.values: dict[Path, Location] = {}
        self.keys: dict[Path, Location] = {}
        self._loader = loader
        self._at = at
        self._ids: dict[Path, str] = {}  # list items' ids, to name them in paths
        self._sizes: dict[int, int] = {}  # nodes in each collection, counted through aliases
        self._expanded = 0

    def _refuse(self, node: yaml.Node, path: Path, message: str) -> ScenarioError:
        dotted = ".".join(self._ids.get(path[: i + 1], str(p)) for i, p in enumerate(path))
        return ScenarioError([Problem(*self._at(node.start_mark), dotted, message)])

    def check_aliases(self, node: yaml.Node, path: Path = ()) -> None:
        """Charge each alias its full expansion before building anything: bombs fail fast."""
        if hasattr(node, "anchor"):
            self._expanded += self._size(node, node, path, frozenset())
            if self._expanded > MAX_ALIAS_NODES:
                message = f"expected aliases to expand to at most {MAX_ALIAS_NODES:,} nodes, "
                raise self._refuse(node, path, message + "found more (an alias bomb?)")
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                if isinstance(item, yaml.MappingNode):
                    for key, value in item.value:
                        if key.value == "id" and value.tag == _STR:
                            self._ids[(*path, i)] = value.value
                self.check_aliases(item, (*path, i))
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.check_aliases(key, path)
                self.check_aliases(value, (*path, key.value) if key.tag == _STR else path)

    def build(self, node: yaml.Node, path: Path) -> Any:
        """Build `node` at `path`, recording where it and its keys were written."""
        self.values[path] = self._at(node.start_mark)
        return self._build(node, path)

    def _build(self, node: yaml.Node, path: Path) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        raise self._refuse(node, path, f"unsupported YAML tag '{_short(node.tag)}'")

    def _size(self, node: yaml.Node, alias: yaml.Node, path: Path, within: frozenset[int]) -> int:
        """Nodes an alias expands to, computed once per collection before building any."""
        if isinstance(node, yaml.ScalarNode):
            return 1
        key = id(node.value)
        if key in within:
            message = f"alias *{alias.anchor} refers to a node that contains it"
            raise self._refuse(alias, path, message)
        if key not in self._sizes:
            pairs = node.value if isinstance(node, yaml.MappingNode) else [node.value]
            children = [child for pair in pairs for child in pair]
            within |= {key}
            self._sizes[key] = 1 + sum(self._size(c, alias, path, within) for c in children)
        return self._sizes[key]

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        if node.tag not in self._loader.yaml_constructors:
            raise self._refuse(node, path, f"unsupported YAML tag '{_short(node.tag)}'")
        try:
            return self._loader.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError, AttributeError):
            kind = node.tag.rsplit(":", 1)[-1]
            message = f"expected a valid {kind}, found {node.value!r}"
            raise self._refuse(node, path, message) from None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        data: dict[Any, Any] = {}
        for key_node, value_node in node.value:  # merged keys first: explicit keys win
            if key_node.tag == _MERGE:
                data.update(self._merge(value_node, path))
        written: dict[Any, Location] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._refuse(key_node, path, "expected a plain key")
            key = self._scalar(key_node, path)
            if key in written:
                message = f"duplicate key {show(key)}, already given on line {written[key].line}"
                raise self._refuse(key_node, (*path, key), message)
            written[key] = self.keys[(*path, key)] = self._at(key_node.start_mark)
            data[key] = self.build(value_node, (*path, key))
        return data

    def _merge(self, node: yaml.Node, path: Path) -> dict[Any, Any]:
        """Keys of a `<<` merge: earlier mappings in a merged list win, as in PyYAML."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[Any, Any] = {}
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                raise self._refuse(source, path, "expected a mapping to merge with '<<'")
            merged.update(self._build(source, path))
        return merged
