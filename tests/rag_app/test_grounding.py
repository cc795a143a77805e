"""Citation verification after generation: sentence splitting, marker parsing, removal, support."""

from __future__ import annotations

from indexes.retrieval import RetrievedChunk
from rag_app.grounding import markers_in, split_cited_sentences, strip_markers, verify_citations
from rag_app.support import LexicalJudge

CHUNKS = [
    RetrievedChunk("a", "대한민국의 수도는 서울이다. 서울의 인구는 약 940만 명이다.", {"source": "a.md"}, 3.0),
    RetrievedChunk("b", "부산은 대한민국 제2의 도시이며 항구 도시이다.", {"source": "b.md"}, 2.0),
    RetrievedChunk("c", "The Han River flows through Seoul.", {"source": "c.md"}, 1.0),
]


def test_split_keeps_markers_with_their_sentence_and_numbers_whole():
    text = "금리는 3.5%입니다 [1]. 부산은 항구입니다. [2][3]\n서울은 수도다 [1, 2]. What? Yes! v1.2 works"
    assert split_cited_sentences(text) == [
        "금리는 3.5%입니다 [1].",
        "부산은 항구입니다. [2][3]",
        "서울은 수도다 [1, 2].",
        "What?",
        "Yes!",
        "v1.2 works",
    ]


def test_markers_and_stripping():
    assert markers_in("서울이다 [1][3] 그리고 [2, 4].") == [1, 3, 2, 4]
    assert markers_in("no markers here") == []
    assert strip_markers("서울이다 [1].") == "서울이다."
    assert strip_markers("A ［2］ B [3, 4]") == "A B"


def test_invalid_markers_removed_and_rest_renumbered_by_first_use():
    text = "부산은 항구 도시이다 [2]. 서울은 수도이다 [1][7]. 한강은 서울을 흐른다 [3]."
    checked = verify_citations(text, CHUNKS, LexicalJudge())
    assert checked.removed_markers == [7]
    assert checked.text == "부산은 항구 도시이다 [1]. 서울은 수도이다 [2]. 한강은 서울을 흐른다 [3]."
    assert checked.cited_ranks == [1, 0, 2]  # citation 1 is chunk b, 2 is chunk a, 3 is chunk c
    assert [s.citations for s in checked.sentences] == [[1], [2], [3]]


def test_support_per_sentence_flags_uncited_and_unsupported():
    text = "서울의 인구는 약 940만 명이다 [1]. 부산은 대한민국의 수도이다 [2]. 달은 치즈로 되어 있다."
    checked = verify_citations(text, CHUNKS, LexicalJudge())
    first, second, third = checked.sentences
    assert first.supported and first.support == 1.0
    # 부산 and 대한민국 are in chunk b but 수도 is not: 2 of 3 content terms, under the lexical
    # judge's threshold (0.7): one wrong word in three is a wrong claim.
    assert second.support == 2 / 3 and not second.supported
    assert third.citations == [] and third.support == 0.0 and not third.supported
    assert checked.grounded == 1 / 3
    assert verify_citations(text, CHUNKS, LexicalJudge(), threshold=0.5).grounded == 2 / 3


def test_support_uses_the_best_of_several_cited_chunks():
    checked = verify_citations("부산은 항구 도시이다 [1][2].", CHUNKS, LexicalJudge())
    assert checked.sentences[0].support == 1.0  # chunk a does not support it, chunk b does


def test_answer_without_sentences_is_fully_grounded_and_empty_text_is_empty():
    checked = verify_citations("", CHUNKS, LexicalJudge())
    assert checked.text == "" and checked.sentences == [] and checked.grounded == 1.0


# ---- attribution: sentences the model left without a marker -------------------------------------
def test_uncited_sentence_gets_the_chunk_that_supports_it():
    from rag_app.support import StructuredJudge

    text = "부산은 대한민국 제2의 도시이며 항구 도시이다. 서울은 수도이다 [1]. 부산의 인구는 900만 명이다."
    checked = verify_citations(text, CHUNKS, StructuredJudge(embedding=None))
    # Chunk b (rank 1) supports the first sentence: its marker is appended and numbered by first use.
    assert checked.text == "부산은 대한민국 제2의 도시이며 항구 도시이다 [1]. 서울은 수도이다 [2]. 부산의 인구는 900만 명이다."
    assert checked.cited_ranks == [1, 0]
    first, second, third = checked.sentences
    assert (first.citations, first.supported, first.attributed, first.reason) == ([1], True, True, None)
    assert (second.citations, second.supported, second.attributed) == ([2], True, False)
    # No chunk supports the third: it stays uncited and unsupported, with the check's reason.
    assert (third.citations, third.supported, third.attributed) == ([], False, False)
    assert third.reason == "900만 명: 근거에 없음 (근거: 940만 명)"
    assert set(third.to_dict()) == {"text", "citations", "support", "supported", "reason", "attributed"}


def test_answer_through_the_openai_client_without_markers(sample_app, capsys):
    """A small local model that writes no [n]: the copied sentence is attributed, in `ask --json`."""
    import json

    from rag_app import RagApp
    from rag_app.cli import main
    from tests.llm_servers import OpenAIServer, scripted

    app, _ = sample_app
    question = "RAG는 어떻게 작동하나요?"
    chunks = app.retrieve(question)
    from indexes.chunking import split_sentences

    copied = next(s for s in split_sentences(chunks[1].text) if len(s) > 20 and s.endswith("."))
    reply = f"{copied} 달에는 거대한 치즈 공장이 세 곳 있습니다."
    with OpenAIServer(scripted([reply, reply])) as server:
        llm = RagApp(home=app.settings.home, collection="samples", provider="openai", base_url=server.base_url, openai_api_key="sk-test")
        answer = llm.ask(question)
        code = main(["ask", question, "--json", "--home", str(app.settings.home), "-c", "samples", "--provider", "openai", "--base-url", server.base_url])
        payload = json.loads(capsys.readouterr().out)
    first, second = answer.sentences
    assert first.attributed and first.supported and first.citations == [1]
    assert answer.citations[0].text in {c.text for c in chunks}  # the attributed chunk is a citation
    assert answer.answer == f"{copied[:-1]} [1]. 달에는 거대한 치즈 공장이 세 곳 있습니다."  # the marker a reader needs
    assert not second.supported and not second.attributed and second.citations == []
    assert second.reason and second.reason.startswith("세 곳: 근거에 없음")
    assert code == 0
    sentences = payload["sentences"]
    assert [s["attributed"] for s in sentences] == [True, False]
    assert sentences[1]["reason"] == second.reason and sentences[0]["reason"] is None
    assert payload["citations"][0]["n"] == 1
