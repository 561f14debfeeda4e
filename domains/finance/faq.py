"""Bank FAQ chatbot and risk/regulatory Q&A over one knowledge base each, on the document assistant.

Answers come only from the collection the assistant is scoped to, with citations, or a refusal when the
documents do not say (``rag.answering.Answerer`` does both). The assistant has no access to accounts, so a
question about the customer's own balance, transactions or payments never reaches the LLM: it gets a fixed
statement saying so and where to look. An answer that still states an amount for "your balance/account" is
replaced by the same statement, so account data is never invented.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rag.answering import Answer, Answerer, AnswerEvent
from rag.llm import ChatMessage

NO_ACCOUNT_ACCESS = (
    "I can't see your accounts, balances, cards or transactions, so I can't tell you that, and I won't guess. "
    "Please check online banking or the mobile app (Accounts > Balances and transactions), your latest "
    "statement, or call customer service. I can answer general questions about our products and services."
)
_PERSONAL_DATA = re.compile(
    r"\b(?:my|our)\s+(?:\w+\s+){0,2}?(?:balance|transactions?|statements?|spending|deposits?|payments?|"
    r"transfers?|credit limit|account number|iban|loan|mortgage|overdraft|savings|salary|card number|"
    r"interest (?:earned|paid))\b"
    # "the balance on my account", "transactions from my card"
    r"|\b(?:balance|transactions?|spending|deposits?|payments?|transfers?)\s+(?:on|in|of|for|from|to)\s+"
    r"(?:my|our)\b",
    re.IGNORECASE,
)
_DATA_REQUEST = re.compile(
    r"\b(?:what(?:'s| is| are| was| were)|show|tell me|list|how much|did|has|have|when (?:is|was|did)|"
    r"check|give me)\b",
    re.IGNORECASE,
)
_PROCEDURE = re.compile(
    r"^\s*(?:how (?:do|can|to|long|often)|where (?:do|can)|can i|what (?:is|are) the (?:fees?|limits?|"
    r"process|steps|requirements?)|who)\b",
    re.IGNORECASE,
)
_SELF_AMOUNT = re.compile(
    r"\bhow much (?:money )?(?:do|did|have) i (?:have|owe|spend|spent|pay|paid|got)\b"
    r"|\bhow much (?:money |cash )?(?:is|'s|is there|is left|remains?|do i have)\s+(?:left\s+)?(?:in|on)\s+"
    r"(?:my|our)\b",
    re.IGNORECASE,
)
# "if you have $1,500 ...", "as long as you have $1,500 ..." state a product's terms, not a balance.
_NOT_A_CONDITION = (
    r"(?<!\bif )(?<!\bwhen )(?<!\bonce )(?<!\bunless )(?<!\bas long as )(?<!\bso long as )(?<!\bprovided )"
    r"(?<!\bprovided that )(?<!\bafter )(?<!\bas soon as )(?<!\bbefore )(?<!\bwhere )"
)
# A non-zero amount ($2,431.18, $0.50, USD 40, 2.431,18 €) not followed, within a word, by a product term:
# "$0 liability", "$500 overdraft protection", "5 EUR of free transfers", "$12 fee" describe products. Possessive
# quantifiers, so backtracking cannot shorten the number to slip past the checks.
_NONZERO = r"(?!0+(?:[.,]0+)?(?!\d|[.,]\d))"
_AMOUNT = (
    rf"(?:[$€£]\s?{_NONZERO}\d[\d,.]*+|(?:USD|EUR|GBP)\s?{_NONZERO}\d[\d,.]*+"
    rf"|{_NONZERO}\d[\d,.]*+\s?(?:[$€£]|(?:USD|EUR|GBP|dollars|euros|pounds)\b))"
    r"(?!\s+(?:\w+\s+)?(?:of free|free\b|per\b|each\b|a (?:month|year)\b|monthly\b|annual\b|liability\b|"
    r"minimum\b|fees?\b|deposit\b|opening\b|charges?\b|overdraft\b|protection\b|cash ?back\b|limit\b|coverage\b))"
)
_ROUGHLY = (
    r"(?:only |about |around |exactly |just |over |roughly |nearly |approximately |currently |now |still )*"
)
_INVENTED_ACCOUNT_DATA = re.compile(
    r"\byour (?:current |available )?(?:balance|account|credit limit|last (?:payment|transaction))\b[^.]{0,40}"
    r"(?:(?<!\[)\d|\$|€|£)"  # a citation marker [1] is no amount
    # "Your checking account balance is $2,431.18", "You have a balance of $2,431.18"
    rf"|\b(?:your (?:\w+ )?account balance|a (?:current |available )?balance) (?:is|of)\s+{_ROUGHLY}{_AMOUNT}"
    # "There is $2,431.18 available in your checking account" (not "keep $1,500 in your account to ...")
    rf"|{_NOT_A_CONDITION}\b(?:there (?:is|are)|there's|you(?:'ve| have)(?: got)?|it (?:shows|holds))\s+{_ROUGHLY}"
    rf"{_AMOUNT}[^.]{{0,40}}?\b(?:in|on)\s+your\b"
    # "You have $2,431.18", "You've got $1,200 left", "You have $120 to spend this month"
    rf"|{_NOT_A_CONDITION}\byou(?:'ve| have)(?: got)?\s+{_ROUGHLY}{_AMOUNT}",
    re.IGNORECASE,
)

# PUBLIC API


def asks_for_account_data(question: str) -> bool:
    """True for questions about the asker's own account values ("what is my balance?"), not procedures
    ("how do I check my balance?" is an FAQ question)."""
    if _SELF_AMOUNT.search(question):
        return True
    return bool(
        _PERSONAL_DATA.search(question) and _DATA_REQUEST.search(question) and not _PROCEDURE.search(question)
    )


class BankAssistant:
    """FAQ or regulatory Q&A scoped to one knowledge base.

    Args:
        answerer: ``rag.answering.Answerer`` over the collection (``Services.answerer(collection)``).
        guard_account_data: answer account-data questions with ``NO_ACCOUNT_ACCESS`` (on for customer
            chat; a risk analyst's regulatory Q&A may switch it off).
    """

    def __init__(self, answerer: Answerer, *, guard_account_data: bool = True) -> None:
        if not isinstance(answerer, Answerer):
            raise TypeError(f"answerer must be a rag.answering.Answerer, got {type(answerer).__name__}.")
        self.answerer = answerer
        self.guard_account_data = guard_account_data

    def stream(
        self, question: str, *, history: Sequence[ChatMessage] = (), filters: Mapping[str, Any] | None = None
    ) -> Iterator[AnswerEvent]:
        """Text deltas, then one ``Answer`` (refused=True for account-data questions and unknowns). With the
        account-data guard on, text is passed on a whole checked sentence at a time, so an invented balance
        never reaches the screen before the refusal replaces it."""
        if self.guard_account_data and asks_for_account_data(question):
            yield NO_ACCOUNT_ACCESS
            yield Answer(NO_ACCOUNT_ACCESS, refused=True, citations=[], question=question)
            return
        draft, shown = (
            "",
            0,
        )  # the model's own text (the answerer may still refuse it) and how much was passed on
        for event in self.answerer.stream(question, history=history, filters=filters):
            if isinstance(event, str):
                draft += event
                if not self.guard_account_data:
                    yield event
                elif not _INVENTED_ACCOUNT_DATA.search(draft):
                    # Whole sentences only, each checked first: an invented balance is never on screen.
                    marks = (". ", "! ", "? ", "\n")
                    end = max((i + len(m) for m in marks if (i := draft.rfind(m, shown)) >= 0), default=shown)
                    if end > shown:
                        yield draft[shown:end]
                        shown = end
            elif self.guard_account_data and _INVENTED_ACCOUNT_DATA.search(f"{draft} {event.answer}"):
                yield Answer(NO_ACCOUNT_ACCESS, refused=True, citations=[], question=event.question)
                return
            else:
                if self.guard_account_data and shown < len(draft) and not event.refused:
                    yield draft[shown:]
                yield event

    def ask(
        self, question: str, *, history: Sequence[ChatMessage] = (), filters: Mapping[str, Any] | None = None
    ) -> Answer:
        """The final ``Answer`` of ``stream``."""
        *_, final = self.stream(question, history=history, filters=filters)
        return final
