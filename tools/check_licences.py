#!/usr/bin/env python3
"""Licence check of the dependency tree (issue 14): no GPL, AGPL or LGPL-only package.

Reads `cargo metadata --format-version 1 --locked` (offline, about a second: every
package of the lock file, all platforms, normal, build and dev dependencies) and
evaluates each package's `license` field as an SPDX expression (`OR`, `AND`, `WITH`,
parentheses; the legacy `/` means OR). A package passes when some choice the
expression offers avoids GPL-family licences: `MIT OR Apache-2.0 OR LGPL-2.1-or-later`
passes, `LGPL-2.1` and `MIT AND GPL-3.0` fail. A package without a `license` field
(only `license-file`) fails unless it is listed in ALLOWED_WITHOUT_SPDX with the
reason. Exit status 0 when every package passes, 1 otherwise (one line per offender).

    python3 tools/check_licences.py              # the check (.ci/run runs it)
    python3 tools/check_licences.py --self-test  # the expression evaluator's tests
"""

import json
import re
import subprocess
import sys

# SPDX identifiers of the GPL family (GPL, AGPL, LGPL, any version, -only/-or-later/+).
COPYLEFT = re.compile(r"^(A|L)?GPL(-[0-9.]+)?(-only|-or-later|\+)?$", re.IGNORECASE)

# name -> reason, for packages that state their licence only in a file.
ALLOWED_WITHOUT_SPDX: dict[str, str] = {}


def tokens(expr: str) -> list[str]:
    expr = expr.replace("/", " OR ").replace("(", " ( ").replace(")", " ) ")
    return expr.split()


def acceptable(expr: str) -> bool:
    """True when the SPDX expression offers a choice free of GPL-family licences."""
    toks = tokens(expr)
    pos = 0

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(toks):
            raise ValueError(f"unexpected end of licence expression {expr!r}")
        pos += 1
        return toks[pos - 1]

    def primary() -> bool:
        t = take()
        if t == "(":
            ok = disjunction()
            if take() != ")":
                raise ValueError(f"unbalanced parentheses in {expr!r}")
        elif t.upper() in ("AND", "OR", "WITH", ")"):
            raise ValueError(f"unexpected {t!r} in licence expression {expr!r}")
        else:
            ok = not COPYLEFT.match(t)
        if peek() is not None and peek().upper() == "WITH":
            take()
            take()  # an exception does not lift the GPL family's terms for our purpose
        return ok

    def conjunction() -> bool:
        ok = primary()
        while peek() is not None and peek().upper() == "AND":
            take()
            ok = primary() and ok
        return ok

    def disjunction() -> bool:
        ok = conjunction()
        while peek() is not None and peek().upper() == "OR":
            take()
            ok = conjunction() or ok
        return ok

    ok = disjunction()
    if pos != len(toks):
        raise ValueError(f"trailing tokens in licence expression {expr!r}")
    return ok


def self_test() -> None:
    cases = {
        "MIT": True,
        "MIT OR Apache-2.0": True,
        "MIT/Apache-2.0": True,
        "Apache-2.0 / MIT": True,
        "(MIT OR Apache-2.0) AND Unicode-3.0": True,
        "Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT": True,
        "MIT OR Apache-2.0 OR LGPL-2.1-or-later": True,
        "LGPL-2.1-or-later OR MIT": True,
        "GPL-3.0": False,
        "GPL-3.0-only": False,
        "AGPL-3.0-or-later": False,
        "LGPL-2.1": False,
        "lgpl-3.0+": False,
        "MIT AND GPL-2.0-or-later": False,
        "(MIT OR GPL-2.0) AND LGPL-3.0-only": False,
        "GPL-2.0 WITH Classpath-exception-2.0": False,
        "(GPL-2.0 OR LGPL-2.1) AND MIT": False,
    }
    for expr, want in cases.items():
        got = acceptable(expr)
        assert got == want, f"{expr!r}: {got}, expected {want}"
    for bad in ["", "MIT OR", "(MIT", "MIT Apache-2.0"]:
        try:
            acceptable(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} should be a malformed expression")
    print(f"check_licences self-test: {len(cases) + 4} cases ok")


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return 0
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    bad = []
    for p in sorted(meta["packages"], key=lambda p: (p["name"], p["version"])):
        name, lic = f"{p['name']} {p['version']}", p.get("license")
        if lic is None:
            if p["name"] not in ALLOWED_WITHOUT_SPDX:
                bad.append(f"{name}: no SPDX `license` field (license-file: {p.get('license_file')})")
            continue
        try:
            if not acceptable(lic):
                bad.append(f"{name}: {lic} (GPL family, no permissive alternative)")
        except ValueError as e:
            bad.append(f"{name}: {e}")
    for line in bad:
        print(f"check_licences: {line}", file=sys.stderr)
    print(f"check_licences: {len(meta['packages'])} packages, {len(bad)} not acceptable")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
