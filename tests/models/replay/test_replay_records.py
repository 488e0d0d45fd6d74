"""The recorded tables: what they hold, how GSM8K rows map to test ids, and that they load once."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from collabgraph.models.replay import GPT3_CONFIGS, GSM8K_SOURCES, load_gsm8k, load_mmlu_pro
from collabgraph.settings import data_dir


def test_mmlu_pro_table_has_29_models_by_12032_questions() -> None:
    table = load_mmlu_pro(data_dir())
    assert len(table.models) == 29
    assert len(table.rows) == 12_032
    assert all(len(table.preds[m]) == 12_032 and len(table.chars[m]) == 12_032 for m in table.models)
    assert "Meta-Llama-3_1-70B-Instruct" in table.models
    assert table.lookup("Meta-Llama-3_1-70B-Instruct", "mmlu_pro/70") == ("I", 267)
    assert table.lookup("Meta-Llama-3_1-70B-Instruct", "mmlu_pro/no-such-id") is None


def test_mmlu_pro_unparsed_and_unrecorded_cells_are_kept_apart() -> None:
    table = load_mmlu_pro(data_dir())
    cells = [table.lookup("DeepSeek-Coder-V2", eid) for eid in table.rows]
    assert sum(1 for pred, chars in cells if chars == -1) == 1_681
    assert all(pred == "" for pred, chars in cells if chars == -1)
    # Unparsed (letter '') but recorded (a length) cells exist too, for models whose harness often failed to parse.
    llama2 = [table.lookup("Llama-2-7b-hf", eid) for eid in table.rows]
    assert sum(1 for pred, chars in llama2 if pred == "" and chars > 0) == 2_061


def test_tables_load_once_per_data_directory() -> None:
    root = data_dir()
    assert load_mmlu_pro(root) is load_mmlu_pro(root)
    assert load_gsm8k(root) is load_gsm8k(root)


def test_every_gsm8k_recording_matches_a_test_question(shared_data: Path) -> None:
    table = load_gsm8k(data_dir())
    assert table.unmatched == {"routellm/gsm8k_responses.csv": 0, "gsm8k/example_model_solutions.jsonl": 0}
    assert set(table.texts) == set(GSM8K_SOURCES)
    assert all(len(texts) == 1_319 for texts in table.texts.values())


def test_gpt3_rows_are_in_test_order_and_kept_verbatim(shared_data: Path) -> None:
    test = [json.loads(line) for line in (shared_data / "gsm8k/test.jsonl").open()]
    solutions = [json.loads(line) for line in (shared_data / "gsm8k/example_model_solutions.jsonl").open()]
    assert [s["question"] for s in solutions] == [t["question"] for t in test]
    table = load_gsm8k(data_dir())
    for name, key in GPT3_CONFIGS.items():
        assert table.texts[name]["gsm8k/test/0"] == solutions[0][key]["solution"]
        assert table.texts[name]["gsm8k/test/1318"] == solutions[1318][key]["solution"]
    assert table.texts["gpt3-6b-finetuning"]["gsm8k/test/0"].endswith("A: 26")


def test_routellm_rows_map_by_question_text(shared_data: Path) -> None:
    test = [json.loads(line)["question"] for line in (shared_data / "gsm8k/test.jsonl").open()]
    with (shared_data / "routellm/gsm8k_responses.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    table = load_gsm8k(data_dir())
    for row in rows[::97]:
        line = test.index(row["prompt"])
        assert table.texts["gpt-4-1106-preview"][f"gsm8k/test/{line}"] == row["gpt-4-1106-preview_response"]
        mixtral = table.texts["Mixtral-8x7B-Instruct-v0.1"][f"gsm8k/test/{line}"]
        assert mixtral == row["mistralai/Mixtral-8x7B-Instruct-v0.1_response"]
    correct = table.correct["gpt-4-1106-preview"]
    assert sum(correct.values()) == 1_130
