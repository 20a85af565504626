"""Which id stopped a vLLM output (issue 25, item 6): vLLM also stops at the ids the model's
generation config lists as eos (Qwen: ``<|endoftext|>`` besides ``<|im_end|>``), reports them with
``stop_reason=None`` and keeps the id at the end of ``token_ids`` (checked on vLLM's CPU build:
SmolLM2's eos came back as the last token id). The engines must report that id, not the end of
turn; and the authors' controller, which keeps the stop token in the context when it is not one
of their stop strings, then continues after the real id, as their lm-eval loop does."""

from test_engines import IDS, IM_END, IM_START, TOK, FakeCompletionOutput, FakeLLM, FakeRequestOutput, FakeSamplingParams

from s1x.engines.base import GenerationRequest
from s1x.engines.openai import OpenAIEngine
from s1x.engines.vllm import VLLMEngine, completion_ids
from s1x.evaluate.controllers.authors import AuthorsProtocol, AuthorsTokens, run_authors
from s1x.formatting import prompt_text

GEN_EOS = TOK.convert_tokens_to_ids("<|endoftext|>")  # a generation-config eos that is not the end of turn
LINE = IDS("A1:0+1=1\n")


def test_completion_ids_report_the_id_that_stopped_the_output():
    # a stop_token_ids match: vLLM names it in stop_reason (kept or not in token_ids)
    assert completion_ids([5, 6, IM_START], "stop", IM_START) == ([5, 6], "stop", IM_START)
    assert completion_ids([5, 6], "stop", IM_START) == ([5, 6], "stop", IM_START)
    # an eos stop: stop_reason None, the eos is the last id; a generation-config eos stays itself
    assert completion_ids([5, 6, GEN_EOS], "stop", None) == ([5, 6], "stop", GEN_EOS)
    assert completion_ids([5, 6, IM_END], "stop", None) == ([5, 6], "stop", IM_END)
    assert completion_ids([5, 6, 7], "length", None) == ([5, 6, 7], "length", None)


class GenerationEosLLM(FakeLLM):
    """The fake LLM, plus vLLM's stop at a generation-config eos (kept in token_ids, stop_reason None)."""

    def generate(self, prompts, sampling_params=None, use_tqdm=True):
        results = super().generate(prompts, sampling_params, use_tqdm)
        for res, sp in zip(results, sampling_params):
            o = res.outputs[0]
            if GEN_EOS in o.token_ids and o.token_ids.index(GEN_EOS) >= sp.min_tokens:
                ids = o.token_ids[: o.token_ids.index(GEN_EOS) + 1]
                res.outputs[0] = FakeCompletionOutput(0, TOK.decode(ids[:-1]), ids, None, None, "stop", None)
        return results


def _eos_after_first_line(context: list[int]) -> int:
    """Thinks one line, then writes the generation-config eos; after `Wait`, ends thinking; answers 7."""
    text = TOK.decode(context)
    tail = text.rsplit("<|im_start|>think", 1)[-1]
    if "<|im_start|>answer" in tail:
        return IDS("7")[0] if not tail.endswith("7") else IM_END
    if tail.endswith("Wait"):
        return IM_START
    if tail.endswith("\n"):
        return GEN_EOS
    return LINE[len(IDS(tail.rsplit("\n", 1)[-1])) % len(LINE)]


def test_the_vllm_engine_reports_a_generation_config_eos_as_itself(tmp_path):
    GenerationEosLLM.script = staticmethod(_eos_after_first_line)
    engine = VLLMEngine("m", TOK, llm_cls=GenerationEosLLM, sampling_params_cls=FakeSamplingParams, platform="cpu")
    prompt = IDS(prompt_text(TOK, "sum A1") + "<|im_start|>think")
    ((out,),) = engine.generate_requests([GenerationRequest(tuple(prompt), 30, stop_ids=(IM_START,))])
    assert (out.finish_reason, out.stop_id) == ("stop", GEN_EOS) and GEN_EOS != engine.eos_id
    assert GEN_EOS not in out.token_ids and TOK.decode(out.token_ids).startswith("A1:0+1=1")
    # the authors' rounds keep that token in the context (not one of their stop strings) and Wait follows it
    protocol = AuthorsProtocol(num_ignore=1, max_answer_tokens=5)
    (run,) = run_authors(engine, [IDS(prompt_text(TOK, "sum A1"))], AuthorsTokens.build(TOK, protocol), protocol, 30)
    text = TOK.decode(run.sample.token_ids)
    assert text.startswith("A1:0+1=1\n<|endoftext|>Wait"), text
    assert run.sample.rounds[0]["stop"] == [GEN_EOS]


def test_a_vllm_server_reports_a_generation_config_eos_as_itself():
    engine = OpenAIEngine("http://127.0.0.1:9/v1", "m", TOK, server="vllm", check=False)
    req = GenerationRequest((1, 2), 10, stop_ids=(IM_START,))
    out = engine._output(req, {"text": "A1", "token_ids": LINE[:2] + [GEN_EOS], "finish_reason": "stop",
                               "stop_reason": None}, 3)
    assert (out.token_ids, out.finish_reason, out.stop_id) == (LINE[:2], "stop", GEN_EOS)
    out = engine._output(req, {"text": "A1", "token_ids": LINE[:2] + [IM_START], "finish_reason": "stop",
                               "stop_reason": IM_START}, 3)
    assert (out.token_ids, out.stop_id) == (LINE[:2], IM_START)
    engine.close()
