"""Pool files: every mistake a user can make is reported with its location, the reason and the nearest valid
choice; names resolve to pool entries, ad-hoc servers or direct litellm ids."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from collabgraph.errors import ConfigError, UnknownNameError
from collabgraph.models.pool import POOL_SCHEMA, ModelPool, ModelSpec, default_pool, load_pool

HEADER = f"schema: {POOL_SCHEMA}\nmodels:\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pool.yaml"
    path.write_text(text)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_pool(path)
    assert info.value.source == str(path)
    return str(info.value)


def test_a_valid_pool_loads_and_keeps_the_built_in_models(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER + "  my-vllm:\n    litellm_id: hosted_vllm/meta-llama/Llama-3.1-8B-Instruct\n"
        "    api_base: http://127.0.0.1:8000/v1\n    supports_n: true\n    params_b: 8.03\n"
        "    layers: 32\n    hidden: 4096\n    max_concurrency: 64\n",
    )
    pool = load_pool(path)
    spec = pool.get("my-vllm")
    assert spec.name == "my-vllm" and spec.provider == "hosted_vllm" and spec.max_concurrency == 64
    assert set(default_pool().names()) <= set(pool.names())
    assert load_pool(path, with_default=False).names() == ["my-vllm"]


def test_invalid_yaml_gives_line_and_column(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, HEADER + "  a:\n    litellm_id: [openai/x\n"))
    assert "line 5, column 1: not valid YAML" in message


def test_an_unknown_field_names_its_line_and_the_nearest_field(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, HEADER + "  a:\n    litellm_id: openai/x\n    layres: 32\n"))
    assert "models.a.layres (line 5): unknown field 'layres' (hint: did you mean 'layers'?)" in message


def test_every_bad_value_is_reported_with_its_location(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, HEADER + "  a:\n    price_in: -1\n    params_b: lots\n"))
    assert "3 error(s)" in message
    assert "models.a.litellm_id (line 3): missing required field 'litellm_id'" in message
    assert "models.a.price_in (line 4): Input should be greater than or equal to 0" in message
    assert "models.a.params_b (line 5): Input should be a valid number" in message


@pytest.mark.parametrize(
    "value", ["sk-proj-abcdefghijklmnop0123456789", "sk_live_123", "AIzaSyD-abcdefghijklmnopqrstuvwxyz012345", "x" * 80]
)
def test_a_key_in_api_key_env_is_rejected_without_repeating_it(tmp_path: Path, value: str) -> None:
    message = error_of(write(tmp_path, HEADER + f"  a:\n    litellm_id: openai/x\n    api_key_env: '{value}'\n"))
    assert "models.a.api_key_env (line 5): api_key_env names an environment variable" in message
    assert value not in message


def test_params_may_not_set_what_the_gateway_owns(tmp_path: Path) -> None:
    text = (
        HEADER
        + "  a:\n    litellm_id: openai/x\n    params:\n      top_p: 0.9\n      api_key: secret-value\n      num_retries: 3\n"
    )
    message = error_of(write(tmp_path, text))
    assert "models.a.params (line 5): params may not set 'api_key', 'num_retries'" in message
    assert "api_key: name an environment variable in api_key_env" in message
    assert "num_retries: the gateway retries" in message
    assert "secret-value" not in message
    assert ModelSpec(litellm_id="openai/x", params={"top_p": 0.9}).params == {"top_p": 0.9}


def test_an_environment_variable_name_is_accepted() -> None:
    assert ModelSpec(litellm_id="openai/gpt-4o", api_key_env="OPENAI_API_KEY").api_key_env == "OPENAI_API_KEY"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "models: {}\n",
            "schema: expected 'collabgraph.models/v1', got None (hint: add 'schema: collabgraph.models/v1'",
        ),
        ("schema: collabgraph.models/v2\nmodels: {}\n", "got 'collabgraph.models/v2'"),
        ("- a\n- b\n", "<root>: expected a mapping with keys 'schema' and 'models'"),
        ("", "<root>: expected a mapping"),
        (HEADER + "  a: openai/x\n", "models.a (line 3): Input should be a valid dictionary"),
    ],
)
def test_a_malformed_file_says_where_and_why(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_of(write(tmp_path, text))


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    assert "<file>: no such file" in error_of(tmp_path / "absent.yaml")


def test_an_unknown_model_lists_the_closest_names() -> None:
    pool = ModelPool({n: ModelSpec(litellm_id=f"sim/{n}") for n in ("llama-3.1-8b", "llama-3.1-70b", "qwen2.5-7b")})
    with pytest.raises(
        UnknownNameError, match=r"unknown model 'llama-3.1-7b'; did you mean: llama-3.1-70b, llama-3.1-8b"
    ):
        pool.resolve("llama-3.1-7b")
    with pytest.raises(UnknownNameError) as info:
        pool.get("qwen-7b")
    assert info.value.suggestions[0] == "qwen2.5-7b"


def test_names_resolve_to_entries_servers_or_direct_ids() -> None:
    pool = ModelPool(
        {
            "sim/m": ModelSpec(litellm_id="sim/m", offline=True, supports_n=True, params_b=7.0),
            "gpt": ModelSpec(litellm_id="openai/gpt-4o", price_in=2.5),
        }
    )
    assert pool.resolve("gpt").litellm_id == "openai/gpt-4o"
    assert pool.resolve("anthropic/claude-3-5-sonnet-20240620").litellm_id == "anthropic/claude-3-5-sonnet-20240620"
    adhoc = pool.resolve("meta-llama/Llama-3.1-8B", "http://127.0.0.1:8000/v1")
    assert (adhoc.litellm_id, adhoc.api_base, adhoc.supports_n, adhoc.offline) == (
        "hosted_vllm/meta-llama/Llama-3.1-8B",
        "http://127.0.0.1:8000/v1",
        True,
        False,
    )
    served = pool.resolve("sim/m", "http://127.0.0.1:9000/v1")  # an offline model behind serve-sim
    assert (served.litellm_id, served.api_base, served.offline, served.params_b) == (
        "hosted_vllm/sim/m",
        "http://127.0.0.1:9000/v1",
        True,
        7.0,
    )
    assert pool.resolve("gpt", "http://proxy/v1").litellm_id == "openai/gpt-4o"


def test_pools_merge_iterate_and_round_trip(tmp_path: Path) -> None:
    a = ModelPool({"x": ModelSpec(litellm_id="openai/x"), "y": ModelSpec(litellm_id="openai/y")})
    b = ModelPool({"y": ModelSpec(litellm_id="openai/y2")})
    merged = a.merged(b)
    assert [s.name for s in merged] == ["x", "y"] and merged.get("y").litellm_id == "openai/y2"
    assert len(merged) == 2 and "x" in merged and "z" not in merged
    path = write(tmp_path, yaml.safe_dump(merged.to_dict()))
    assert load_pool(path, with_default=False).get("y") == merged.get("y")
