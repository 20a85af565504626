"""A direct re-statement of the authors' evaluation loop, for the tests only (no s1x code).

``ReferenceLLM`` plays vLLM's ``LLM.generate`` greedily over a transformers model,
one prompt at a time: ``max_tokens``; ``min_tokens`` (stop ids and eos masked
before it, no stop checked before it); ``stop_token_ids``; ``stop`` strings
matched in the decoded text (special tokens kept, their ``skip_special_tokens=False``);
the eos always stops; ``token_ids`` keep the token that stopped, the text does
not. ``model_generate`` then follows ``_model_generate`` of their
``lm_eval/models/vllm_causallms.py`` statement by statement (the split thinking with
and without ``thinking_n_ignore``, ``rejection_sample``, and the unsplit path when no
thinking gen_kwargs are given); ``query`` is their tasks' ``QUERY_TEMPLATE`` (PROMPTTOKEN,
PROMPTSTEP, PROMPTLONG, PROMPTSHORT in ``lm_eval/tasks/aime/utils.py``) and
``chat_prompt`` lm-eval's ``--apply_chat_template``. Every string here is typed from
their files, never taken from s1x.

Sampling (``temperature > 0``) uses a fixed stream: the draw of a request depends only
on its context ids and how many times that exact context was asked before
(:class:`Stream`), so two loops that send the same requests in the same order get the
same samples whatever engine batching they use.
"""

from __future__ import annotations

import copy
import hashlib
from types import SimpleNamespace

import torch
from transformers import LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList


class _MaskBefore(LogitsProcessor):
    def __init__(self, width, min_tokens, ids):
        self.width, self.min_tokens, self.ids = width, min_tokens, ids

    def __call__(self, input_ids, scores):
        if input_ids.shape[1] - self.width < self.min_tokens:
            scores[:, self.ids] = float("-inf")
        return scores


class _Stop(StoppingCriteria):
    def __init__(self, tok, width, min_tokens, stop_ids, stop_strings):
        self.tok, self.width, self.min_tokens, self.stop_ids, self.strings = tok, width, min_tokens, stop_ids, stop_strings
        self.hit = None

    def __call__(self, input_ids, scores, **kwargs):
        out = input_ids[0, self.width:].tolist()
        if len(out) < self.min_tokens or not out:
            return torch.tensor([False])
        if out[-1] in self.stop_ids:
            self.hit = ("id", out[-1])
        else:
            text = self.tok.decode(out, skip_special_tokens=False)
            found = [s for s in self.strings if s in text]
            if found:
                self.hit = ("str", min(found, key=text.index))
        return torch.tensor([self.hit is not None])


class Stream:
    """A fixed random stream: the generator of the n-th request for a context is seeded by a
    hash of (context ids, n); shared by both loops of a comparison, reset between them."""

    def __init__(self):
        self.seen: dict[tuple[int, ...], int] = {}

    def reset(self) -> None:
        self.seen.clear()

    def generator(self, context) -> torch.Generator:
        key = tuple(int(t) for t in context)
        n = self.seen.get(key, 0)
        self.seen[key] = n + 1
        digest = hashlib.sha256(repr((key, n)).encode()).digest()
        return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))


class _Draw(LogitsProcessor):
    """Replaces the scores by a one-hot of a token drawn from softmax(scores / temperature) with
    the stream's generator, over vLLM's nucleus: the most probable tokens whose probabilities,
    before the last one kept, sum to less than ``top_p`` (at least one token; top_k off)."""

    def __init__(self, generator, temperature, top_p=1.0):
        self.generator, self.temperature, self.top_p = generator, temperature, top_p

    def __call__(self, input_ids, scores):
        probs = torch.softmax(scores[0].float() / self.temperature, dim=-1)
        if self.top_p < 1.0:
            sorted_p, order = torch.sort(probs, descending=True)
            drop = (torch.cumsum(sorted_p, 0) - sorted_p) >= self.top_p
            drop[0] = False
            probs = probs.clone()
            probs[order[drop]] = 0.0
        pick = int(torch.multinomial(probs, 1, generator=self.generator))
        out = torch.full_like(scores, float("-inf"))
        out[0, pick] = 0.0
        return out


