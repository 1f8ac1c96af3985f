"""The inference server's model config: defaults, a file's overrides, the latency scale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from legacy.inference.config import InferenceConfig, InferenceConfigError, load_inference_config
from legacy.inference.profiles import LatencyProfile


def test_without_a_file_the_defaults() -> None:
    assert load_inference_config() == InferenceConfig()


def test_a_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text("tts: {max_chars: 120, latency: {fixed_ms: 5}}\nasr: {max_seconds: 8.5}\n")
    config = load_inference_config(path)
    assert config.tts_max_chars == 120
    assert config.tts_latency == LatencyProfile(fixed_ms=5, per_unit_ms=0.2, jitter_ms=10)
    assert config.asr_max_seconds == 8.5
    assert config.translation == InferenceConfig().translation
    assert config.llm_latency == InferenceConfig().llm_latency


def test_the_scale_multiplies_every_latency_and_the_argument_wins(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text("latency_scale: 2\n")
    doubled = load_inference_config(path)
    assert doubled.tts_latency == LatencyProfile(fixed_ms=40, per_unit_ms=0.4, jitter_ms=20)
    assert doubled.llm_latency.first_token_ms == 2 * InferenceConfig().llm_latency.first_token_ms
    none = load_inference_config(path, latency_scale=0)
    assert none.asr_latency == LatencyProfile()
    assert none.translation.latency.delay_s(1000, b"seed") == 0
    assert none.tts_max_chars == InferenceConfig().tts_max_chars


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tts: {max_char: 10}", "tts.max_char: Extra inputs are not permitted"),
        ("asr: {max_seconds: 0}", "asr.max_seconds: Input should be greater than 0"),
        ("llm: {latency: {per_token_ms: fast}}", "llm.latency.per_token_ms"),
        ("tts: [", "not YAML"),
        ("- a list", "Input should be a valid dictionary"),
    ],
)
def test_a_bad_file_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(text)
    with pytest.raises(InferenceConfigError) as refused:
        load_inference_config(path)
    assert message in str(refused.value)
    assert str(path) in str(refused.value)


def test_the_cli_refuses_a_bad_file_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text("tts: {max_chars: -1}\n")
    done = subprocess.run(
        [sys.executable, "-m", "banyan", "inference", "--port", "0", "--config", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "inference config:" in done.stderr
    assert "tts.max_chars: Input should be greater than or equal to 1" in done.stderr
    assert "Traceback" not in done.stderr
