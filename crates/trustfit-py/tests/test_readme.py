"""Executes every ```python block of crates/trustfit-py/README.md, in order, in one namespace."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def test_readme_has_a_python_quick_start():
    assert "## Quick start (Python)" in README.read_text()
    assert _python_blocks()


def test_readme_python_blocks_run(capsys):
    namespace = {"__name__": "readme"}
    for block in _python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["res"].success