class ReferenceLLM:
    """vLLM's offline generate, one prompt at a time, over a transformers model: greedy at
    temperature 0, else drawn from ``stream`` (a :class:`Stream`)."""

    def __init__(self, model, tok, stream=None):
        self.model, self.tok, self.stream = model, tok, stream

    @torch.inference_mode()
    def generate(self, prompt_token_ids, sampling_params):
        sp = sampling_params
        results = []
        for prompt in prompt_token_ids:
            stop_ids = list(sp.get("stop_token_ids", [])) + [self.tok.eos_token_id]
            crit = _Stop(self.tok, len(prompt), sp.get("min_tokens", 0), stop_ids, sp.get("stop", []))
            processors = [_MaskBefore(len(prompt), sp.get("min_tokens", 0), stop_ids)]
            if sp.get("temperature", 0):
                processors.append(_Draw(self.stream.generator(prompt), sp["temperature"], sp.get("top_p", 1.0)))
            gen = self.model.generate(
                input_ids=torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                max_new_tokens=sp["max_tokens"], do_sample=False, repetition_penalty=1.0, eos_token_id=None,
                pad_token_id=self.tok.pad_token_id, logits_processor=LogitsProcessorList(processors),
                stopping_criteria=StoppingCriteriaList([crit]))
            out = gen[0, len(prompt):].tolist()
            text = self.tok.decode(out, skip_special_tokens=False)
            finish = "length"
            if crit.hit is not None:
                finish = "stop"
                text = text[: text.index(crit.hit[1])] if crit.hit[0] == "str" else self.tok.decode(out[:-1])
            results.append(SimpleNamespace(outputs=[SimpleNamespace(text=text, token_ids=out, finish_reason=finish)]))
        return results


def chat_text(tok, question: str) -> str:
    """lm-eval's ``--apply_chat_template``: the tokenizer's template with the default system
    prompt and the generation prompt."""
    return tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False, add_generation_prompt=True)


def chat_prompt(tok, question: str) -> list[int]:
    """:func:`chat_text`, then their ``tok_encode`` (no special tokens added)."""
    return tok(chat_text(tok, question), add_special_tokens=False).input_ids


def query(question: str, env: dict | None = None) -> str:
    """Their ``QUERY_TEMPLATE`` for the environment of a command (tasks/aime/utils.py; the
    openai_math and gpqa utils carry the same four)."""
    env = env or {}
    if env.get("PROMPTSTEP") is not None:
        return question + "\n\nThink for up to " + str(env["PROMPTSTEP"]) + " steps."
    if env.get("PROMPTTOKEN") is not None:
        return question + "\n\nThink for up to " + str(env["PROMPTTOKEN"]) + " tokens."
    if env.get("PROMPTLONG") is not None:
        return question + ("\n\nAnswer after a long amount of thinking. If you feel like you are finished early, spend "
                           "the extra time trying to double-check your work until you are absolutely sure that you have "
                           "the correct answer.")
    if env.get("PROMPTSHORT") is not None:
        return question + "\n\nAnswer after a short amount of thinking. Do not spend excessive time double-checking your work."
    return question


def authors_generate(llm, tok, requests, max_tokens_thinking, thinking_n_ignore=None, thinking_n_ignore_str="Wait",
                     max_gen_toks=12):
    """Their budget forcing (``max_tokens_thinking`` and, unless None, ``thinking_n_ignore``)
    over ``requests`` (chat-templated prompt ids): see :func:`model_generate`."""
    kwargs = {"max_tokens_thinking": max_tokens_thinking}
    if thinking_n_ignore is not None:
        kwargs.update(thinking_n_ignore=thinking_n_ignore, thinking_n_ignore_str=thinking_n_ignore_str)
    return model_generate(llm, tok, requests, max_gen_toks, **kwargs)


