"""Settings: where data and the call cache live (flag, then environment, then the user's cache directory), and
gateway_settings: the gateway's timeout and retry keywords from the environment, and the errors that name a bad
variable (the CLI's own test checks the message reaches stderr: tests/cli/test_eval_cmd.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabgraph.errors import ConfigError
from collabgraph.models import Gateway, ModelPool
from collabgraph.settings import cache_dir, data_dir, gateway_settings

ALL_SET = {
    "COLLABGRAPH_TIMEOUT_S": "8",
    "COLLABGRAPH_MAX_RETRIES": " 2 ",
    "COLLABGRAPH_BACKOFF_BASE_S": "0.05",
    "COLLABGRAPH_BACKOFF_MAX_S": "0",
}


@pytest.mark.parametrize(
    ("resolve", "var", "default"),
    [(data_dir, "COLLABGRAPH_DATA", ("collabgraph", "data")), (cache_dir, "COLLABGRAPH_CACHE", ("collabgraph",))],
)
def test_a_directory_comes_from_the_flag_then_the_environment_then_the_user_cache(
    resolve: Callable[[str | Path | None], Path],
    var: str,
    default: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(var, "from-env")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve("flag") == tmp_path / "flag"  # relative paths resolve against the working directory
    assert resolve(None) == resolve("") == tmp_path / "from-env"
    monkeypatch.setenv(var, "")
    assert resolve(None) == tmp_path.joinpath("xdg", *default)
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve(None) == tmp_path.joinpath("home", ".cache", *default)


def test_unset_and_empty_variables_leave_the_gateway_defaults() -> None:
    assert gateway_settings({}) == {}
    assert gateway_settings(dict.fromkeys(ALL_SET, "  ")) == {}


def test_set_variables_become_typed_gateway_keywords() -> None:
    settings = gateway_settings(ALL_SET)
    assert settings == {"timeout_s": 8.0, "max_retries": 2, "backoff_base_s": 0.05, "backoff_max_s": 0.0}
    assert type(settings["max_retries"]) is int and type(settings["timeout_s"]) is float
    gateway = Gateway(ModelPool({}), cache=None, **settings)
    assert gateway.timeout_s == 8.0 and gateway.policy.max_retries == 2


def test_the_process_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLABGRAPH_MAX_RETRIES", "4")
    assert gateway_settings().get("max_retries") == 4


@pytest.mark.parametrize(
    ("var", "raw", "message"),
    [
        ("COLLABGRAPH_MAX_RETRIES", "lots", "COLLABGRAPH_MAX_RETRIES: expected an integer, got 'lots'"),
        ("COLLABGRAPH_MAX_RETRIES", "2.0", "COLLABGRAPH_MAX_RETRIES: expected an integer, got '2.0'"),
        ("COLLABGRAPH_MAX_RETRIES", "-1", "COLLABGRAPH_MAX_RETRIES: expected a value >= 0, got '-1'"),
        ("COLLABGRAPH_TIMEOUT_S", "soon", "COLLABGRAPH_TIMEOUT_S: expected a number, got 'soon'"),
        ("COLLABGRAPH_TIMEOUT_S", "0", "COLLABGRAPH_TIMEOUT_S: expected a value > 0, got '0'"),
        ("COLLABGRAPH_TIMEOUT_S", "nan", "COLLABGRAPH_TIMEOUT_S: expected a value > 0, got 'nan'"),
        ("COLLABGRAPH_BACKOFF_BASE_S", "-0.5", "COLLABGRAPH_BACKOFF_BASE_S: expected a value >= 0, got '-0.5'"),
        ("COLLABGRAPH_BACKOFF_MAX_S", "NaN", "COLLABGRAPH_BACKOFF_MAX_S: expected a value >= 0, got 'NaN'"),
    ],
)
def test_a_bad_value_names_its_variable_and_what_was_expected(var: str, raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        gateway_settings({var: raw})
    assert info.value.source == "environment"
    assert [str(e) for e in info.value.errors] == [message]


def test_every_bad_variable_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        gateway_settings({**ALL_SET, "COLLABGRAPH_TIMEOUT_S": "-3", "COLLABGRAPH_BACKOFF_MAX_S": "x"})
    assert [e.loc for e in info.value.errors] == ["COLLABGRAPH_TIMEOUT_S", "COLLABGRAPH_BACKOFF_MAX_S"]


@given(
    retries=st.integers(min_value=0, max_value=10**6),
    timeout=st.floats(min_value=1e-6, max_value=1e6, allow_nan=False),
)
def test_valid_values_are_read_back_exactly(retries: int, timeout: float) -> None:
    settings = gateway_settings({"COLLABGRAPH_MAX_RETRIES": str(retries), "COLLABGRAPH_TIMEOUT_S": repr(timeout)})
    assert settings == {"max_retries": retries, "timeout_s": timeout}
