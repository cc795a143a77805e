"""Support judges: lexical on Korean, NLI / cross-encoder on tiny BERTs built here, LLM with a fake chat model."""

from __future__ import annotations

import re

import numpy as np
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from rag_app.errors import ConfigError
from rag_app.support import (
    LLM_SYSTEM_EN,
    LLM_SYSTEM_KO,
    CombinedJudge,
    EmbeddingJudge,
    LexicalJudge,
    LLMJudge,
    NLIJudge,
    StructuredJudge,
    entailment_index,
    evidence_windows,
    make_judge,
    parse_verdict,
    parse_verdicts,
)

TEXTS = [
    "대한민국의 수도는 서울이다.",
    "서울은 대한민국의 수도이다.",
    "부산은 항구 도시이다.",
    "The Eiffel Tower is in Paris.",
    "Paris is the capital of France.",
    "헌법 제1조 대한민국은 민주공화국이다.",
    "인구는 950만 명이다.",
]


# ---- lexical ------------------------------------------------------------------------------------
def test_lexical_judge_korean_morphemes_and_numbers():
    judge = LexicalJudge()
    scores = judge.score(
        [
            ("서울은 대한민국의 수도이다.", "대한민국의 수도는 서울이다."),  # particles differ, morphemes agree
            ("부산은 대한민국의 수도이다.", "대한민국의 수도는 서울이다."),  # 부산 missing: 2 of 3 content terms
            ("인구는 950만 명이다.", "서울의 인구는 940만 명이다."),  # a changed figure lowers the score
            ("", "무엇이든"),
        ]
    )
    assert scores[0] == 1.0
    assert scores[1] == pytest.approx(2 / 3)
    assert scores[2] < 1.0
    assert scores[3] == 0.0


# ---- NLI / cross-encoder ------------------------------------------------------------------------
def _tiny_bert(directory, num_labels: int, id2label: dict[int, str] | None = None) -> str:
    """A 2-layer, 32-wide BERT classifier with a WordPiece vocabulary trained here on TEXTS."""
    torch = pytest.importorskip("torch")
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)  # keep Hangul syllables
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wordpiece.train_from_iterator(
        TEXTS * 4, trainers.WordPieceTrainer(vocab_size=300, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    )
    tokenizer = BertTokenizerFast(vocab=wordpiece.get_vocab(), do_lower_case=False, strip_accents=False, model_max_length=128)
    tokenizer.save_pretrained(directory)
    torch.manual_seed(0)
    extra = {"id2label": id2label, "label2id": {v: k for k, v in id2label.items()}} if id2label else {}
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128, num_labels=num_labels, **extra,
    )
    BertForSequenceClassification(config).save_pretrained(directory)
    return str(directory)


@pytest.fixture(scope="module")
def nli_model(tmp_path_factory) -> str:
    pytest.importorskip("sentence_transformers")
    # Entailment deliberately last, so a judge that assumed index 0 would be caught.
    return _tiny_bert(tmp_path_factory.mktemp("tiny-nli"), 3, {0: "contradiction", 1: "neutral", 2: "entailment"})


@pytest.fixture(scope="module")
def one_logit_model(tmp_path_factory) -> str:
    pytest.importorskip("sentence_transformers")
    return _tiny_bert(tmp_path_factory.mktemp("tiny-ce"), 1)


def _direct_logits(model_dir: str, first: list[str], second: list[str]) -> np.ndarray:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    with torch.no_grad():
        batch = tokenizer(first, second, padding=True, truncation=True, return_tensors="pt")
        return model(**batch).logits.numpy().astype(np.float64)


def test_nli_judge_is_the_entailment_probability_of_premise_evidence(nli_model):
    judge = NLIJudge(nli_model)
    assert judge.name == f"nli:{nli_model}"
    assert judge._model is None  # lazy
    pairs = [(TEXTS[1], TEXTS[0]), (TEXTS[2], TEXTS[0]), (TEXTS[3], TEXTS[4])]
    scores = judge.score(pairs)
    logits = _direct_logits(nli_model, [e for _, e in pairs], [c for c, _ in pairs])  # premise = evidence
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert scores == pytest.approx(expected[:, 2].tolist(), abs=1e-5)
    assert all(0.0 <= s <= 1.0 for s in scores)
    # Reversed order (claim first) gives other numbers: the order is part of the contract.
    reversed_logits = _direct_logits(nli_model, [c for c, _ in pairs], [e for _, e in pairs])
    assert not np.allclose(reversed_logits, logits)
    assert judge.score([]) == []


