"""judge.protocol=authors: the authors' MATH/AIME LLM check (``lm_eval/tasks/{openai_math,aime}/utils.py``
``process_results`` in simplescaling/s1), against a re-statement of their loop written here and
their prompt text's digest, then over the wire to a real ``transformers serve`` (SmolLM2)."""

import hashlib

from conftest import compose_config
from s1x.grading import same_answer
from s1x.grading.authors_judge import MAX_TOKENS, TEMPERATURE, authors_judge_prompt, pick_option
from s1x.grading.judge import judge_grade_many
from s1x.config.checks import validate

# sha256 of their EXTRACTION_TEMPLATE_IDX (after .strip()), read at commit 77272c6 of simplescaling/s1:
# tasks/openai_math/utils.py and tasks/aime/utils.py (the AIME one differs in one example's options).
THEIR_TEMPLATE_SHA256 = {"math": "835225d1197dd1cffed1ba39e028ee52b0e0f3500665d6865c8a98192db2f143",
                         "aime": "f7aa42f471b68fe4d5f809bc00430d36c9f0942c331a706a3353df5cc4ec383d"}


def _fake_llm(options_str: str, attempt: str) -> str:
    """A scripted judge: the index of the first option math-verify holds equal, with odd replies
    for the attempts named so (to exercise their parsing). Both sides are answers already
    extracted, so they are compared as such (a bare ``\\frac12`` states no box or marker)."""
    if attempt == "garbage":
        return "The answer is 1"
    if attempt == "oob":
        return "7"
    options = [o[1:-1] for o in options_str[1:-1].split(", ")]
    return next((str(i + 1) for i, o in enumerate(options) if same_answer(attempt, o, "math")), "-1")


def _their_process_results(answers: list[str], gold: str, sampler) -> tuple[list[str], list[int]]:
    """Their loop over one question's extracted answers (option order after the gold: first seen,
    where their code takes a set's order)."""
    gt = str(int(gold)) if isinstance(gold, str) and gold.isdigit() else str(gold)
    extracted = []
    for a in answers:
        if a.isdigit() and gt.isdigit():
            a = str(int(a))
        else:
            options = [gt] + [o for o in dict.fromkeys(extracted) if o != gt]
            options_str = "[" + ", ".join(["'" + str(o) + "'" for o in options]) + "]"
            idx = sampler(options_str, a)
            if idx != "-1" and idx.isdigit():
                k = int(idx) - 1
                if len(options) > k >= 0:
                    a = options[k]
        extracted.append(a)
    return extracted, [int(a == gt) for a in extracted]


CASES = {  # question -> (gold, extracted answers in sample order)
    "q1": ("\\frac{1}{2}", ["0.5", "1/3", "0.333", "oob", "\\frac12", "garbage"]),
    "q2": ("023", ["23", "x=23", "garbage", "24"]),
    "q3": ("5", ["5"]),
}


def test_judge_protocol_prompt_is_the_authors_template():
    for variant, digest in THEIR_TEMPLATE_SHA256.items():
        text = authors_judge_prompt(["@O@"], "@A@", variant)
        # back to their template's placeholders, as it stands in their file
        theirs = text.replace("['@O@']", "%(expression1)s").replace("@A@", "%(expression2)s")
        assert hashlib.sha256(theirs.encode()).hexdigest() == digest, variant
    prompt = authors_judge_prompt(["\\text{Evelyn}", "1/2"], "Evelyn", "math")
    assert prompt.endswith("    Options: ['\\text{Evelyn}', '1/2']\n    Attempt: Evelyn")


