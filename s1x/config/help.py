"""The config part of ``python -m s1x.run --help``: every user-facing group and option, one line each.

Read from the config files themselves, so the help follows them: a group's
line is its comment in the defaults list of ``conf/config.yaml`` (the table of
contents), an option's line is the first line of its YAML header comment (the
convention every option follows: a one-line summary, then the details). Options
come from ``conf/<group>/``, ``sweeps/`` and ``launchers/hydra/launcher/``.
Left out: ``schema/*`` (the typed schemas options extend, in the ConfigStore
only), the ``*_setting`` pair groups (Hydra picks them from ``method`` /
``selection`` / ``pool`` and ``setting``) and ``local`` (your cluster file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = ROOT / "conf"
HIDDEN_GROUPS = ("method_setting", "selection_setting", "pool_setting", "local")
# Groups whose options live outside conf/.
OTHER_DIRS = {"sweeps": ROOT / "sweeps", "hydra/launcher": ROOT / "launchers" / "hydra" / "launcher"}
# hydra/launcher is not in the defaults list (Hydra's own default, basic, stays): its line is here.
OTHER_GROUPS = {"hydra/launcher": ("where the cells of a multirun run (launchers/README.md)", ["basic"])}
BUILTIN_OPTIONS = {"hydra/launcher": {"basic": "Hydra's own launcher: the cells one after another in this process."}}
_ENTRY = re.compile(r"^\s+-\s+(?:optional\s+)?(?P<group>[\w/]+)\s*:\s*(?P<value>\[[^\]]*\]|\S+)\s*(?:#\s*(?P<doc>.*))?$")


@dataclass
class Group:
    """One config group as the help shows it."""

    name: str
    doc: str
    defaults: list[str]
    options: dict[str, str]  # option -> its one-line summary ("" when the file has no header)


def option_summary(path: Path) -> str:
    """The first line of a YAML option's header comment (after a ``# @package`` line)."""
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            return ""
        text = line.lstrip("#").strip()
        if text and not text.startswith("@package"):
            return text
    return ""


def defaults_list(config: Path = CONF_DIR / "config.yaml") -> dict[str, tuple[str, list[str]]]:
    """``group -> (its comment, its default options)`` from the defaults list of ``config``."""
    out, inside = {}, False
    for line in config.read_text().splitlines():
        if line.startswith("defaults:"):
            inside = True
            continue
        if inside and line and not line.startswith((" ", "#")):
            break
        m = _ENTRY.match(line) if inside else None
        if m and "$" not in m["value"]:  # ${method}_${setting}: a pair group, picked by Hydra
            value = m["value"].strip("[]")
            defaults = [] if value == "null" else [v.strip() for v in value.split(",") if v.strip()]
            out[m["group"]] = ((m["doc"] or "").strip(), defaults)
    return out


def user_groups() -> list[Group]:
    """The user-facing groups in table-of-contents order, each with every option and its summary."""
    listed = {**defaults_list(), **OTHER_GROUPS}
    groups = []
    for name, (doc, defaults) in listed.items():
        folder = OTHER_DIRS.get(name, CONF_DIR / name)
        if name in HIDDEN_GROUPS or not folder.is_dir():
            continue
        options = dict(BUILTIN_OPTIONS.get(name, {}))
        options.update({p.stem: option_summary(p) for p in sorted(folder.glob("*.yaml"))})
        groups.append(Group(name, doc, defaults, dict(sorted(options.items()))))
    return groups


def groups_help() -> str:
    """The ``== Config groups ==`` section of ``--help``."""
    lines = ["== Config groups: group=option (* = default) =="]
    for g in user_groups():
        lines += ["", f"{g.name}: {g.doc}"]
        width = max(len(o) + 2 for o in g.options)
        for option, summary in g.options.items():
            name = option + (" *" if option in g.defaults else "")
            lines.append(f"  {name:<{width}}  {summary}")
    # Hydra fills its help template with string.Template: a literal $ must be doubled.
    return "\n".join(lines).replace("$", "$$")
