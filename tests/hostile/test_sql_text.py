"""No text from a user is pasted into SQL: every f-string handed to the engine as SQL quotes each value
it interpolates (sql_literal, sql_identifier) or interpolates one of our own constants."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "custfocus"
SQL_CALL = re.compile(r"""(?:raw_sql|\.sql|\.execute)\(\s*f(["'])(.*?)\1""")
QUOTED = re.compile(r"^(sql_literal|sql_identifier)\(.*\)$")
OUR_CONSTANTS = {"ROW"}


def test_every_interpolation_into_sql_is_quoted():
    offenders = []
    for path in SRC.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in SQL_CALL.finditer(line):
                for placeholder in re.findall(r"\{([^{}]+)\}", match.group(2)):
                    if not QUOTED.match(placeholder) and placeholder not in OUR_CONSTANTS:
                        offenders.append(f"{path.relative_to(SRC)}:{number}: {{{placeholder}}}")
    assert offenders == []


def test_the_check_sees_an_unquoted_interpolation(tmp_path):
    line = 'con.raw_sql(f"ATTACH \'{path}\' AS source")'
    match = SQL_CALL.search(line)
    assert match and re.findall(r"\{([^{}]+)\}", match.group(2)) == ["path"]
