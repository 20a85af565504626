"""engine=openai against fake OpenAI-compatible servers (fast, exact): the request fields of each
server kind, retries with backoff, the concurrency limit, clear errors, the API key kept secret,
and budget forcing in rounds over HTTP equal to the in-process vLLM adapter.

The real server (``transformers serve`` with SmolLM2) is in test_openai_serve.py.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import compose_config, free_port
from s1x.engines.base import GenerationRequest
from s1x.engines.openai import OpenAIEngine, ServerUnavailable
from s1x.engines.vllm import VLLMEngine
from s1x.evaluate.controllers.forcing import ForcingTokens
from s1x.evaluate.controllers.rounds import run_rounds
from s1x.formatting import THINK_END, generation_prompt
from s1x.errors import ConfigError
from s1x.config.checks import validate
from test_engines import IDS, IM_END, IM_START, TOK, FakeLLM, FakeSamplingParams, _scripted_model

SECRET = "sk-test-0123456789abcdef"


class FakeServer:
    """An OpenAI-compatible server on 127.0.0.1 whose completions come from ``_scripted_model``
    (the vLLM fake's scripted model), answering each request the way ``kind`` does."""

    def __init__(self, kind="vllm", fail_first=0, fail_status=503, delay=0.0, models=("m",)):
        self.kind, self.fail_left, self.fail_status, self.delay, self.models = kind, fail_first, fail_status, delay, models
        self.bodies, self.headers, self.in_flight, self.max_in_flight = [], [], 0, 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status, data):
                blob = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(blob)))
                self.end_headers()
                self.wfile.write(blob)

            def do_GET(self):  # noqa: N802
                server.headers.append(dict(self.headers))
                self._send(200, {"data": [{"id": m, "max_model_len": 2048} for m in server.models]})

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with server.lock:
                    server.bodies.append(body)
                    server.headers.append(dict(self.headers))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    fail = server.fail_left > 0
                    server.fail_left -= fail
                try:
                    time.sleep(server.delay)
                    if fail:
                        status, reply = server.fail_status, {"detail": "try later"}
                    elif body.get("model") not in server.models:
                        status, reply = 400, {"detail": f"model {body.get('model')!r} not found"}
                    else:
                        status, reply = 200, server.answer(body)
                finally:
                    # Out of flight before the reply leaves: once the client has it, it may send its
                    # next request before this thread runs again (counted as one too many in flight).
                    with server.lock:
                        server.in_flight -= 1
                self._send(status, reply)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, body):
        if "messages" in body:
            return {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Yes, they are equal."}}]}
        if self.kind == "vllm":
            ctx, stops, min_tokens = list(body["prompt"]), set(body["stop_token_ids"]), body["min_tokens"]
        else:
            ctx, stops, min_tokens = IDS(body["prompt"]), {IDS(s)[0] for s in body["stop"]}, 0
        out, finish, reason = [], "length", None
        while len(out) < body["max_tokens"]:
            tok = _scripted_model(ctx + out)
            if tok in stops and len(out) >= min_tokens:
                finish, reason = "stop", tok
                break
            out.append(tok if tok not in stops else IDS("\n")[0])
        choice = {"index": 0, "finish_reason": finish}
        if self.kind == "vllm":  # special tokens kept in text, stop not included; ids returned
            choice.update(text=TOK.decode(out), stop_reason=reason, token_ids=out)
        else:  # transformers serve: special tokens skipped in text, no ids
            choice["text"] = TOK.decode(out, skip_special_tokens=True)
        return {"choices": [choice], "usage": {"completion_tokens": len(out) + (finish == "stop")}}

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(request):
    s = FakeServer(**getattr(request, "param", {}))
    yield s
    s.close()


def _engine(fake, **kw):
    return OpenAIEngine(fake.url, "m", TOK, **{"max_retries": 2, "retry_backoff_s": 0.01, **kw})


@pytest.mark.parametrize("server", [{"kind": "vllm"}], indirect=True)
def test_vllm_server_rounds_over_http_equal_the_in_process_adapter(server):
    tokens = ForcingTokens.from_tokenizer(TOK, THINK_END, "Answer:", "Wait")
    prompts = [IDS(generation_prompt(TOK, q)) for q in ("sum A1", "sum A1 B2")]
    engine = _engine(server, server="vllm")
    assert engine.context_length == 2048  # from GET /models (method.max_thinking_tokens=auto)
    FakeLLM.script = staticmethod(_scripted_model)
    local = VLLMEngine("m", TOK, llm_cls=FakeLLM, sampling_params_cls=FakeSamplingParams)
    for cap, ignores in [(40, 2), (13, 0)]:
        over_http = run_rounds(engine, prompts, tokens, cap, num_ignore=ignores, max_answer_tokens=5)
        in_process = run_rounds(local, prompts, tokens, cap, num_ignore=ignores, max_answer_tokens=5)
        for a, b in zip(over_http, in_process):
            assert (a.token_ids, a.kinds, a.thinking_tokens, a.forced_end) == (b.token_ids, b.kinds, b.thinking_tokens,
                                                                              b.forced_end)
    body = next(b for b in server.bodies if b["prompt"] == prompts[0])  # the first round of the first question
    assert body["stop_token_ids"] == sorted([IM_START, IM_END])
    assert body["skip_special_tokens"] is False and body["include_stop_str_in_output"] is False
    assert body["min_tokens"] == 0 and body["repetition_penalty"] == 1.0 and body["top_k"] == -1
    assert body["return_token_ids"] is True and "stop" not in body


@pytest.mark.parametrize("server", [{"kind": "generic"}], indirect=True)
def test_generic_server_gets_text_and_stop_strings_only(server):
    tokens = ForcingTokens.from_tokenizer(TOK, THINK_END, "Answer:", "Wait")
    prompt = IDS(generation_prompt(TOK, "sum A1"))
    engine = _engine(server)
    (s,) = run_rounds(engine, [prompt], tokens, 40, num_ignore=2, max_answer_tokens=5)
    assert s.ignores_used == 2 and TOK.decode(s.token_ids).endswith("<|im_start|>answer\nAnswer: 7<|im_end|>")
    body = server.bodies[0]
    assert body["prompt"] == TOK.decode(prompt, skip_special_tokens=False)  # text, special tokens kept
    assert body["stop"] == ["<|im_start|>", "<|im_end|>"] and body["frequency_penalty"] == 0.0
    assert not {"stop_token_ids", "min_tokens", "skip_special_tokens", "n"} & set(body)
    # n samples become n requests with their own seeds; min_tokens cannot be expressed.
    server.bodies.clear()
    outs = engine.generate_requests([GenerationRequest(tuple(prompt), 4, temperature=1.0, seed=5, n=3)])
    assert len(outs[0]) == 3 and sorted(b["seed"] for b in server.bodies) == [5, 6, 7]
    with pytest.raises(ValueError, match="engine.server=vllm"):
        engine.generate_requests([GenerationRequest(tuple(prompt), 4, min_new_tokens=2)])


@pytest.mark.parametrize("server", [{"fail_first": 2}], indirect=True)
def test_transient_failures_are_retried_with_backoff(server, monkeypatch):
    engine = _engine(server, server="vllm")
    import types

    import s1x.engines.openai as module

    waits = []  # the engine's own clock only: the fake server's threads keep the real one
    monkeypatch.setattr(module, "time", types.SimpleNamespace(sleep=lambda s: waits.append(s) or time.sleep(s)))
    (out,), = engine.generate_requests([GenerationRequest(tuple(IDS(generation_prompt(TOK, "sum A1"))), 3)])
    assert len(server.bodies) == 3 and len(out.token_ids) == 3
    assert waits == pytest.approx([0.01, 0.02])  # the backoff doubles from retry_backoff_s per failure


@pytest.mark.parametrize("server", [{"fail_first": 9}], indirect=True)
def test_a_server_that_keeps_failing_ends_in_one_clear_error(server):
    engine = _engine(server, server="vllm")
    with pytest.raises(ServerUnavailable, match=r"failed 3 times \(HTTP 503: try later\)"):
        engine.generate_requests([GenerationRequest((1, 2), 3)])


@pytest.mark.parametrize("server", [{"fail_first": 1, "fail_status": 400}], indirect=True)
def test_a_refused_request_is_not_retried(server):
    with pytest.raises(ServerUnavailable, match="refused the request"):
        _engine(server, server="vllm").generate_requests([GenerationRequest((1, 2), 3)])
    assert len(server.bodies) == 1


@pytest.mark.parametrize("server", [{"delay": 0.15}], indirect=True)
def test_requests_run_at_most_concurrency_at_a_time(server):
    engine = _engine(server, server="vllm", concurrency=3)
    engine.generate_requests([GenerationRequest((1, 2, 3), 2) for _ in range(9)])
    assert server.max_in_flight == 3


@pytest.mark.parametrize("server", [{"delay": 1.0}], indirect=True)
def test_a_slow_server_times_out_per_request(server):
    engine = _engine(server, server="vllm", timeout_s=0.2, max_retries=1)
    with pytest.raises(ServerUnavailable, match="ReadTimeout"):
        engine.generate_requests([GenerationRequest((1, 2), 3)])
    assert len(server.bodies) == 2


def test_a_down_server_and_a_wrong_model_name_say_what_to_fix(server):
    with pytest.raises(ServerUnavailable, match=r"engine.base_url=http://127.0.0.1:\d+/v1: no server answers"):
        OpenAIEngine(f"http://127.0.0.1:{free_port()}/v1", "m", TOK)
    with pytest.raises(ServerUnavailable, match=r"engine.model='llama' is not served .* it serves \['m'\]"):
        OpenAIEngine(server.url, "llama", TOK)


def test_the_key_is_sent_from_its_variable_and_never_shown(server, monkeypatch):
    monkeypatch.setenv("S1X_TEST_KEY", SECRET)
    engine = _engine(server, server="vllm", api_key_env="S1X_TEST_KEY")
    engine.generate_requests([GenerationRequest((1, 2), 2)])
    assert {h.get("authorization") for h in server.headers} == {f"Bearer {SECRET}"}
    assert SECRET not in repr({k: v for k, v in vars(engine).items() if k != "_client"})  # only in the headers
    assert SECRET not in json.dumps(server.bodies)
    engine.model = "absent"  # an error message carries the reason, never the headers
    with pytest.raises(ServerUnavailable) as e:
        engine.generate_requests([GenerationRequest((1, 2), 2)])
    assert SECRET not in str(e.value)
    # The config names the variable; a key pasted into it is refused without echoing it.
    overrides = ["engine=openai", "engine.base_url=http://127.0.0.1:1/v1", "stages=[evaluate]", "model=hub",
                 "model.name_or_path=/x"]
    validate(compose_config(overrides + ["engine.api_key_env=S1X_TEST_KEY"]))
    with pytest.raises(ConfigError, match="never the key itself") as e:
        validate(compose_config(overrides + [f"engine.api_key_env={SECRET}"]))
    assert SECRET not in str(e.value)


def test_the_judge_runs_over_chat_completions(server):
    from s1x.grading.judge import judge_grade_many

    grades = judge_grade_many(["What is 1/2 + 1/2?"], ["Answer: 1"], ["1"], _engine(server).chat)
    assert grades[0].correct and not grades[0].undecided
    body = server.bodies[-1]
    assert body["messages"][0]["role"] == "user" and "Reference answer: 1" in body["messages"][0]["content"]
    assert body["temperature"] == 0.0


def test_the_evaluate_key_of_a_server_is_its_url_name_and_protocol():
    """Keyed by what the answers depend on; how the server is reached, and the in-process
    engines' settings it ignores, leave the key alone (no needless recomputation)."""
    from s1x.engines import engine_spec

    base = ["engine=openai", "engine.base_url=http://127.0.0.1:8000/v1"]

    def spec(*more):
        return engine_spec(compose_config([*base, *more]).engine)

    same = [spec("engine.concurrency=2"), spec("engine.api_key_env=OTHER_KEY"), spec("engine.timeout_s=5"),
            spec("engine.batch_size=3"), spec("engine.device=cpu"), spec("engine.max_retries=0")]
    assert all(s == spec() for s in same)
    for other in (["engine.base_url=http://127.0.0.1:9000/v1"], ["engine.model=other"], ["engine.server=vllm"],
                  ["engine.max_model_len=4096"]):
        assert spec(*other) != spec(), other
    assert "api_key_env" not in spec() and "base_url" not in engine_spec(compose_config([]).engine)