def test_nli_judge_reads_long_evidence_in_windows_and_keeps_the_best(nli_model):
    judge = NLIJudge(nli_model, window_chars=40)
    evidence = " ".join([TEXTS[2], TEXTS[5], TEXTS[0], TEXTS[6]])  # 4 sentences, ~60 characters
    windows = evidence_windows(evidence, 40)
    assert len(windows) > 1 and all(len(w) <= 40 for w in windows)
    score = judge.score([(TEXTS[1], evidence)])[0]
    logits = _direct_logits(nli_model, windows, [TEXTS[1]] * len(windows))
    probabilities = np.exp(logits)[:, 2] / np.exp(logits).sum(axis=1)
    assert score == pytest.approx(float(probabilities.max()), abs=1e-5)


def test_one_logit_cross_encoder_is_a_sigmoid_of_claim_evidence(one_logit_model):
    judge = make_judge(f"nli:{one_logit_model}")
    assert isinstance(judge, StructuredJudge) and isinstance(judge.meaning, NLIJudge)  # the check keeps its veto
    pairs = [(TEXTS[1], TEXTS[0]), (TEXTS[3], TEXTS[5])]
    logits = _direct_logits(one_logit_model, [c for c, _ in pairs], [e for _, e in pairs])  # reranker order
    sigmoid = (1 / (1 + np.exp(-logits[:, 0]))).tolist()
    assert judge.meaning.score(pairs) == pytest.approx(sigmoid, abs=1e-5)
    # The first pair passes the structured check, so the model's score stands; the second names
    # things (Eiffel Tower, Paris) the evidence does not: 0 whatever the model says.
    verdicts = judge.judge(pairs)
    assert verdicts[0].score == pytest.approx(sigmoid[0], abs=1e-5)
    assert verdicts[1].score == 0.0 and verdicts[1].reason == "Eiffel Tower not in evidence"


def test_nli_model_without_an_entailment_label_is_a_clear_error(tmp_path):
    pytest.importorskip("sentence_transformers")
    model = _tiny_bert(tmp_path / "unnamed", 3)  # id2label LABEL_0..2
    with pytest.raises(ConfigError) as info:
        NLIJudge(model).score([("a", "b")])
    message = str(info.value)
    assert "entailment" in message and "LABEL_0" in message and "\n" not in message


def test_missing_nli_model_names_the_path(tmp_path):
    from rag_app.errors import RerankerError

    with pytest.raises(RerankerError, match="does not exist"):
        NLIJudge(str(tmp_path / "nope")).score([("a", "b")])


