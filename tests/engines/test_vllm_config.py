"""conf/engine/vllm.yaml's placement keys reach vLLM's ``LLM`` (a fake with its shapes; the real CPU
build runs in test_vllm_cpu.py): device against the installed build, enforce_eager, the CPU KV cache,
the block size; bad values are one-line config errors; the hf cache key ignores the new keys."""

import pytest

from conftest import compose_config
from test_engines import TOK, FakeLLM, FakeSamplingParams


def _engine(tmp_path, monkeypatch, overrides, platform):
    import s1x.engines.vllm as vllm_engine
    from s1x.engines import make_engine

    TOK.save_pretrained(tmp_path / "m")
    monkeypatch.setattr(vllm_engine, "_vllm_classes", lambda: (FakeLLM, FakeSamplingParams))
    monkeypatch.setattr(vllm_engine, "vllm_platform", lambda: platform)
    return make_engine(compose_config(["engine=vllm", *overrides]).engine, str(tmp_path / "m"))


def test_the_defaults_on_the_cpu_build_are_eager_with_a_one_gib_kv_cache(tmp_path, monkeypatch):
    kw = _engine(tmp_path, monkeypatch, [], "cpu").llm.kwargs
    assert kw["enforce_eager"] is True and kw["kv_cache_memory_bytes"] == 1 << 30 and "block_size" not in kw


def test_the_defaults_on_gpus_keep_vllms_own(tmp_path, monkeypatch):
    kw = _engine(tmp_path, monkeypatch, [], "cuda").llm.kwargs
    assert not {"enforce_eager", "kv_cache_memory_bytes", "block_size"} & set(kw)


def test_every_placement_key_reaches_the_llm(tmp_path, monkeypatch):
    engine = _engine(tmp_path, monkeypatch, ["engine.device=cpu", "engine.enforce_eager=false",
                                             "engine.cpu_kv_cache_gib=2", "engine.block_size=64"], "cpu")
    kw = engine.llm.kwargs
    assert "enforce_eager" not in kw and kw["kv_cache_memory_bytes"] == 2 << 30 and kw["block_size"] == 64
    assert engine.load_s >= 0 and engine.generate_s == 0.0
    kw = _engine(tmp_path, monkeypatch, ["engine.device=cuda", "engine.enforce_eager=true"], "cuda").llm.kwargs
    assert kw["enforce_eager"] is True and "kv_cache_memory_bytes" not in kw


def test_a_device_the_installed_build_cannot_run_on_is_a_config_error(tmp_path, monkeypatch):
    from s1x.errors import ConfigError

    with pytest.raises(ConfigError, match="engine.device=cuda: the installed vLLM runs on cpu"):
        _engine(tmp_path, monkeypatch, ["engine.device=cuda"], "cpu")


@pytest.mark.parametrize("override, field", [("engine.device=tpu", "engine.device"),
                                             ("engine.cpu_kv_cache_gib=0", "engine.cpu_kv_cache_gib"),
                                             ("engine.block_size=0", "engine.block_size")])
def test_bad_placement_values_are_refused_before_work(override, field):
    from s1x.errors import ConfigError
    from s1x.config.checks import validate

    with pytest.raises(ConfigError, match=field):
        validate(compose_config(["engine=vllm", override]))


def test_the_hf_cache_key_has_none_of_the_vllm_keys():
    from s1x.engines import engine_spec

    hf = engine_spec(compose_config().engine)
    assert not {"enforce_eager", "cpu_kv_cache_gib", "block_size"} & set(hf)
    assert {"enforce_eager", "cpu_kv_cache_gib", "block_size"} <= set(engine_spec(compose_config(["engine=vllm"]).engine))


def test_engine_load_and_generation_seconds_go_into_the_run_timings():
    from types import SimpleNamespace

    from s1x.evaluate.stage import record_engine_timings

    runner = SimpleNamespace(timings={"evaluate": 9.0})
    record_engine_timings(runner, SimpleNamespace(load_s=4.5, generate_s=3.25))
    assert runner.timings == {"evaluate": 9.0, "evaluate.engine_load": 4.5, "evaluate.generate": 3.25}
    record_engine_timings(runner, None)  # every benchmark cached: no engine was built
    record_engine_timings(runner, SimpleNamespace())  # an engine that does not count (hf)
    assert len(runner.timings) == 3
