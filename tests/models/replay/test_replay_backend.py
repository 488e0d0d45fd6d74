"""ReplayBackend: it answers with the recorded answers, reproduces the recorded accuracy exactly, and says
plainly when it has no record."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from collabgraph.errors import UnknownNameError
from collabgraph.models.offline import load_backend
from collabgraph.models.pool import ModelSpec, default_pool
from collabgraph.models.replay import ReplayBackend, ReplayMissError, load_gsm8k, load_mmlu_pro
from collabgraph.models.types import OfflineMeta, OfflineRequest
from collabgraph.settings import data_dir
from collabgraph.tasks import get_task
from collabgraph.tasks.data import DataFileError

LLAMA = "replay/Meta-Llama-3_1-70B-Instruct"
_LETTER = re.compile(r"The answer is \(([A-J])\)\.$")


@pytest.fixture(scope="module")
def backend() -> ReplayBackend:
    loaded = load_backend("replay", default_pool())
    assert isinstance(loaded, ReplayBackend)
    return loaded


def request(example_id: str, task: str = "mmlu_pro", **kw: Any) -> OfflineRequest:
    meta = OfflineMeta(task=task, example_id=example_id, answer="A", answer_format="letter")
    return OfflineRequest(model="m", messages=({"role": "user", "content": "x" * 40},), meta=meta, **kw)


def test_llama_3_1_70b_reproduces_its_recorded_mmlu_pro_accuracy_exactly(
    backend: ReplayBackend, shared_data: Path
) -> None:
    gold = {}
    for line in (shared_data / "mmlu_pro/questions.jsonl").open():
        q = json.loads(line)
        gold[f"mmlu_pro/{q['question_id']}"] = q["answer"]
    spec = default_pool().get(LLAMA)
    correct = 0
    for example_id, answer in gold.items():
        (sample,) = backend.generate(spec, request(example_id))
        match = _LETTER.search(sample.text)
        correct += bool(match and match.group(1) == answer)
    assert len(gold) == 12_032
    assert correct == 7_556
    assert round(correct / len(gold), 3) == 0.628


async def test_the_mmlu_pro_task_scores_replay_exactly_as_recorded(backend: ReplayBackend) -> None:
    # What `collabgraph eval replay/... --task mmlu_pro` does: the task's own extractor on the replayed text.
    task = get_task("mmlu_pro")
    examples = task.examples()
    table = load_mmlu_pro(data_dir())
    for model in ("Meta-Llama-3_1-70B-Instruct", "Llama-2-7b-hf", "DeepSeek-Coder-V2"):
        spec = default_pool().get(f"replay/{model}")
        correct = 0
        for example in examples:
            (sample,) = backend.generate(spec, request(example.id))
            score = await task.score(sample.text, example)
            pred, _ = table.lookup(model, example.id) or ("", 0)
            # The recorded letter itself, except one outside the question's options (some have fewer than 10).
            n_options = len(example.meta["options"])
            assert score.extracted == (pred if pred and "ABCDEFGHIJ".index(pred) < n_options else None)
            assert score.correct == (pred == example.answer)
            correct += score.correct
        assert round(correct / len(examples), 4) == spec.scores["mmlu_pro"].accuracy, model


def test_gsm8k_answers_are_the_recorded_texts_verbatim(backend: ReplayBackend) -> None:
    table = load_gsm8k(data_dir())
    for name in ("gpt-4-1106-preview", "Mixtral-8x7B-Instruct-v0.1", "gpt3-175b-verification"):
        spec = default_pool().get(f"replay/{name}")
        (sample,) = backend.generate(spec, request("gsm8k/test/5", task="gsm8k"))
        assert sample.text == table.texts[name]["gsm8k/test/5"]


def test_every_sample_is_the_one_recording_whatever_the_temperature(backend: ReplayBackend) -> None:
    spec = default_pool().get(LLAMA)
    one = backend.generate(spec, request("mmlu_pro/70"))
    many = backend.generate(spec, request("mmlu_pro/70", n=4, first_sample=3, temperature=1.0, seed=9))
    assert len(many) == 4
    assert {s.text for s in many} == {one[0].text}


def test_accounting_counts_four_chars_per_token_and_virtual_latency(backend: ReplayBackend) -> None:
    spec = default_pool().get(LLAMA)
    (sample,) = backend.generate(spec, request("mmlu_pro/70"))
    assert sample.prompt_tokens == 10
    assert sample.completion_tokens == -(-len(sample.text) // 4)
    assert sample.latency_s == pytest.approx(spec.ttft_s + sample.completion_tokens / spec.throughput_tok_s)
    assert sample.finish_reason == "stop"


def test_max_tokens_truncates_like_a_server(backend: ReplayBackend) -> None:
    spec = default_pool().get("replay/gpt-4-1106-preview")
    (sample,) = backend.generate(spec, request("gsm8k/test/0", task="gsm8k", max_tokens=5))
    assert sample.finish_reason == "length"
    assert sample.completion_tokens == 5
    assert len(sample.text) == 20


def test_custom_pool_entries_are_found_by_litellm_id(backend: ReplayBackend) -> None:
    spec = ModelSpec(name="my-llama", litellm_id=LLAMA)
    (sample,) = backend.generate(spec, request("mmlu_pro/70"))
    assert sample.text.endswith("The answer is (I).")


def test_a_question_without_a_record_names_the_model_and_the_question(backend: ReplayBackend) -> None:
    spec = default_pool().get(LLAMA)
    with pytest.raises(ReplayMissError) as info:
        backend.generate(spec, request("mmlu_pro/999999"))
    message = str(info.value)
    assert LLAMA in message and "mmlu_pro/999999" in message
    assert "12,032 MMLU-Pro test questions" in message
    assert (info.value.model, info.value.example_id) == (LLAMA, "mmlu_pro/999999")


def test_another_task_is_a_miss_that_says_what_the_model_covers(backend: ReplayBackend) -> None:
    with pytest.raises(
        ReplayMissError, match=r"'replay/gpt-4-1106-preview'.*'mmlu_pro/70'.*gsm8k/test/0 … gsm8k/test/1318"
    ):
        backend.generate(default_pool().get("replay/gpt-4-1106-preview"), request("mmlu_pro/70"))
    with pytest.raises(ReplayMissError, match=r"'gsm8k/train/3'"):
        backend.generate(default_pool().get("replay/gpt3-6b-finetuning"), request("gsm8k/train/3", task="gsm8k"))
    with pytest.raises(ReplayMissError, match=r"'HumanEval/0'.*mmlu_pro"):
        backend.generate(default_pool().get(LLAMA), request("HumanEval/0", task="humaneval"))


def test_mixtral_has_records_for_both_tasks(backend: ReplayBackend) -> None:
    spec = default_pool().get("replay/Mixtral-8x7B-Instruct-v0.1")
    assert backend.generate(spec, request("mmlu_pro/70"))[0].text
    assert backend.generate(spec, request("gsm8k/test/0", task="gsm8k"))[0].text.endswith("#### 18")


def test_the_miss_uses_the_pool_name(backend: ReplayBackend) -> None:
    with pytest.raises(ReplayMissError, match=r"replay model 'my-llama' has no recorded answer for question 'x/1'"):
        backend.generate(ModelSpec(name="my-llama", litellm_id=LLAMA), request("x/1", task="x"))


def test_an_unrecorded_model_lists_the_closest_recorded_names(backend: ReplayBackend) -> None:
    spec = ModelSpec(name="replay/llama-3.1-70b-instruct", litellm_id="replay/llama-3.1-70b-instruct")
    with pytest.raises(UnknownNameError) as info:
        backend.generate(spec, request("mmlu_pro/70"))
    assert "unknown replay model 'replay/llama-3.1-70b-instruct'" in str(info.value)
    assert info.value.suggestions[0] == LLAMA


def test_models_lists_every_recorded_model(backend: ReplayBackend) -> None:
    models = backend.models()
    assert len(models) == 34
    assert {LLAMA, "replay/gpt3-6b-finetuning", "replay/gpt-4-1106-preview"} <= set(models)


def test_missing_data_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLABGRAPH_OFFLINE", "1")
    empty = ReplayBackend(default_pool(), data_dir=tmp_path)
    with pytest.raises(DataFileError, match=r"mmlu_pro/model_predictions.csv") as info:
        empty.generate(default_pool().get(LLAMA), request("mmlu_pro/70"))
    assert "COLLABGRAPH_DATA" in str(info.value)
