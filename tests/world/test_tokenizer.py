"""The tiny word-level tokenizer: exact round trip, no unknown tokens, chat template."""

from s1x.formatting import completion_text, prompt_text
from s1x.world import tasks
from s1x.world.tokenizer import build_tokenizer, vocabulary


def test_round_trip_is_exact_and_has_no_unknowns():
    tok = build_tokenizer()
    for p in tasks.generate(500, seed=3, choice_share=0.5):
        text = prompt_text(tok, p.question) + completion_text(p.trace, p.answer)
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert tok.unk_token_id not in ids
        assert tok.decode(ids) == text


def test_items_and_numbers_are_single_tokens():
    tok = build_tokenizer()
    assert len(tok("C7")["input_ids"]) == 1
    assert len(tok("108")["input_ids"]) == 1
    assert tok.convert_ids_to_tokens(tok("\n")["input_ids"]) == ["\n"]
    assert len(vocabulary()) == len(set(vocabulary())) < 600


def test_chat_template_is_qwen_shaped():
    tok = build_tokenizer()
    assert prompt_text(tok, "sum A1") == "<|im_start|>user\nsum A1<|im_end|>\n<|im_start|>assistant\n"
