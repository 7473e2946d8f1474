"""Executes every ```python block of crates/trustfit-py/README.md, in order, in one namespace.

Also a script: `python test_readme.py` runs the blocks without pytest (tools/test-wheel.sh
runs it in a fresh virtual environment that has only the installed wheel).
"""

import os
import pathlib
import re
import tempfile

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def run_blocks():
    """Runs the blocks in a temporary working directory (they write plots); returns the
    namespace."""
    namespace = {"__name__": "readme"}
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            for block in _python_blocks():
                exec(compile(block, str(README), "exec"), namespace)
        finally:
            os.chdir(cwd)
    return namespace


def test_readme_has_a_python_quick_start():
    assert "## Quick start (Python)" in README.read_text()
    assert _python_blocks()


def test_readme_python_blocks_run(capsys):
    namespace = run_blocks()
    assert namespace["res"].success


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    ns = run_blocks()
    assert ns["res"].success
    import trustfit

    print(f"README: {len(_python_blocks())} python blocks ran with trustfit from "
          f"{pathlib.Path(trustfit.__file__).parent}")
