"""The LLM judge: Yes/No protocol, retries, and the engine path."""

from s1x.grading.judge import judge_grade_many, judge_prompt, parse_verdict


def test_parse_verdict():
    assert parse_verdict("Yes") is True and parse_verdict("no.") is False
    assert parse_verdict("At first no, but after simplifying: Yes") is True
    assert parse_verdict("They are equal") is None and parse_verdict("") is None
    assert parse_verdict("Yesterday I noticed") is None  # whole words only


def test_judge_asks_again_when_undecided_and_grades():
    calls = []

    def complete(prompts, temperature, seed):
        calls.append((len(prompts), temperature))
        out = []
        for p in prompts:
            if "Student's final answer: 1/2" in p:
                out.append("Yes" if temperature > 0 else "Let me think...")  # decides on the retry
            elif "Student's final answer: 3" in p:
                out.append("No")
            else:
                out.append("hmm")
        return out

    grades = judge_grade_many(["q1", "q2", "q3"], ["Answer: 1/2", "Answer: 3", "Answer: ?"], ["0.5", "4", "7"],
                              complete, retries=1)
    assert [g.correct for g in grades] == [True, False, False]
    assert [g.undecided for g in grades] == [False, False, True]
    assert calls == [(3, 0.0), (2, 0.7)]
    assert "Reference answer: 0.5" in judge_prompt("q", "0.5", "1/2")


def test_judge_through_an_engine():
    from s1x.engines.hf_generate import Completion
    from s1x.selection.featurize import text_completer
    from s1x.world.tokenizer import build_tokenizer

    tok = build_tokenizer()

    class FakeEngine:
        def generate(self, prompts, max_new_tokens, temperature=0.0, seed=0, desc=""):
            return [Completion(tok("Answer<|im_end|>")["input_ids"], "eos", None, i) for i in range(len(prompts))]

    grades = judge_grade_many(["q"], ["Answer: 5"], ["5"], text_completer(FakeEngine(), tok, 4), retries=0)
    assert grades[0].undecided and not grades[0].correct  # "Answer" is no verdict


def test_the_judge_of_a_server_engine_asks_in_chat_completions():
    """An engine with ``chat`` (engine=openai) gets the judge's prompts as user turns, the server
    applying the chat template; its replies are graded as they come back."""
    from s1x.evaluate.judge_engine import request_completer

    asked = []

    class ServerEngine:
        tokenizer = None  # never used: the server owns the template

        def chat(self, prompts, temperature, seed, max_tokens):
            asked.append((list(prompts), temperature, seed, max_tokens))
            return ["Yes" if "q1" in p else "No" for p in prompts]

    complete = request_completer(ServerEngine(), 16)
    grades = judge_grade_many(["q1", "q2"], ["Answer: 5", "Answer: 9"], ["5", "8"], complete, retries=0)
    assert [g.correct for g in grades] == [True, False]
    prompts, temperature, _seed, max_tokens = asked[0]
    assert len(asked) == 1 and len(prompts) == 2 and "q1" in prompts[0] and "q2" in prompts[1]
    assert (temperature, max_tokens) == (0.0, 16)  # greedy first ask, the judge's token cap