def test_judge_protocol_parsing_and_options_equal_their_loop():
    sent = []

    def complete(prompts, temperature, seed):
        out = []
        for p in prompts:
            head, attempt = p.rsplit("\n    Attempt: ", 1)
            options_str = head.rsplit("\n    Options: ", 1)[1]
            sent.append((options_str, attempt, temperature))
            out.append(_fake_llm(options_str, attempt))
        return out

    questions, predictions, golds = [], [], []
    for q, (gold, answers) in CASES.items():
        for a in answers:  # interleaved per question by position, as the evaluator lists samples
            questions.append(q), predictions.append(f"<|im_start|>answer\nAnswer: {a}"), golds.append(gold)
    grades = judge_grade_many(questions, predictions, golds, complete, extraction="authors", protocol="authors")
    theirs_sent = []
    for q, (gold, answers) in CASES.items():
        mapped, correct = _their_process_results(
            answers, gold, lambda o, a: theirs_sent.append((o, a, TEMPERATURE)) or _fake_llm(o, a))
        mine = [g for g, qq in zip(grades, questions) if qq == q]
        assert [g.extracted for g in mine] == mapped, q
        assert [int(g.correct) for g in mine] == correct, q
    assert sorted(sent) == sorted(theirs_sent) and all(t == 0.5 for *_, t in sent)
    assert [g.correct for g in grades[:6]] == [True, False, False, False, True, False]
    assert grades[3].undecided and grades[5].undecided and not grades[0].undecided  # "7" out of range, prose
    assert grades[6].reply == "(digits compared, no LLM asked)" and grades[6].correct  # 23 vs 023
    assert pick_option("2", ["a", "b"], "x") == ("b", True) and pick_option(" 2", ["a", "b"], "x") == ("x", False)


def test_judge_protocol_composes_with_split_thinking():
    cfg = compose_config(["setting=paper", "method=majority", "method.split_thinking=false", "judge.protocol=authors",
                          "benchmark.math500.grader=judge", "judge.model=some/judge"])
    validate(cfg)
    assert cfg.judge.protocol == "authors" and compose_config(["setting=paper"]).judge.protocol == "authors"
    assert compose_config([]).judge.protocol == "s1x"
    from s1x.evaluate.judge_engine import judge_max_tokens, judge_template

    assert judge_max_tokens(cfg.judge) == MAX_TOKENS == 1024 and judge_max_tokens(compose_config([]).judge) == 32
    assert (judge_template("aime24"), judge_template("math500")) == ("aime", "math")


def test_judge_protocol_authors_over_a_served_model(smol_served, smol_checkpoint):
    """The wire: engine=openai's chat completions to a real server carry their prompt, temperature
    0.5 and 1,024 tokens; each grade is their reading of the reply the server sent."""
    from s1x.evaluate.judge_engine import judge_max_tokens, request_completer
    from s1x.engines import make_engine

    url, _ = smol_served
    cfg = compose_config(["judge.protocol=authors", "judge.engine.name=openai", f"judge.engine.base_url={url}",
                          "judge.engine.api_key_env=S1X_NO_KEY"])
    engine = make_engine(cfg.judge.engine, smol_checkpoint)
    calls = []
    real_chat = engine.chat

    def chat(prompts, temperature, seed, max_tokens):
        replies = real_chat(prompts, temperature, seed, max_tokens)
        calls.append((list(prompts), temperature, max_tokens, replies))
        return replies

    engine.chat = chat
    complete = request_completer(engine, judge_max_tokens(cfg.judge))
    grades = judge_grade_many(["q", "q", "r"], ["Answer: 0.5", "Answer: 1/3", "Answer: x=7"], ["\\frac{1}{2}"] * 2 + ["7"],
                              complete, extraction="authors", protocol="authors")
    assert [(t, m) for _, t, m, _ in calls] == [(0.5, 1024), (0.5, 1024)]  # q's two samples in order; r with q's first
    first, second = calls
    assert first[0] == [authors_judge_prompt(["\\frac{1}{2}"], "0.5"), authors_judge_prompt(["7"], "x=7")]
    mapped_q0 = pick_option(first[3][0], ["\\frac{1}{2}"], "0.5")[0]
    q_options = ["\\frac{1}{2}"] + ([mapped_q0] if mapped_q0 != "\\frac{1}{2}" else [])  # gold + earlier answers
    assert second[0] == [authors_judge_prompt(q_options, "1/3")]
    assert grades[0].extracted == mapped_q0 and grades[0].correct == (mapped_q0 == "\\frac{1}{2}")
    assert grades[1].extracted == pick_option(second[3][0], q_options, "1/3")[0]
    assert all(isinstance(r, str) for *_, rs in calls for r in rs)