def model_generate(llm, tok, requests, max_gen_toks, **gen_kwargs):
    """Their ``_model_generate(requests, generate=True, max_tokens=max_gen_toks, stop=until, **gen_kwargs)``.
    Returns the full token sequences (prompt, what was added, answer) and the thinking count
    of each (their ``cont``; None on the unsplit path)."""
    enc = lambda s: tok(s, add_special_tokens=False).input_ids  # noqa: E731 - their tok_encode
    until = [tok.decode(tok.eos_token_id)]  # generate_until: `until: []` plus the eos string
    kwargs = dict(gen_kwargs)
    requests = [list(r) for r in requests]
    rejection_sample = kwargs.pop("rejection_sample", None)
    if not (any("thinking" in k for k in kwargs) or rejection_sample):
        answers = llm.generate(requests, {"max_tokens": max_gen_toks, "stop": until, **kwargs})
        return [r + list(a.outputs[0].token_ids) for r, a in zip(requests, answers)], [None] * len(requests)
    thinking_start = kwargs.pop("thinking_start", "<|im_start|>think")
    thinking_end = kwargs.pop("thinking_end", "<|im_start|>answer")
    thinking_n_ignore = kwargs.pop("thinking_n_ignore", None)
    thinking_n_ignore_str = kwargs.pop("thinking_n_ignore_str", None)
    until_thinking = [kwargs.pop("until_thinking", "<|im_start|>")] + until
    thinking_start_tok, thinking_end_tok = enc(thinking_start), enc(thinking_end)
    thinking_end_max = thinking_end + "\nFinal Answer:"
    thinking_end_max_tok, newline_tok = enc(thinking_end_max), enc("\n")
    thinking_n_ignore_str_tok = enc(thinking_n_ignore_str) if thinking_n_ignore_str is not None else None
    params = {k.replace("_thinking", ""): kwargs.pop(k) for k in list(kwargs) if "thinking" in k}
    params = {**kwargs, **params}
    if params["max_tokens"] == "auto":
        params["max_tokens"] = max_gen_toks - max(len(x) for x in requests) - len(thinking_start_tok) \
            - len(thinking_end_max_tok) - 100
    params["max_tokens"] = int(params["max_tokens"]) + (1 if rejection_sample else 0)
    until_thinking_tok = [enc(u) for u in until_thinking]
    if "min_tokens" in params or thinking_n_ignore is not None:
        params["min_tokens"] = 1 if thinking_n_ignore is not None else int(params["min_tokens"])
        assert all(len(x) == 1 for x in until_thinking_tok)
        params["stop_token_ids"] = [x[0] for x in until_thinking_tok]
    else:
        params["stop"] = until_thinking
    requests = [r + thinking_start_tok for r in requests]
    if rejection_sample:
        outputs_thinking = _rejection_sample(llm, requests, params)
    elif thinking_n_ignore is not None:
        outputs_thinking = _ignore_rounds(llm, requests, params, int(thinking_n_ignore) + 1, until_thinking_tok,
                                          thinking_n_ignore_str, thinking_n_ignore_str_tok)
    else:
        outputs_thinking = llm.generate(requests, params)
    counts = []
    for i, o in enumerate(outputs_thinking):
        cont = list(o.outputs[0].token_ids)
        for toks in until_thinking_tok:
            if cont[-len(toks):] == toks:
                cont = cont[:-len(toks)]
        counts.append(len(cont))
        if o.outputs[0].finish_reason == "length":
            assert not rejection_sample
            if (o.outputs[0].text[-1] == "\n") or (thinking_start[0] == "\n"):
                requests[i] += cont + thinking_end_max_tok
            else:
                requests[i] += cont + newline_tok + thinking_end_max_tok
        else:
            requests[i] += cont + thinking_end_tok
    answers = llm.generate(requests, {"max_tokens": max_gen_toks, "stop": until, **kwargs})
    return [r + list(a.outputs[0].token_ids) for r, a in zip(requests, answers)], counts