@pytest.mark.parametrize(
    "labels, expected",
    [
        ({0: "entailment", 1: "neutral", 2: "contradiction"}, 0),
        ({"0": "CONTRADICTION", "1": "NEUTRAL", "2": "ENTAILMENT"}, 2),
        ({0: "not_entailment", 1: "entailment"}, 1),
        ({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, None),
    ],
)
def test_entailment_index(labels, expected):
    assert entailment_index(labels) == expected


def test_evidence_windows_cover_every_sentence_in_order():
    text = "첫째 문장이다. 둘째 문장이다. 셋째 문장이다. 넷째 문장이다."
    windows = evidence_windows(text, 20)
    assert windows[0].startswith("첫째") and windows[-1].endswith("넷째 문장이다.")
    joined = " ".join(windows)
    for sentence in ("첫째 문장이다.", "둘째 문장이다.", "셋째 문장이다.", "넷째 문장이다."):
        assert sentence in joined
    assert evidence_windows("짧다.", 20) == ["짧다."]


# ---- LLM judge ----------------------------------------------------------------------------------
class FakeChat:
    """Records every prompt; answers with `reply(messages)`."""

    def __init__(self, reply):
        self.reply = reply
        self.calls: list[list] = []

    def invoke(self, messages):
        self.calls.append(messages)
        return AIMessage(content=self.reply(messages))


def _items(messages) -> list[str]:
    return [line for line in messages[-1].content.splitlines() if re.match(r"(항목|ITEM) \d+: ", line)]


def test_llm_judge_asks_korean_claims_in_korean_and_english_ones_in_english():
    def reply(messages):
        korean = "항목" in messages[-1].content
        return "\n".join(f"{i}: {'예' if korean else 'yes'}" if i % 2 else f"{i}: {'아니오' if korean else 'no'}"
                         for i in range(1, len(_items(messages)) + 1))

    chat = FakeChat(reply)
    judge = LLMJudge(chat, batch_size=8)
    pairs = [
        ("서울은 대한민국의 수도이다.", "대한민국의 수도는 서울이다."),
        ("The tower is in Paris.", "The Eiffel Tower is in Paris."),
        ("부산은 수도이다.", "대한민국의 수도는 서울이다."),
    ]
    assert judge.score(pairs) == [1.0, 1.0, 0.0]
    assert len(chat.calls) == 2  # one Korean batch, one English batch
    korean, english = chat.calls
    assert isinstance(korean[0], SystemMessage) and korean[0].content == LLM_SYSTEM_KO
    assert isinstance(english[0], SystemMessage) and english[0].content == LLM_SYSTEM_EN
    assert isinstance(korean[1], HumanMessage)
    assert "서울은 대한민국의 수도이다." in korean[1].content and "부산은 수도이다." in korean[1].content
    assert "Paris" not in korean[1].content
    assert "The tower is in Paris." in english[1].content and "서울" not in english[1].content
    # The shared evidence is shown once, and both claims point at it.
    assert korean[1].content.count("대한민국의 수도는 서울이다.") == 1
    assert [line.split(" / ")[0] for line in _items(korean)] == ["항목 1: 근거 1", "항목 2: 근거 1"]


def test_llm_judge_batches_and_asks_again_for_unreadable_items():
    def reply(messages):
        n = len(_items(messages))
        if n > 1:
            return "1: yes\n2: hmm, hard to say\n" + "\n".join(f"{i}: no" for i in range(3, n + 1))
        return "Yes."

    chat = FakeChat(reply)
    judge = LLMJudge(chat, batch_size=3)
    pairs = [(f"claim {i}", "evidence") for i in range(5)]
    assert judge.score(pairs) == [1.0, 1.0, 0.0, 1.0, 1.0]
    # Batches of 3 and 2; item 2 of each batch asked again alone.
    assert [len(_items(call)) for call in chat.calls] == [3, 1, 2, 1]


def test_llm_judge_unreadable_even_alone_counts_as_unsupported():
    judge = LLMJudge(FakeChat(lambda messages: "I am not sure what you mean"))
    assert judge.score([("c", "e")]) == [0.0]


def test_llm_judge_reads_content_blocks_and_scores():
    class BlockChat:
        def invoke(self, messages):
            return AIMessage(content=[{"type": "text", "text": "1: 0.8\n"}, {"type": "text", "text": "2: 3/10"}])

    assert LLMJudge(BlockChat()).score([("a", "x"), ("b", "y")]) == pytest.approx([0.8, 0.3])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("예", 1.0), ("네, 뒷받침됩니다.", 1.0), ("아니오", 0.0), ("아니요.", 0.0), ("뒷받침되지 않습니다", 0.0),
        ("Yes", 1.0), ("**No**", 0.0), ("not supported", 0.0), ("0.25", 0.25), ("9/10", 0.9), ("80%", 0.8),
        ("", None), ("글쎄요", None),
    ],
)
def test_parse_verdict(text, expected):
    assert parse_verdict(text) == expected


def test_parse_verdicts_by_number_in_any_order():
    assert parse_verdicts("2: 아니오\n항목 1: 예\n3번: 예", 3) == [1.0, 0.0, 1.0]
    assert parse_verdicts("1: yes\n7: no", 2) == [1.0, None]


# ---- make_judge ---------------------------------------------------------------------------------
def test_make_judge_specs():
    assert isinstance(make_judge("lexical"), LexicalJudge)
    assert isinstance(make_judge("embedding"), EmbeddingJudge)
    assert isinstance(make_judge("lexical+embedding"), CombinedJudge)
    chat = FakeChat(lambda m: "1: 예")
    judge = make_judge("llm", chat_model=chat)
    assert isinstance(judge, StructuredJudge) and isinstance(judge.meaning, LLMJudge) and judge.meaning.chat_model is chat
    assert judge.name == "structured+" + judge.meaning.name and judge.threshold == 0.5
    assert isinstance(make_judge("structured"), StructuredJudge) and make_judge("structured").meaning is None
    with pytest.raises(ConfigError, match="chat model"):
        make_judge("llm")
    with pytest.raises(ConfigError, match="nli:HF_ID_OR_PATH"):
        make_judge("bleurt")
    with pytest.raises(ConfigError, match="no NLI model"):
        make_judge("nli:")


