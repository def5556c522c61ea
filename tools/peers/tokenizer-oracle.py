"""The reference side of the tokenizer parity tests (runs in the tokenizer-env venv).

    $TOKENIZERS_PYTHON tools/peers/tokenizer-oracle.py encode FILE [--add-special] < texts.jsonl
    $TOKENIZERS_PYTHON tools/peers/tokenizer-oracle.py decode FILE [--skip-special] < ids.jsonl
    $TOKENIZERS_PYTHON tools/peers/tokenizer-oracle.py train KIND OUT.json < training.txt

encode: one JSON string per input line -> one JSON array of ids per output line.
decode: one JSON array of ids per line -> one JSON string per line.
FILE is a tokenizer.json (Hugging Face `tokenizers`) or a tekken.json (mistral-common's
Tekkenizer, the library that defines the format). train writes a small BPE tokenizer.json of
KIND (see TRAINERS) trained on the text on standard input, with Hugging Face `tokenizers`.
"""
import argparse
import json
import os
import sys

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")


def load(path):
    if os.path.basename(path).startswith("tekken"):
        from mistral_common.tokens.tokenizers.tekken import SpecialTokenPolicy, Tekkenizer

        tek = Tekkenizer.from_file(path)
        tek.special_token_policy = SpecialTokenPolicy.KEEP

        def encode(text, add_special):
            return tek.encode(text, bos=add_special, eos=False)

        def decode(ids, skip_special):
            if skip_special:
                ids = [i for i in ids if i >= tek.num_special_tokens]
            return tek.decode(ids)

        return encode, decode
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(path)
    return (lambda text, add_special: tok.encode(text, add_special_tokens=add_special).ids,
            lambda ids, skip_special: tok.decode(ids, skip_special_tokens=skip_special))


def train_byte_level(tk, text):
    """GPT-2 style: ByteLevel with its own regex and a prefix space, a template with BOS/EOS,
    added tokens with lstrip/rstrip/single_word, merges saved in the pair format."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1200, special_tokens=["<|bos|>", "<|eos|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator([text], trainer)
    tok.add_tokens([AddedToken("[lstrip]", lstrip=True), AddedToken("[rstrip]", rstrip=True),
                    AddedToken("word", single_word=True), AddedToken("Normal", normalized=True)])
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False)])
    tok.post_processor = processors.TemplateProcessing(
        single="<|bos|> $A <|eos|>", pair="<|bos|> $A <|eos|> $B <|eos|>",
        special_tokens=[("<|bos|>", tok.token_to_id("<|bos|>")),
                        ("<|eos|>", tok.token_to_id("<|eos|>"))])
    return tok


def train_metaspace(tk, text):
    """SentencePiece style: NFKC, Metaspace (prepend first, split), individual digits,
    byte fallback with an unknown token, the Llama-2 decoder chain."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=True),
        pre_tokenizers.Digits(individual_digits=True)])
    tok.decoder = decoders.Sequence([decoders.Metaspace(replacement="\u2581", prepend_scheme="first"),
                                     decoders.ByteFallback(), decoders.Fuse()])
    byte_tokens = ["<0x%02X>" % b for b in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=1500, special_tokens=["<unk>", "<s>", "</s>"] + byte_tokens,
                                  limit_alphabet=60, show_progress=False)
    tok.train_from_iterator([text], trainer)
    return tok


def train_splits(tk, text):
    """Split behaviours: Removed, MergedWithPrevious, MergedWithNext, Contiguous, a String
    pattern; contiguous digits; NFD + Replace + Prepend normalizers; ByteLevel without regex."""
    from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers,
                            processors, trainers)

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Replace("``", '"'),
                                           normalizers.Prepend("^")])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"[\t\f ]{2,}"), behavior="removed"),
        pre_tokenizers.Split("-", behavior="merged_with_previous"),
        pre_tokenizers.Split(Regex(r"[.,;:!?]"), behavior="merged_with_next"),
        pre_tokenizers.Split(Regex(r"\p{Lu}"), behavior="contiguous"),
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=900, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["[CLS]", "[SEP]"], show_progress=False)
    tok.train_from_iterator([text], trainer)
    tok.add_tokens([AddedToken("cafe", normalized=True)])
    tok.post_processor = processors.BertProcessing(("[SEP]", tok.token_to_id("[SEP]")),
                                                   ("[CLS]", tok.token_to_id("[CLS]")))
    return tok


def train_whole(tk, text):
    """No pre-tokenizer split at all (ByteLevel without its regex): merges cross spaces, so token
    counts of words do not add up; llmsweep's prompt generator must notice and re-encode."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=4000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator([text], trainer)
    return tok


TRAINERS = {"byte-level": train_byte_level, "metaspace": train_metaspace, "splits": train_splits,
            "whole": train_whole}


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("encode")
    e.add_argument("file")
    e.add_argument("--add-special", action="store_true")
    d = sub.add_parser("decode")
    d.add_argument("file")
    d.add_argument("--skip-special", action="store_true")
    t = sub.add_parser("train")
    t.add_argument("kind", choices=sorted(TRAINERS))
    t.add_argument("out")
    args = ap.parse_args()
    if args.cmd == "train":
        import tokenizers

        tok = TRAINERS[args.kind](tokenizers, sys.stdin.read())
        tok.save(args.out)
        return
    encode, decode = load(args.file)
    out = []
    for line in sys.stdin:
        if args.cmd == "encode":
            out.append(json.dumps(encode(json.loads(line), args.add_special)))
        else:
            out.append(json.dumps(decode(json.loads(line), args.skip_special)))
    sys.stdout.write("".join(o + "\n" for o in out))


if __name__ == "__main__":
    main()