def _ignore_rounds(llm, requests, params, rounds, until_thinking_tok, ignore_str, ignore_tok):
    """Their ``thinking_n_ignore`` loop, then the cut to ``max_tokens``."""
    outputs_thinking = [None] * len(requests)
    requests_tmp = copy.deepcopy(requests)
    indices = list(range(len(requests)))
    for i in range(rounds):
        outputs_tmp = llm.generate(requests_tmp, params)
        indices_new, requests_tmp_new = [], []
        for j, o in enumerate(outputs_tmp):
            idx = indices[j]
            cont = list(o.outputs[0].token_ids)
            if (o.outputs[0].finish_reason == "length") or (i == rounds - 1):
                if outputs_thinking[idx] is not None:
                    outputs_thinking[idx].outputs[0].text += o.outputs[0].text
                    outputs_thinking[idx].outputs[0].token_ids += cont
                    outputs_thinking[idx].outputs[0].finish_reason = o.outputs[0].finish_reason
                else:
                    outputs_thinking[idx] = o
                    outputs_thinking[idx].outputs[0].token_ids = cont
            else:
                for toks in until_thinking_tok:
                    if cont[-len(toks):] == toks:
                        cont = cont[:-len(toks)]
                if ignore_str is not None:
                    cont += ignore_tok
                    o.outputs[0].text += ignore_str
                if outputs_thinking[idx] is not None:
                    outputs_thinking[idx].outputs[0].text += o.outputs[0].text
                    outputs_thinking[idx].outputs[0].token_ids += cont
                else:
                    outputs_thinking[idx] = o
                    outputs_thinking[idx].outputs[0].token_ids = cont
                requests_tmp_new.append(requests_tmp[j] + cont)
                indices_new.append(idx)
        requests_tmp, indices = requests_tmp_new, indices_new
    for idx in range(len(requests)):
        if len(outputs_thinking[idx].outputs[0].token_ids) > params["max_tokens"]:
            outputs_thinking[idx].outputs[0].token_ids = outputs_thinking[idx].outputs[0].token_ids[:params["max_tokens"]]
    return outputs_thinking


def _rejection_sample(llm, requests, params):
    """Their ``rejection_sample`` waves: every wave resends a full batch; a sample whose ids
    number at most ``max_tokens - 1`` is kept for its slot or, when that slot's question is
    done, for the first question after it (cyclically) that was pending at the wave's start."""
    requests_thinking = copy.deepcopy(requests)
    outputs_thinking = [None] * len(requests_thinking)
    waves = 0
    while True:
        waves += 1
        outputs_tmp = llm.generate(requests_thinking, params)
        outputs_tmp2 = copy.deepcopy(outputs_thinking)
        for j, o in enumerate(outputs_tmp):
            if len(o.outputs[0].token_ids) <= params["max_tokens"] - 1:
                if outputs_tmp2[j] is None:
                    outputs_thinking[j] = o
                else:
                    for k, t in enumerate(outputs_tmp2[j:] + outputs_tmp2[:j]):
                        if t is None:
                            idx = j + k if j + k < len(outputs_thinking) else j + k - len(outputs_thinking)
                            outputs_thinking[idx] = o
                            break
        requests_thinking_new = [None] * len(requests_thinking)
        for j, o in enumerate(outputs_thinking):
            if outputs_thinking[j] is None:
                requests_thinking_new[j] = requests_thinking[j]
        if not sum(x is not None for x in requests_thinking_new):
            break
        for j, r in enumerate(requests_thinking_new):
            if r is None:
                for k, r2 in enumerate(requests_thinking_new[j:] + requests_thinking_new[:j]):
                    if r2 is not None:
                        requests_thinking_new[j] = r2
                        break
        requests_thinking = requests_thinking_new
        assert waves < 200, "rejection sampling did not finish in 200 waves"
    return outputs_thinking