def test_embedding_judge_rescales_cosines_and_embeds_each_passage_once():
    class CountingEmbedder:
        name = "fake"

        def __init__(self):
            self.documents = 0

        def _vector(self, text):
            vector = np.array([1.0, float(len(text) % 7), float("서울" in text)])
            return vector / np.linalg.norm(vector)

        def embed_query(self, text):
            return self._vector(text)

        def embed_documents(self, texts):
            self.documents += len(texts)
            return np.stack([self._vector(t) for t in texts])

    embedder = CountingEmbedder()
    judge = EmbeddingJudge(embedder, floor=0.5, ceiling=1.0)
    pairs = [("서울이다.", "서울은 수도다."), ("부산", "서울은 수도다."), ("x", "다른 문서")]
    cosines = judge.cosines(pairs)
    expected = [float(embedder._vector(c) @ embedder._vector(e)) for c, e in pairs]
    assert cosines == pytest.approx(expected)
    assert judge.score(pairs) == pytest.approx([min(max((c - 0.5) / 0.5, 0.0), 1.0) for c in expected])
    assert embedder.documents == 2  # two distinct passages, embedded once across three calls


# ---- added clause and the cross-lingual e5 cut ---------------------------------------------------------
def test_added_clause_veto_only_when_the_evidence_is_used_up():
    from rag_app.support import added_clause

    # The evidence says more than the claim's shared words cover: the new-worded clause may restate it.
    assert added_clause("Up on high ground, the kettle boils sooner, and tea brews weaker.", "Water boils at a lower temperature at altitude.").ok
    assert added_clause("반죽을 냉장 보관하면서 밤새 숙성해 주세요.", "반죽은 냉장고에서 하룻밤 숙성시킨다.").ok
    # A clause added to a restated sentence is still vetoed, with the clause as the reason.
    ko = added_clause("보고서는 금요일까지 팀장에게 내야 하며, 이메일로도 보낼 수 있습니다.", "보고서는 금요일까지 팀장에게 내야 한다.")
    assert not ko.ok and ko.kind == "added_clause" and "이메일로도" in ko.reason
    en = added_clause("The app syncs your notes, and it also backs them up every night.", "The app syncs your notes.")
    assert not en.ok and en.reason.startswith("not in evidence: it also backs them up")


class _FixedCosineEmbedder:
    """Unit vectors whose dot product is a set cosine for every (query, passage)."""

    def __init__(self, cosine: float):
        self.cosine = cosine

    def embed_query(self, text: str) -> np.ndarray:
        return np.array([1.0, 0.0])

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.array([[self.cosine, np.sqrt(1 - self.cosine**2)]] * len(texts))


def test_cross_lingual_pairs_get_a_lower_cosine_cut():
    from rag_app.support import E5_COSINE_CEILING, E5_COSINE_FLOOR, E5_CROSS_LINGUAL_SHIFT

    cut = E5_COSINE_FLOOR + 0.5 * (E5_COSINE_CEILING - E5_COSINE_FLOOR)
    assert cut - E5_CROSS_LINGUAL_SHIFT < 0.815 < cut
    judge = StructuredJudge(embedding=EmbeddingJudge(_FixedCosineEmbedder(0.815)))
    cross, same = judge.judge([("할인 티켓은 환불되지 않습니다.", "Refunds are not given for discounted tickets."),
                               ("Discounted seats cannot be paid back.", "Refunds are not given for discounted tickets.")])
    assert cross.score >= judge.threshold and cross.reason is None
    assert same.score < judge.threshold and same.reason == "not stated in the evidence"
    # A changed value across languages is still vetoed whatever the cosine.
    vetoed = judge.judge([("할인 티켓은 30일 안에 환불됩니다.", "Discounted tickets are refunded within 7 days.")])[0]
    assert vetoed.score == 0.0 and "30일" in vetoed.reason
