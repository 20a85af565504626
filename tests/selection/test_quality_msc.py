"""Quality flags and MSC domain classification (parsing, retries, cached answers)."""

import json
import random
import re
from pathlib import Path

import pytest

from s1x.selection.msc import UNKNOWN, classification_prompt, classify_domains, msc_codes, parse_code
from s1x.selection.quality import notebook_quality_flags, quality_flags

SHARED_MSC = Path(__file__).resolve().parents[3] / "shared" / "data" / "msc.json"


def _flags(question, trace="some reasoning", attempt="42", source="numina"):
    return {k for k, v in quality_flags(question, trace, attempt, source).items() if v}


def test_quality_flags_each_rule():
    assert _flags("Find x if 2x = 4.") == set()
    assert _flags("Find x.", trace="") == {"missing_trace"}
    assert _flags("Find x.", trace="Error: rate limit exceeded") == {"generation_error"}
    asy = "In the figure [asy] draw((0,0)--(1,1)); [/asy] find the area."
    assert _flags(asy) == {"asy"}
    assert _flags(asy, source="qq8933/AIME_1983_2024") == set()  # AIME keeps its figures
    assert _flags("As shown in ![Image](fig1.png), find AB.") == {"image"}
    assert _flags("p1. Find all primes p such that p+2 is prime.") == {"numbering"}
    assert _flags("Warm-up.\n p2. Show that 7 divides 8^n - 1.") == {"numbering"}
    assert _flags("**1.** Prove that n^2 >= n.") == {"bold_number"}
    # Lookalikes that are fine: a variable p, a decimal, bold words.
    assert _flags("Let p1 and p2 be primes with p1 < p2. Is 2.5 rational? **Prove** it.") == set()


def _notebook_drops(question, source="AI-MO/NuminaMath-CoT/olympiads"):
    """The notebook's cell 7, re-stated: True when the question is dropped."""
    clean = "[asy]" not in question and "![Image]" not in question \
        and not any(f"p{i}." in question for i in range(1, 1000)) \
        and not re.search(r"\*\*(?=.*\d)[^\s\]]*\*\*", question)
    return not (clean or ("[asy]" in question and "AIME" in source))


@pytest.mark.parametrize("question, source, flags", [
    ("Find x if 2x = 4.", "numina", set()),
    ("Step1. Add the numbers.", "numina", {"numbering"}),  # p{i}. anywhere
    ("Split the group1. Then count.", "numina", {"numbering"}),
    ("Let $p1.5$ be a price.", "numina", {"numbering"}),
    ("A p1000. tag and a p0. tag are not p{1..999}.", "numina", set()),
    ("**Egyptian** fractions: write 1 as a sum, with 32 terms.", "numina", {"bold_number"}),
    ("**Egyptian** fractions: write one as a sum.", "numina", set()),  # no digit after it on the line
    ("**Egyptian** fractions\nwith 32 terms.", "numina", set()),  # '.' stops at the line end
    ("Draw [ASY]size(5);[/ASY] it.", "numina", set()),  # case-sensitive
    ("As in ![Image](f.png), find AB.", "numina", {"image"}),
    ("As in ![image](f.png), find AB.", "numina", set()),
    ("[asy]draw(A--B);[/asy] Find AB.", "qq8933/AIME_1983_2024", set()),
    ("[asy]draw(A--B);[/asy] Find AB.", "AI-MO/NuminaMath-CoT/amc_aime", {"asy"}),  # 'AIME' is case-sensitive
    ("[asy]draw(A--B);[/asy] Find AB.", "Idavidrein/gpqa", {"asy"}),
    # The notebook's elif: an AIME [asy] question is kept whatever else it contains.
    ("[asy]draw(A--B);[/asy] Step1. **Note** 3", "qq8933/AIME_1983_2024", set()),
])
def test_notebook_quality_rules(question, source, flags):
    got = {k for k, v in notebook_quality_flags(question, source).items() if v}
    assert got == flags
    assert bool(got) == _notebook_drops(question, source)


def test_notebook_numbering_regex_equals_the_999_substring_tests():
    rng = random.Random(0)
    alphabet = "pP0123456789. x"
    for _ in range(3000):
        q = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 16)))
        assert bool(notebook_quality_flags(q, "")["numbering"]) == any(f"p{i}." in q for i in range(1, 1000)), q


def test_msc_list_ships_with_the_package():
    codes = [e["code"] for e in msc_codes()]
    assert len(codes) == 61 and len(set(codes)) == 61 and "05" in codes and "11" in codes
    prompt = classification_prompt("How many subsets of {1,2,3} are there?")
    assert "* Code: 05" in prompt and "How many subsets" in prompt
    if SHARED_MSC.exists():
        assert list(msc_codes()) == json.loads(SHARED_MSC.read_text())


@pytest.mark.parametrize(
    "reply, code",
    [
        ("Code: 05", "05"),
        ("This is about primes, so number theory.\n\nCode: 11", "11"),
        ("**MSC: 60**", "60"),
        ("code 5", "05"),
        ("I first thought 05, but the final answer is 11.", "11"),
        ("The answer is 99 because of 2024 cases; it is Combinatorics.", "05"),  # 99 is no MSC code
        ("Number theory", "11"),
        ("I cannot classify this.", None),
        ("", None),
    ],
)
def test_parse_code(reply, code):
    assert parse_code(reply) == code


def test_classify_retries_then_caches_answers(tmp_path):
    questions = {"a": "count primes", "b": "area of circle", "c": "unparseable"}
    calls = []

    def complete(prompts, temperature, seed):
        calls.append((len(prompts), temperature, seed))
        out = []
        for p in prompts:
            if "count primes" in p:
                out.append("Code: 11")
            elif "area of circle" in p:  # fails greedily, succeeds when sampled
                out.append("Code: 51" if temperature > 0 else "hmm")
            else:
                out.append("no idea")
        return out

    answers = tmp_path / "answers.jsonl"
    got = classify_domains(questions, complete, retries=2, retry_temperature=0.7, seed=10, answers_path=answers)
    assert got == {"a": "11", "b": "51", "c": UNKNOWN}
    assert calls == [(3, 0.0, 10), (2, 0.7, 11), (1, 0.7, 12)]
    # A line cut by a kill is ignored; parsed answers are reused, only 'c' is asked again.
    with open(answers, "a") as f:
        f.write('{"id": "c", "co')
    calls.clear()
    again = classify_domains(questions, complete, retries=0, answers_path=answers)
    assert again == got and calls == [(1, 0.0, 0)]


def test_text_completer_runs_prompts_through_an_engine_as_chat_turns():
    from s1x.engines.hf_generate import Completion
    from s1x.selection.featurize import text_completer
    from s1x.world.tokenizer import build_tokenizer

    tok = build_tokenizer()
    seen = []

    class FakeEngine:  # the engine interface: token ids in, Completions out
        def generate(self, prompts, max_new_tokens, temperature=0.0, seed=0, desc=""):
            seen.append((prompts, max_new_tokens, temperature, seed))
            return [Completion(tok("11<|im_end|>")["input_ids"], "eos", None, i) for i in range(len(prompts))]

    complete = text_completer(FakeEngine(), tok, max_new_tokens=8)
    got = classify_domains({"q1": "sum A1 B2", "q2": "max A3 B4"}, complete)
    assert got == {"q1": "11", "q2": "11"}
    prompts, max_new, temperature, seed = seen[0]
    assert (max_new, temperature, seed) == (8, 0.0, 0) and len(prompts) == 2
    text = tok.decode(prompts[0])
    assert text.startswith("<|im_start|>user\n") and text.endswith("<|im_start|>assistant\n")
