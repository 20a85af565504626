"""A word-level tokenizer for the tiny world, built locally with ``tokenizers``.

The vocabulary is enumerated, not learned, so it is identical for every seed
and covers every token the generators can write. Text splits into runs of
letters followed by at most one digit (``C7``, ``mod7``, ``answer``), runs of
digits (``108``), and single other characters (``:``, ``\\n``, space); the Fuse
decoder concatenates tokens back, so decode(encode(text)) == text exactly.
"""

from __future__ import annotations

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from s1x.world.tasks import CHOICE_LABELS, LETTERS

IM_START, IM_END, PAD, UNK = "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<unk>"
SPECIAL_TOKENS = [PAD, UNK, IM_START, IM_END]

# Qwen-style chat template, no default system message (it would only cost tokens
# in the tiny world). Newlines are emitted explicitly: Jinja whitespace control
# would strip them (TINY_WORLD.md pitfall).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SPLIT_PATTERN = r"[A-Za-z]+[0-9]?|[0-9]+|[^A-Za-z0-9]"

WORDS = [
    # task heads and trace words
    "sum", "count", "in", "parity", "mod7", "max", "even", "odd", "choices",
    # chat template, think/answer delimiters and the answer prefix
    "system", "user", "assistant", "think", "answer", "Answer", "Final", "Wait", "Hmm",
    "Alternatively", "You", "are", "a", "helpful", "Think", "briefly", "long", "step", "by",
]
PUNCT = [" ", "\n", ":", "+", "=", "%", "(", ")", ",", "?", ".", "-", "!", "*"]
MAX_NUMBER = 128  # sums of 12 digits stay <= 108; leave room for budgets in prompts

# Appended after the core vocabulary for the tokens/steps trace formats (TCC/SCC):
# budget statements ("Think for up to 96 tokens.") and countdowns past 128. The base
# model is built and pretrained on the core ids only (:func:`core_size`), so adding
# these changed nothing it learns; SFT in those formats grows the embeddings
# (s1x.sft), as one does when a format brings new tokens.
EXTENSION_WORDS = ["for", "up", "to", "tokens", "steps", "left"]
MAX_EXTENDED_NUMBER = 256


def _core_vocabulary() -> list[str]:
    items = [f"{letter}{d}" for letter in LETTERS for d in range(10)]
    singles = sorted(set(LETTERS) | set(CHOICE_LABELS))
    numbers = [str(i) for i in range(MAX_NUMBER + 1)]
    seen, vocab = set(), []
    for tok in SPECIAL_TOKENS + PUNCT + WORDS + singles + items + numbers:
        if tok not in seen:
            seen.add(tok)
            vocab.append(tok)
    return vocab


def core_size() -> int:
    """Number of tokens the base model is built for (the vocabulary before the extension)."""
    return len(_core_vocabulary())


def vocabulary() -> list[str]:
    """Every token of the tiny world, specials first, the extension last (ids are stable)."""
    core = _core_vocabulary()
    extension = EXTENSION_WORDS + [str(i) for i in range(MAX_NUMBER + 1, MAX_EXTENDED_NUMBER + 1)]
    return core + [t for t in extension if t not in set(core)]


def build_tokenizer() -> PreTrainedTokenizerFast:
    """Build the tiny-world tokenizer (fast, with chat template and padding on the left)."""
    vocab = {tok: i for i, tok in enumerate(vocabulary())}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated")
    core.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=None,
        eos_token=IM_END,
        pad_token=PAD,
        unk_token=UNK,
        additional_special_tokens=[IM_START],
        padding_side="left",
    )
    tok.chat_template = CHAT_TEMPLATE
    return tok

