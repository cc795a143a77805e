"""Conversations: history, and follow-ups rewritten into standalone queries before retrieval.

"그럼 가격은?" means nothing to a retriever; after "아이폰 15는 언제 출시됐나요?" it means
"아이폰 15 가격은?". With an LLM configured the model rewrites the question; without one a cheap
heuristic carries the previous question's nouns over when the new one looks like a follow-up.

    >>> session = app.chat()
    >>> session.ask("아이폰 15는 언제 출시됐나요?")
    >>> session.ask("그럼 가격은?").rewritten_query
    '아이폰 15 가격은?'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Protocol

from rag_app.answer import Answer, is_korean

# Openers that mark a follow-up ("then what about...", "and ...").
_FOLLOW_UP_OPENERS = re.compile(
    r"^\s*(그럼|그러면|그렇다면|그리고|그런데|근데|또|또한|그 외에?|그밖에|and|also|then|so|what about|how about|what of)\b[\s,]*",
    re.IGNORECASE,
)
# Words that point back at something said before: Korean demonstratives at the start of a word
# (so the particle in "품질이 좋은" is not one), English pronouns.
_ANAPHORA = re.compile(
    r"(?:^|\s)(?:그것|이것|저것|그거|이거|그건|이건|그게|이게|그곳|거기|그분|그들|해당|그|이|저)(?=$|\s|[은는이가을를의에도])"
    r"|\b(?:it|its|they|them|their|that|this|those|these|he|she|his|her|there)\b",
    re.IGNORECASE,
)
# Kiwi tags that name the topic of a question (nouns, numbers, foreign words).
_TOPIC_TAGS = ("NNG", "NNP", "NR", "SL", "SN", "SH", "XR")
# With more content words than this, a question without opener or pronoun stands on its own.
_SHORT_QUESTION_TERMS = 2
MAX_HISTORY_TURNS = 4


@dataclass
class Turn:
    question: str  # as the user asked it
    query: str  # what was retrieved for (the rewritten question, or the question itself)
    answer: Answer


def looks_like_follow_up(question: str) -> bool:
    from indexes.morphemes import kiwi_terms

    if _FOLLOW_UP_OPENERS.search(question) or _ANAPHORA.search(question):
        return True
    return len(kiwi_terms(question)) <= _SHORT_QUESTION_TERMS


def topic_words(text: str) -> list[str]:
    """The nouns, numbers and foreign words of a question, in order: its topic."""
    from indexes.morphemes import _get_kiwi

    words = []
    for token in _get_kiwi().tokenize(text):
        if token.tag.split("-", 1)[0].startswith(_TOPIC_TAGS) and token.form not in words:
            words.append(token.form)
    return words


def heuristic_rewrite(question: str, history: list[Turn]) -> str | None:
    """Prefix a follow-up with the previous query's topic words it does not already contain.
    None when there is no history or the question stands on its own."""
    if not history or not looks_like_follow_up(question):
        return None
    stripped = _FOLLOW_UP_OPENERS.sub("", question).strip() or question
    present = set(topic_words(stripped))
    carried = [word for word in topic_words(history[-1].query) if word not in present]
    if not carried:
        return None
    return f"{' '.join(carried)} {stripped}"


REWRITE_PROMPT_KO = (
    "다음 대화의 마지막 질문을, 대화를 보지 않아도 이해할 수 있는 하나의 독립된 질문으로 바꿔 쓰세요. "
    "질문만 출력하고, 답하지 마세요.\n\n{history}\n마지막 질문: {question}\n독립된 질문:"
)
REWRITE_PROMPT_EN = (
    "Rewrite the last question of this conversation as one standalone question that can be understood "
    "without the conversation. Output only the question; do not answer it.\n\n{history}\nLast question: {question}\nStandalone question:"
)


def llm_rewrite(chat_model, question: str, history: list[Turn]) -> str | None:
    """Ask the configured chat model for a standalone question (None without history)."""
    if not history:
        return None
    korean = is_korean(question)
    lines = []
    for turn in history[-MAX_HISTORY_TURNS:]:
        lines.append(f"{'사용자' if korean else 'User'}: {turn.question}")
        lines.append(f"{'도우미' if korean else 'Assistant'}: {turn.answer.answer[:500]}")
    prompt = (REWRITE_PROMPT_KO if korean else REWRITE_PROMPT_EN).format(history="\n".join(lines), question=question)
    reply = chat_model.invoke(prompt)
    text = reply.content if isinstance(reply.content, str) else "".join(
        part.get("text", "") if isinstance(part, dict) else str(part) for part in reply.content
    )
    rewritten = text.strip().strip('"').splitlines()[0].strip() if text.strip() else ""
    return rewritten if rewritten and rewritten != question else None


class Answerer(Protocol):
    """What a conversation needs of its app (a `RagApp`): answers that take the history. Typed by
    role, so this package never imports rag_app.app (which imports it lazily)."""

    def ask(self, question: str, *, history: list[Turn] | None = None, **options) -> Answer: ...

    def stream(self, question: str, *, history: list[Turn] | None = None, **options) -> Iterator[str | Answer]: ...


@dataclass
class ChatSession:
    """A conversation over one RagApp: `ask` and `stream` remember each turn."""

    app: Answerer
    history: list[Turn] = field(default_factory=list)

    def ask(self, question: str, **options) -> Answer:
        answer = self.app.ask(question, history=self.history, **options)
        self._remember(question, answer)
        return answer

    def stream(self, question: str, **options) -> Iterator[str | Answer]:
        """Text pieces, then the final Answer (see `RagApp.stream`)."""
        for item in self.app.stream(question, history=self.history, **options):
            if isinstance(item, Answer):
                self._remember(question, item)
            yield item

    def reset(self) -> None:
        self.history.clear()

    def _remember(self, question: str, answer: Answer) -> None:
        self.history.append(Turn(question, answer.rewritten_query or question, answer))
        del self.history[:-MAX_HISTORY_TURNS]
