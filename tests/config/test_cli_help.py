"""``python -m s1x.run --help``: every option of every user-facing group in one line, nothing stale."""

import re
import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from conftest import CONF, ROOT
from s1x.config import help as cli_help
from s1x.progress import LINE_INTERVAL_S

# Written here, not read from cli_help: what a user may pick, and where its options live.
USER_GROUPS = {
    "pool": CONF / "pool", "selection": CONF / "selection", "model": CONF / "model", "sft": CONF / "sft",
    "distributed": CONF / "distributed", "method": CONF / "method", "benchmark": CONF / "benchmark",
    "engine": CONF / "engine", "logger": CONF / "logger", "paths": CONF / "paths", "setting": CONF / "setting",
    "sweeps": ROOT / "sweeps", "hydra/launcher": ROOT / "launchers" / "hydra" / "launcher",
}
HIDDEN = ("method_setting", "selection_setting", "pool_setting", "local", "schema")
MAX_LINE = 110  # one terminal line, option name included


@pytest.fixture(scope="module")
def help_text():
    r = subprocess.run([sys.executable, "-m", "s1x.run", "--help"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def _group_section(text, group):
    """The lines of ``group``'s section: from ``group: ...`` to the next blank line."""
    m = re.search(rf"^{re.escape(group)}: (.+)\n((?:  .*\n)+)", text, re.M)
    assert m, f"no section for group {group} in --help"
    return m[1], m[2].splitlines()


def test_every_option_of_every_user_group_has_a_one_line_description(help_text):
    n_options = 0
    for group, folder in USER_GROUPS.items():
        doc, lines = _group_section(help_text, group)
        assert len(doc) > 10, (group, doc)
        listed = {}
        for line in lines:
            m = re.fullmatch(r"  (\S+)( \*)?\s{2,}(\S.*)", line)
            assert m, f"{group}: not an option line: {line!r}"
            listed[m[1]] = m[3]
            assert len(line) <= MAX_LINE, f"{group}={m[1]}: {len(line)} characters"
        files = sorted(p.stem for p in folder.glob("*.yaml"))
        assert files and set(files) <= set(listed), (group, set(files) - set(listed))
        for option in files:
            summary = listed[option]
            # The description is the first line of the option's own header comment, a whole sentence.
            first = next(line.lstrip("# ").rstrip() for line in (folder / f"{option}.yaml").read_text().splitlines()
                         if line.startswith("#") and "@package" not in line)
            assert summary == first and summary.endswith("."), (group, option, summary)
        n_options += len(files)
    # Counted so a group whose files moved cannot silently drop out (13 groups, 65 option files).
    assert (len(USER_GROUPS), n_options) == (13, 65)


def test_no_hidden_group_and_nothing_stale(help_text):
    for name in HIDDEN:
        assert not re.search(rf"^{name}[/:]", help_text, re.M), name
    assert "none or bf" not in help_text and "$APP_CONFIG_GROUPS" not in help_text
    _, methods = _group_section(help_text, "method")
    assert len(methods) == len(list((CONF / "method").glob("*.yaml"))) == 10
    # Every directory of conf/ is either shown or hidden on purpose.
    dirs = {p.name for p in CONF.iterdir() if p.is_dir()}
    assert dirs <= set(USER_GROUPS) | set(HIDDEN), dirs - set(USER_GROUPS) - set(HIDDEN)


def test_defaults_marked_in_help_are_the_composed_choices(help_text):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        choices = compose(config_name="config", return_hydra_config=True).hydra.runtime.choices
    for group in USER_GROUPS:
        _, lines = _group_section(help_text, group)
        marked = {line.split()[0] for line in lines if re.match(r"  \S+ \*", line)}
        if group == "benchmark":  # a multi-select group: the choice is the list
            expected = {"tiny-mixed", "tiny-choice"}
        else:
            expected = set() if choices.get(group) in (None, "null") else {choices[group]}
        assert marked == expected, (group, marked, expected)


def test_top_level_keys_environment_and_from_scratch_are_explained(help_text):
    for key in ("stages=", "seed=", "threads="):
        assert re.search(rf"^  {key}\S*\s+\w", help_text, re.M), key
    assert "model.pretrain.from_scratch=true" in help_text
    assert f"S1X_PROGRESS_INTERVAL_S={LINE_INTERVAL_S:.0f} " in help_text and "S1X_CACHE_DIR " in help_text


def test_group_lines_come_from_the_table_of_contents():
    groups = cli_help.defaults_list()
    assert groups["method"][1] == ["bf"] and groups["benchmark"][1] == ["tiny-mixed", "tiny-choice"]
    assert "method_setting" not in groups  # ${method}_${setting}: picked by Hydra, not by users
    assert groups["sweeps"] == ("a paper table or figure as a multirun: -m sweeps=table2 (sweeps/)", [])
