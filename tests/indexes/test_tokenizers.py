"""Tokenizer toolkit: hand-computed Keras values, Kiwi morphemes, SentencePiece/HF trained on NSMC,
tiktoken cl100k offline, the factory and compare()."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from indexes.tokenizers import (
    HFTokenizer,
    KerasStyleTokenizer,
    KiwiTokenizer,
    MecabTokenizer,
    OktTokenizer,
    RegexTokenizer,
    SentencePieceTokenizer,
    TiktokenTokenizer,
    Tokenizer,
    TokenizerError,
    Vocabulary,
    WhitespaceTokenizer,
    compare,
    get_tokenizer,
    pad_sequences,
)

NSMC_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "nsmc_raw_sample"
SENTENCE = "한국어 형태소 분석은 재미있다"


# --------------------------------------------------------------------------- Keras

TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "My cat ate"]
# counts: the 3, cat 2, ate 2, my 2, sat/on/mat/dog/homework 1; ties keep first appearance.


def test_keras_word_index_by_frequency_then_first_appearance():
    tok = KerasStyleTokenizer()
    tok.fit_on_texts(TEXTS)
    assert tok.word_index == {
        "the": 1, "cat": 2, "ate": 3, "my": 4, "sat": 5, "on": 6, "mat": 7, "dog": 8, "homework": 9
    }
    assert tok.word_counts["the"] == 3
    # no oov token: unknown words vanish
    assert tok.texts_to_sequences(["the bird ate the fish", "My CAT!!"]) == [[1, 3, 1], [4, 2]]


def test_keras_oov_token_takes_index_one():
    tok = KerasStyleTokenizer(oov_token="<OOV>")
    tok.fit_on_texts(TEXTS)
    assert list(tok.word_index.items())[:4] == [("<OOV>", 1), ("the", 2), ("cat", 3), ("ate", 4)]
    assert tok.texts_to_sequences(["the cat ate a fish"]) == [[2, 3, 4, 1, 1]]
    assert tok.sequences_to_texts([[2, 3, 1]]) == ["the cat <OOV>"]


def test_keras_num_words_keeps_indexes_below_it():
    with_oov = KerasStyleTokenizer(num_words=5, oov_token="<OOV>").fit(TEXTS)
    # my=5 and sat=6 are >= num_words -> oov
    assert with_oov.texts_to_sequences(["my cat sat"]) == [[1, 3, 1]]
    without = KerasStyleTokenizer(num_words=5).fit(TEXTS)
    # my=4 kept; sat=5 and on=6 dropped
    assert without.texts_to_sequences(["my cat sat on"]) == [[4, 2]]
    assert len(without.word_index) == 9  # word_index itself is never truncated, as in Keras


def test_keras_korean_filters_and_lowercase():
    tok = KerasStyleTokenizer().fit(["영화가 정말 재미있다!", "영화가 별로다... OK"])
    assert tok.word_index == {"영화가": 1, "정말": 2, "재미있다": 3, "별로다": 4, "ok": 5}
    assert tok.encode("OK, 영화가 별로다?") == [5, 1, 4]
    assert tok.decode([0, 0, 5, 1]) == "ok 영화가"


def test_keras_save_load_round_trip(tmp_path):
    tok = KerasStyleTokenizer(num_words=4, oov_token="<OOV>").fit(TEXTS)
    path = tmp_path / "keras.json"
    tok.save(path)
    loaded = KerasStyleTokenizer.load(path)
    assert loaded.word_index == tok.word_index
    assert loaded.num_words == 4 and loaded.oov_token == "<OOV>"
    assert loaded.texts_to_sequences(TEXTS) == tok.texts_to_sequences(TEXTS)
    with pytest.raises(TokenizerError, match="WhitespaceTokenizer"):
        WhitespaceTokenizer.load(path)


def test_pad_sequences_padding_and_truncating():
    seqs = [[1, 2, 3, 4], [5, 6], [7]]
    assert pad_sequences(seqs, maxlen=3) == [[2, 3, 4], [0, 5, 6], [0, 0, 7]]
    assert pad_sequences(seqs, maxlen=3, padding="post", truncating="post") == [[1, 2, 3], [5, 6, 0], [7, 0, 0]]
    assert pad_sequences(seqs, maxlen=3, padding="post") == [[2, 3, 4], [5, 6, 0], [7, 0, 0]]
    assert pad_sequences(seqs, value=-1) == [[1, 2, 3, 4], [-1, -1, 5, 6], [-1, -1, -1, 7]]
    assert pad_sequences(seqs, maxlen=0) == [[], [], []]
    assert pad_sequences([]) == []
    with pytest.raises(TokenizerError, match="'pre' or 'post'"):
        pad_sequences(seqs, padding="middle")


# --------------------------------------------------------------------------- words + vocabulary


def test_vocabulary_grows_until_fitted_then_maps_unknown_to_oov():
    vocab = Vocabulary()
    assert vocab.ids(["x", "y", "x"]) == [2, 3, 2]
    vocab.fit([["b", "a", "b"], ["c"]])
    assert vocab.ids(["a", "b", "c", "zzz"]) == [3, 2, 4, 1]
    assert vocab.tokens([0, 2, 3, 99]) == ["b", "a", "<unk>"]


def test_whitespace_and_regex_tokenizers(tmp_path):
    ws = WhitespaceTokenizer().fit(["시중은행의 인가 요건은?", "인가 요건"])
    assert ws.tokenize("시중은행의  인가 요건은?") == ["시중은행의", "인가", "요건은?"]
    assert ws.encode("인가 요건 없음") == [2, 5, 1]  # 인가 (2x) 2, 시중은행의 3, 요건은? 4, 요건 5
    assert ws.decode(ws.encode("인가 요건")) == "인가 요건"
    ws.save(tmp_path / "ws.json")
    assert WhitespaceTokenizer.load(tmp_path / "ws.json").encode("인가 요건 없음") == [2, 5, 1]

    rx = RegexTokenizer()
    assert rx.tokenize("GPT-4는 2023년에!") == ["gpt", "-", "4는", "2023년에", "!"]
    assert isinstance(rx, Tokenizer)


# --------------------------------------------------------------------------- Korean morphemes


def test_kiwi_morphemes_and_content_filter(tmp_path):
    kiwi = KiwiTokenizer()
    pairs = kiwi.morphemes(SENTENCE)
    assert pairs == [("한국어", "NNP"), ("형태소", "NNG"), ("분석", "NNG"), ("은", "JX"), ("재미있", "VA"), ("다", "EF")]
    assert [form for form, tag in pairs if tag == "NNG"] == ["형태소", "분석"]
    assert kiwi.tokenize(SENTENCE) == ["한국어", "형태소", "분석", "은", "재미있", "다"]

    content = KiwiTokenizer(content_only=True)
    assert content.tokenize(SENTENCE) == ["한국어", "형태소", "분석", "재미있"]
    # same rule as the BM25 terms in indexes.morphemes
    from indexes.morphemes import kiwi_terms

    assert content.tokenize("시중은행의 인가 요건은 무엇인가요?") == kiwi_terms("시중은행의 인가 요건은 무엇인가요?")

    content.fit([SENTENCE, "형태소 분석"])
    ids = content.encode("형태소 분석 사과")
    assert ids == [2, 3, 1]  # 형태소, 분석 appear twice; 사과 is unknown -> oov id 1
    content.save(tmp_path / "kiwi.json")
    loaded = KiwiTokenizer.load(tmp_path / "kiwi.json")
    assert loaded.content_only and loaded.encode("형태소 분석 사과") == ids


def test_okt_optional():
    if importlib.util.find_spec("konlpy") is None:
        with pytest.raises(TokenizerError, match="pip install konlpy"):
            OktTokenizer().tokenize(SENTENCE)
        pytest.skip("konlpy not installed (optional, GPL-3): pip install konlpy")
    okt = OktTokenizer(content_only=True)
    assert "형태소" in okt.tokenize(SENTENCE)
    assert all(tag in ("Noun", "Adjective", "Verb") for _, tag in okt.morphemes(SENTENCE))


def test_mecab_optional():
    if importlib.util.find_spec("mecab") is None:
        with pytest.raises(TokenizerError, match="pip install python-mecab-ko"):
            MecabTokenizer().tokenize(SENTENCE)
        pytest.skip("python-mecab-ko not installed (optional): pip install python-mecab-ko")
    mecab = MecabTokenizer()
    assert ("형태소", "NNG") in mecab.morphemes(SENTENCE)
    assert "은" not in MecabTokenizer(content_only=True).tokenize(SENTENCE)


def test_bm25_terms_from_okt_and_mecab_are_content_morphemes():
    from indexes.morphemes import get_term_function

    text = "시중은행의 인가 요건은 무엇인가요? 검색했습니다"
    if importlib.util.find_spec("mecab") is not None:
        assert get_term_function("mecab")(text) == ["시중", "은행", "인가", "요건", "무엇", "검색"]
    if importlib.util.find_spec("konlpy") is not None:
        assert get_term_function("okt")(text) == ["시중", "은행", "요건", "무엇", "검색", "하다"]  # verbs stemmed
    if importlib.util.find_spec("mecab") is None and importlib.util.find_spec("konlpy") is None:
        pytest.skip("neither python-mecab-ko nor konlpy is installed (optional)")


# --------------------------------------------------------------------------- subwords


@pytest.fixture(scope="module")
def nsmc_lines() -> list[str]:
    files = sorted(NSMC_DIR.glob("*.txt")) if NSMC_DIR.is_dir() else []
    if not files:
        pytest.skip(f"NSMC sample not found in {NSMC_DIR}")
    lines = []
    with files[0].open(encoding="utf-8") as fh:
        next(fh)  # header: id<TAB>document<TAB>label
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and parts[1].strip():
                lines.append(parts[1])
            if len(lines) >= 3000:
                break
    return lines


@pytest.mark.parametrize("model_type", ["unigram", "bpe"])
def test_sentencepiece_train_save_load(nsmc_lines, tmp_path, model_type):
    sp = SentencePieceTokenizer().train(
        nsmc_lines, vocab_size=2000, model_type=model_type, model_prefix=tmp_path / "ko"
    )
    assert len(sp) == 2000
    assert (tmp_path / "ko.model").is_file() and (tmp_path / "ko.vocab").is_file()

    text = "이 영화 정말 재미있어요 배우들 연기도 최고"
    ids = sp.encode(text)
    pieces = sp.tokenize(text)
    assert len(ids) == len(pieces) and pieces[0].startswith("▁")
    assert sp.decode(ids) == text

    sp.save(tmp_path / "copy.model")
    loaded = SentencePieceTokenizer.load(tmp_path / "copy.model")
    assert loaded.encode(text) == ids
    assert get_tokenizer(f"spm:{tmp_path / 'ko.model'}").encode(text) == ids


def test_sentencepiece_errors(tmp_path):
    with pytest.raises(TokenizerError, match="train"):
        SentencePieceTokenizer().encode("x")
    with pytest.raises(TokenizerError, match="'unigram' or 'bpe'"):
        SentencePieceTokenizer().train(["a b"], model_type="char")
    with pytest.raises(TokenizerError, match="no such file"):
        SentencePieceTokenizer().train(tmp_path / "missing.txt")


@pytest.mark.parametrize("model", ["bpe", "wordpiece"])
def test_hf_train_save_load(nsmc_lines, tmp_path, model):
    hf = HFTokenizer().train(nsmc_lines, vocab_size=2000, model=model, limit_alphabet=800)
    assert 1000 < len(hf) <= 2000
    text = "이 영화 정말 재미있어요!"
    ids = hf.encode(text)
    tokens = hf.tokenize(text)
    assert len(ids) == len(tokens) and ids
    assert "!" in tokens  # both pre-tokenizers split punctuation off
    if model == "wordpiece":
        assert any(t.startswith("##") for t in tokens) or all(t in hf._tokenizer().get_vocab() for t in tokens)
        assert hf.decode(ids) == "이 영화 정말 재미있어요!"

    path = tmp_path / "tokenizer.json"
    hf.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["model"]["type"] == ("BPE" if model == "bpe" else "WordPiece")
    assert HFTokenizer.load(path).encode(text) == ids
    assert get_tokenizer(f"hf:{path}").encode(text) == ids


def test_hf_train_from_file(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["영화 정말 재미있다", "영화 별로다", "정말 최고"] * 20), encoding="utf-8")
    hf = HFTokenizer().train(corpus, vocab_size=100, model="bpe", min_frequency=1)
    assert hf.tokenize("영화 정말") == ["영화", "정말"]
    with pytest.raises(TokenizerError, match="'bpe' or 'wordpiece'"):
        HFTokenizer().train(corpus, model="unigram")


# --------------------------------------------------------------------------- tiktoken


def test_tiktoken_cl100k_offline(capsys):
    tok = TiktokenTokenizer()
    assert tok.encode("hello world") == [15339, 1917]
    assert tok.tokenize("hello world") == ["hello", " world"]
    assert tok.count("hello world") == 2
    ko = "나는 오늘 아침에 도서관에 가서 책을 읽었다"
    en = "I went to the library this morning and read a book"
    assert tok.count(ko) / tok.count(en) > 1.5
    assert tok.decode(tok.encode(ko)) == ko
    assert tok.encode("<|endoftext|>") != [100257]  # user text never becomes a special token
    assert capsys.readouterr().out == ""


def test_tiktoken_unknown_encoding():
    with pytest.raises(TokenizerError, match="unknown tiktoken encoding 'nope'"):
        get_tokenizer("tiktoken:nope").encode("x")


# --------------------------------------------------------------------------- factory + compare


def test_get_tokenizer_names_and_errors(tmp_path):
    for name, cls in [
        ("whitespace", WhitespaceTokenizer), ("regex", RegexTokenizer), ("keras", KerasStyleTokenizer),
        ("kiwi", KiwiTokenizer), ("okt", OktTokenizer), ("mecab", MecabTokenizer), ("tiktoken", TiktokenTokenizer),
    ]:
        tok = get_tokenizer(name)
        assert isinstance(tok, cls) and tok.name == name and isinstance(tok, Tokenizer)
    with pytest.raises(TokenizerError, match=r"unknown tokenizer 'bert'; choose one of: whitespace, .*spm:PATH, hf:PATH"):
        get_tokenizer("bert")
    with pytest.raises(TokenizerError, match="unknown tokenizer 'spm:'"):
        get_tokenizer("spm:")
    with pytest.raises(TokenizerError, match="missing.model.*no such file"):
        get_tokenizer(f"spm:{tmp_path / 'missing.model'}")
    with pytest.raises(TokenizerError, match="tokenizer.json.*no such file"):
        get_tokenizer(f"hf:{tmp_path / 'tokenizer.json'}")


def test_compare_shape():
    rows = compare("hello world", ["whitespace", "keras", "tiktoken", RegexTokenizer()])
    assert [r["tokenizer"] for r in rows] == ["whitespace", "keras", "tiktoken", "regex"]
    for row in rows:
        assert set(row) == {"tokenizer", "tokens", "ids", "count"}
        assert row["count"] == len(row["ids"]) == len(row["tokens"])
    assert rows[0] == {"tokenizer": "whitespace", "tokens": ["hello", "world"], "ids": [2, 3], "count": 2}
    assert rows[1]["ids"] == [1, 2]  # keras fitted lazily on the text
    assert rows[2]["ids"] == [15339, 1917]

    ko = compare(SENTENCE, ["kiwi", "tiktoken"])
    assert ko[0]["count"] == 6 and ko[1]["count"] > ko[0]["count"]
