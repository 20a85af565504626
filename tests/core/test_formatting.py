"""The s1 SFT format and its completion-only loss mask."""

from s1x.formatting import IGNORE_INDEX, answer_text, encode_example
from s1x.world.tokenizer import build_tokenizer


def test_loss_span_starts_at_think_and_ends_with_end_of_turn():
    tok = build_tokenizer()
    e = encode_example(tok, "sum A3 B4", "A3:0+3=3\nB4:3+4=7", "7", block_size=512)
    first = next(i for i, lab in enumerate(e.labels) if lab != IGNORE_INDEX)
    assert all(lab == IGNORE_INDEX for lab in e.labels[:first])
    span = tok.decode(e.labels[first:])
    assert span.startswith("<|im_start|>think\n")
    assert span.endswith("<|im_end|>")
    assert span == "<|im_start|>think\nA3:0+3=3\nB4:3+4=7\n<|im_start|>answer\nAnswer: 7<|im_end|>"
    assert tok.decode(e.input_ids[:first]) == "<|im_start|>user\nsum A3 B4<|im_end|>\n<|im_start|>assistant\n"
    assert not e.truncated and e.n_tokens == len(e.input_ids)


def test_answer_prefix_rule_and_truncation_is_reported():
    assert answer_text("7") == "Answer: 7"
    assert answer_text("Answer: 7") == "Answer: 7"
    tok = build_tokenizer()
    e = encode_example(tok, "sum A3 B4", "A3:0+3=3\nB4:3+4=7", "7", block_size=10)
    assert e.truncated and len(e.input_ids) == 10 and e.n_tokens > 10


def test_trace_and_answer_are_stripped_as_the_authors_tokenization():
    from s1x.formatting import completion_text

    # data/tokenization.py: "<|im_start|>think\n" + trace.strip() + "\n<|im_start|>answer\n" + answer.strip()
    # The prefix comes first, so an answer's leading space stays (as in the authors' text).
    assert completion_text("\n A3:0+3=3 \n\n", " 7\n") == "<|im_start|>think\nA3:0+3=3\n<|im_start|>answer\nAnswer:  7<|im_end|>"
    assert completion_text("t", "Answer: 7 \n") == "<|im_start|>think\nt\n<|im_start|>answer\nAnswer: 7<|im_end|>"
