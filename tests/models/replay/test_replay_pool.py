"""pools/replay.yaml: one entry per recorded model, its scores recomputed from the recordings."""

from __future__ import annotations

import json
from pathlib import Path

from collabgraph.models.pool import default_pool
from collabgraph.models.replay import GPT3_CONFIGS, GSM8K_SOURCES, load_gsm8k, load_mmlu_pro
from collabgraph.settings import data_dir
from collabgraph.tasks import get_task


def _replay_specs() -> dict[str, object]:
    return {spec.name: spec for spec in default_pool() if spec.provider == "replay"}


def test_every_recorded_model_has_an_entry_and_nothing_else() -> None:
    recorded = {f"replay/{m}" for m in (*load_mmlu_pro(data_dir()).models, *GSM8K_SOURCES)}
    assert set(_replay_specs()) == recorded


def test_entries_are_offline_support_n_and_say_they_are_deterministic() -> None:
    for spec in default_pool():
        if spec.provider != "replay":
            continue
        assert spec.litellm_id == spec.name
        assert spec.offline and spec.supports_n
        assert "Deterministic" in spec.notes
        assert spec.scores, spec.name
        assert (spec.params_b > 0) == (spec.layers > 0) == (spec.hidden > 0)
        if spec.params_b == 0:
            assert "unknown" in spec.notes
        if "Mixtral" in spec.name or "DeepSeek" in spec.name:
            assert spec.active_params_b is not None and spec.active_params_b < spec.params_b


def test_mmlu_pro_scores_are_the_recorded_accuracies(shared_data: Path) -> None:
    gold = {}
    for line in (shared_data / "mmlu_pro/questions.jsonl").open():
        q = json.loads(line)
        gold[f"mmlu_pro/{q['question_id']}"] = q["answer"]
    table = load_mmlu_pro(data_dir())
    pool = default_pool()
    for model in table.models:
        correct = sum(table.preds[model][row] == gold[eid] for eid, row in table.rows.items())
        score = pool.get(f"replay/{model}").scores["mmlu_pro"]
        assert score.accuracy == round(correct / len(gold), 4), model
        assert score.source.startswith("recorded in shared data: mmlu_pro/model_predictions.csv")
    assert pool.get("replay/Meta-Llama-3_1-70B-Instruct").scores["mmlu_pro"].accuracy == 0.628
    assert pool.get("replay/gemini-1.5-pro-002").scores["mmlu_pro"].accuracy == 0.7004


async def test_gsm8k_scores_are_the_recorded_responses_graded_by_the_gsm8k_task() -> None:
    task = get_task("gsm8k")
    examples = task.examples()
    table = load_gsm8k(data_dir())
    pool = default_pool()
    for model, source in GSM8K_SOURCES.items():
        graded = [(await task.score(table.texts[model][e.id], e)).correct for e in examples]
        score = pool.get(f"replay/{model}").scores["gsm8k"]
        assert score.accuracy == round(sum(graded) / len(examples), 4), model
        assert score.source.startswith(f"recorded in shared data: {source}")
        if model in GPT3_CONFIGS:
            # The GPT-3 file's own is_correct labels agree with the task on every question.
            assert graded == [table.correct[model][e.id] for e in examples], model
    assert pool.get("replay/gpt-4-1106-preview").scores["gsm8k"].accuracy == 0.8878
