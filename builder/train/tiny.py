"""A tiny Llama-architecture model and tokenizer, built locally from texts (no download).

For smoke-testing a training setup offline: tests and ``bench/train_cpu.py`` build one from the demo
corpus, train a few LoRA steps on it and load the adapter back. The tokenizer is a byte-level BPE
trained on the given texts with the ``tokenizers`` library, so any Chinese text (and any byte)
round-trips; ``chat_template=True`` gives it a ChatML-style template, else it has none and the trainer
falls back to the alpaca prompt from ``prompts/train/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

CHATML_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]


def build_tokenizer(texts: Iterable[str], vocab_size: int = 1024, chat_template: bool = False):
    """A byte-level BPE tokenizer trained on ``texts``, wrapped as a ``PreTrainedTokenizerFast``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(list(texts), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="<|im_end|>" if chat_template else "</s>",
                                   pad_token="<pad>", additional_special_tokens=["<|im_start|>", "<|im_end|>"] if chat_template else None)
    if chat_template:
        fast.chat_template = CHATML_TEMPLATE
    return fast


def build_tiny_llama(texts: Iterable[str], folder: str | Path, *, hidden_size: int = 64, layers: int = 2, heads: int = 4,
                     vocab_size: int = 1024, max_positions: int = 1024, chat_template: bool = False, seed: int = 0,
                     pretrain_steps: int = 0, pretrain_length: int = 64) -> Path:
    """Write a tiny ``LlamaForCausalLM`` and its tokenizer to ``folder``; return the folder.

    ``pretrain_steps`` > 0 first trains all its weights for that many steps on ``texts`` (windows of
    ``pretrain_length`` tokens), so it starts from a language model rather than uniform noise and a
    LoRA run on top of it has something to adjust.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    texts = list(texts)
    tokenizer = build_tokenizer(texts, vocab_size=vocab_size, chat_template=chat_template)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                         max_position_embeddings=max_positions, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    if pretrain_steps:
        _pretrain(model, tokenizer, texts, pretrain_steps, pretrain_length, seed)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _pretrain(model, tokenizer, texts: list[str], steps: int, length: int, seed: int, batch: int = 8) -> None:
    import torch

    ids = []
    for t in texts:
        ids += tokenizer(t, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    windows = torch.tensor([ids[i:i + length] for i in range(0, len(ids) - length, length)], dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        x = windows[torch.randint(len(windows), (batch,), generator=gen)]
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
