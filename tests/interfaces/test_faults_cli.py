"""CLI hygiene: JSON errors under --json, ranges named, no control characters on a terminal, long questions cut."""

from __future__ import annotations

import json

import pytest

from rag.interfaces import audit, cli
from tests.conftest import run_cli  # the `small` fixture is in conftest


def exit_code(argv: list[str]) -> int:
    """cli.main's return code, or the code argparse exits with."""
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return int(exc.code)


def test_json_errors_are_json(small, tmp_path, capsys):
    _, index = small
    cases = [
        (["search", "巡河", "--index", str(tmp_path / "missing"), "--json"], "no index"),
        (["search", "巡河", "--index", str(index), "--json", "-k", "0"], "valid: 1 to 100"),
        (["search", "巡河", "--index", str(index), "--json", "-k", "many"], "valid: 1 to 100"),
        (["search", "巡河", "--index", str(index), "--json", "--set", "candidates=0"], "candidates"),
        (["search", "巡河", "--index", str(index), "--json", "--set", "nonsense=1"], "unknown search setting"),
        (["eval", str(tmp_path / "no-such.jsonl"), "--index", str(index), "--json"], "no-such"),
        (["audit", "--index", str(index), "--json", "-n", "0"], "valid: 1 to"),
        (["search", "--json"], "required"),
    ]
    for argv, says in cases:
        rc = exit_code(argv)
        out, err = capsys.readouterr()
        assert rc == 2, argv
        obj = json.loads(out)
        assert obj["code"] == 2 and says in obj["error"], (argv, obj)
        assert "Traceback" not in err


def test_settings_errors_name_the_valid_range(small, capsys):
    _, index = small
    with pytest.raises(SystemExit) as e:
        cli.main(["search", "巡河", "--index", str(index), "-k", "0"])
    assert e.value.code == 2 and "valid: 1 to 100" in capsys.readouterr().err
    rc, _, err = run_cli(capsys, "search", "巡河", "--index", str(index), "--set", "rrf_k=-5")
    assert rc == 2 and "rrf_k" in err and "from 0 to" in err and "Traceback" not in err


def test_search_output_strips_control_characters(small, capsys):
    _, index = small
    rc, out, _ = run_cli(capsys, "search", "控制字符红色巡河记录", "--index", str(index), "-k", "5")
    assert rc == 0 and "红色" in out
    assert "\x1b" not in out and "\\x1b" in out
    rc, out, _ = run_cli(capsys, "info", "--index", str(index), "--docs")
    assert rc == 0 and "\x1b" not in out


def test_long_query_is_cut_with_a_notice(small, capsys):
    _, index = small
    long = "巡河频次" * 1000  # 4,000 characters
    rc, out, err = run_cli(capsys, "search", long, "--index", str(index), "--json")
    assert rc == 0 and isinstance(json.loads(out), list)
    assert "4000 characters; only the first 2000" in err
    assert cli.cap_query("短问题") == ("短问题", None)


def test_audit_output_escapes_control_characters(tmp_path, capsys):
    index = tmp_path / "index"
    audit.record(audit.audit_path(index), "alice", "upload", "evil\x1b]0;pwned\x07.txt")
    rc, out, _ = run_cli(capsys, "audit", "--index", str(index))
    assert rc == 0 and "\x1b" not in out and "\x07" not in out and "\\x1b" in out




def test_json_output_has_no_raw_control_characters(small, capsys):
    _, index = small
    rc, out, _ = run_cli(capsys, "search", "控制字符红色巡河记录", "--index", str(index), "--json")
    assert rc == 0 and "\x1b" not in out and "\x9b" not in out
    assert any("\x1b[31m" in h["text"] for h in json.loads(out))  # the text itself is kept exactly
