"""A direct re-statement of the authors' evaluation loop, for the tests only (no s1x code).

``ReferenceLLM`` plays vLLM's ``LLM.generate`` greedily over a transformers model,
one prompt at a time: ``max_tokens``; ``min_tokens`` (stop ids and eos masked
before it, no stop checked before it); ``stop_token_ids``; ``stop`` strings
matched in the decoded text (special tokens kept, their ``skip_special_tokens=False``);
the eos always stops; ``token_ids`` keep the token that stopped, the text does
not. ``authors_generate`` then follows ``_model_generate`` of their
``lm_eval/models/vllm_causallms.py`` statement by statement (rejection sampling aside).
"""

from __future__ import annotations

import copy
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


class ReferenceLLM:
    """vLLM's offline generate, greedy, one prompt at a time, over a transformers model."""

    def __init__(self, model, tok):
        self.model, self.tok = model, tok

    @torch.inference_mode()
    def generate(self, prompt_token_ids, sampling_params):
        sp = sampling_params
        results = []
        for prompt in prompt_token_ids:
            stop_ids = list(sp.get("stop_token_ids", [])) + [self.tok.eos_token_id]
            crit = _Stop(self.tok, len(prompt), sp.get("min_tokens", 0), stop_ids, sp.get("stop", []))
            gen = self.model.generate(
                input_ids=torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                max_new_tokens=sp["max_tokens"], do_sample=False, repetition_penalty=1.0, eos_token_id=None,
                pad_token_id=self.tok.pad_token_id,
                logits_processor=LogitsProcessorList([_MaskBefore(len(prompt), sp.get("min_tokens", 0), stop_ids)]),
                stopping_criteria=StoppingCriteriaList([crit]))
            out = gen[0, len(prompt):].tolist()
            text = self.tok.decode(out, skip_special_tokens=False)
            finish = "length"
            if crit.hit is not None:
                finish = "stop"
                text = text[: text.index(crit.hit[1])] if crit.hit[0] == "str" else self.tok.decode(out[:-1])
            results.append(SimpleNamespace(outputs=[SimpleNamespace(text=text, token_ids=out, finish_reason=finish)]))
        return results


def authors_generate(llm, tok, requests, max_tokens_thinking, thinking_n_ignore=None, thinking_n_ignore_str="Wait",
                     max_gen_toks=12):
    """Their ``_model_generate`` for ``requests`` (chat-templated prompt ids): returns the full token
    sequences (prompt, thinking, end, answer) and the thinking count of each (their ``cont``)."""
    enc = lambda s: tok(s, add_special_tokens=False).input_ids  # noqa: E731 - their tok_encode
    until = [tok.decode(tok.eos_token_id)]  # generate_until: `until: []` plus the eos string
    thinking_start, thinking_end = "<|im_start|>think", "<|im_start|>answer"
    until_thinking = ["<|im_start|>"] + until
    thinking_start_tok, thinking_end_tok = enc(thinking_start), enc(thinking_end)
    thinking_end_max = thinking_end + "\nFinal Answer:"
    thinking_end_max_tok, newline_tok = enc(thinking_end_max), enc("\n")
    thinking_n_ignore_str_tok = enc(thinking_n_ignore_str) if thinking_n_ignore_str is not None else None
    until_thinking_tok = [enc(u) for u in until_thinking]
    params = {"max_tokens": int(max_tokens_thinking)}
    if thinking_n_ignore is not None:
        params["min_tokens"] = 1
        params["stop_token_ids"] = [x[0] for x in until_thinking_tok]
    else:
        params["stop"] = until_thinking
    requests = [list(r) + thinking_start_tok for r in requests]
    if thinking_n_ignore is not None:
        thinking_n_ignore = int(thinking_n_ignore) + 1
        outputs_thinking = [None] * len(requests)
        requests_tmp = copy.deepcopy(requests)
        indices = list(range(len(requests)))
        for i in range(thinking_n_ignore):
            outputs_tmp = llm.generate(requests_tmp, params)
            indices_new, requests_tmp_new = [], []
            for j, o in enumerate(outputs_tmp):
                idx = indices[j]
                cont = list(o.outputs[0].token_ids)
                if (o.outputs[0].finish_reason == "length") or (i == thinking_n_ignore - 1):
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
                    if thinking_n_ignore_str is not None:
                        cont += thinking_n_ignore_str_tok
                        o.outputs[0].text += thinking_n_ignore_str
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
            if (o.outputs[0].text[-1] == "\n") or (thinking_start[0] == "\n"):
                requests[i] += cont + thinking_end_max_tok
            else:
                requests[i] += cont + newline_tok + thinking_end_max_tok
        else:
            requests[i] += cont + thinking_end_tok
    answers = llm.generate(requests, {"max_tokens": max_gen_toks, "stop": until})
    return [r + list(a.outputs[0].token_ids) for r, a in zip(requests, answers)], counts
