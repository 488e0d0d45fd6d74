"""Rendering helpers: number formats, one JSON document on stdout, and a progress bar that stays off stdout."""

from __future__ import annotations

import json

import pytest

from collabgraph.cli.output import fmt_count, fmt_flops, fmt_usd, print_fields, print_json, progress_bar


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "$0"), (8.33e-05, "$0.0000833"), (0.000304, "$0.000304"), (0.5, "$0.500"), (1234.5, "$1,234.50")],
)
def test_usd_keeps_three_significant_digits_without_exponents(value: float, text: str) -> None:
    assert fmt_usd(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(12.0, "12 FLOP"), (6.72e12, "6.72 TFLOP"), (4.8e13, "48 TFLOP"), (2e18, "2 EFLOP")]
)
def test_flops_use_si_prefixes(value: float, text: str) -> None:
    assert fmt_flops(value) == text


def test_counts_show_a_decimal_only_when_small() -> None:
    assert (fmt_count(12.34), fmt_count(1234.5)) == ("12.3", "1,234")


def test_print_json_writes_one_document(capsys: pytest.CaptureFixture[str]) -> None:
    print_json({"accuracy": 0.5, "ci95": [0.4, 0.6], "model": "sim/é"})
    out = capsys.readouterr()
    assert json.loads(out.out) == {"accuracy": 0.5, "ci95": [0.4, 0.6], "model": "sim/é"}
    assert out.err == ""


def test_print_json_refuses_nan(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        print_json({"accuracy": float("nan")})


def test_progress_bar_is_silent_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar(3, "eval") as advance:
        for _ in range(3):
            advance("acc 1.000")
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_fields_table_prints_every_name_and_value(capsys: pytest.CaptureFixture[str]) -> None:
    print_fields([("model", "sim/oracle"), ("accuracy", "1.000")])
    out = capsys.readouterr().out
    assert "model" in out and "sim/oracle" in out and "accuracy" in out and "1.000" in out
