"""Bank FAQ assistant: account-data questions never reach the LLM, invented account data is replaced,
FAQ questions are answered with citations. Fakes: fixed-passage retriever, scripted chat; plus one test
through real MiniLM + Chroma on the shipped bank FAQ sample knowledge base."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from domains.finance.faq import NO_ACCOUNT_ACCESS, BankAssistant, asks_for_account_data
from rag.answering import Answerer

from .conftest import SAMPLES, FixedRetriever, ScriptedChat

PASSAGE = Document(
    "Debit cards can be frozen in the app under Cards > Freeze card.",
    metadata={"source": "faq.html", "score": 0.9, "dense_score": 0.8},
)


@pytest.mark.parametrize(
    ("question", "personal"),
    [
        ("What is my balance?", True),
        ("Show my last transactions", True),
        ("How much money do I have?", True),
        ("what was my last payment", True),
        ("How do I check my balance?", False),
        ("How can I freeze my card?", False),
        ("What are the fees for international transfers?", False),
    ],
)
def test_account_data_questions_are_recognised(question, personal):
    assert asks_for_account_data(question) is personal


def _assistant(reply: str) -> tuple[BankAssistant, ScriptedChat]:
    chat = ScriptedChat([reply])
    return BankAssistant(Answerer(retriever=FixedRetriever(passages=[PASSAGE]), chat_model=chat)), chat


def test_balance_question_never_reaches_the_llm():
    assistant, chat = _assistant("Your balance is 1,234.00 [1].")
    answer = assistant.ask("What is my current balance?")
    assert answer.refused and answer.answer == NO_ACCOUNT_ACCESS and chat.requests == []


def test_invented_account_data_is_replaced():
    assistant, _ = _assistant("Your balance is $1,234.00 after the freeze [1].")
    answer = assistant.ask("Does freezing a card change anything?")
    assert answer.refused and answer.answer == NO_ACCOUNT_ACCESS


def test_an_invented_balance_is_never_streamed_before_it_is_replaced():
    class PiecewiseChat(ScriptedChat):
        def stream(self, messages, **options):
            self.requests.append(list(messages))
            yield from ["Freezing is instant. ", "Your account ", "shows $2,431.18 ", "according to [1]."]

    assistant = BankAssistant(
        Answerer(retriever=FixedRetriever(passages=[PASSAGE]), chat_model=PiecewiseChat([]))
    )
    events = list(assistant.stream("Does freezing a card change anything?"))
    shown = [e for e in events if isinstance(e, str)]
    assert shown == ["Freezing is instant. "] and events[-1].answer == NO_ACCOUNT_ACCESS  # whole sentences only


def test_faq_answer_keeps_citations():
    assistant, _ = _assistant("Open the app and choose Cards > Freeze card [1].")
    answer = assistant.ask("How can I freeze my card?")
    assert not answer.refused and answer.citations[0].source == "faq.html"


@pytest.mark.slow
def test_real_bank_faq_collection_refuses_unknowns(services):

    services.ingest([SAMPLES / "knowledge_bases" / "bank-faq"], "bank-faq-test")
    chat = ScriptedChat(["I could not find this in the documents."])
    assistant = BankAssistant(Answerer(retriever=services.retriever("bank-faq-test"), chat_model=chat))
    answer = assistant.ask("What is the bank's policy on lunar real estate loans?")
    assert answer.refused
    assert assistant.ask("What is my balance?").answer == NO_ACCOUNT_ACCESS


def test_cli_ask_shows_only_the_checked_answer(monkeypatch):
    """The draft names a balance the bank never gave: the CLI must print the replacement, not the draft."""
    from typer.testing import CliRunner

    from apps.cli import app
    from apps.services import Services

    answerer = Answerer(
        retriever=FixedRetriever(passages=[PASSAGE]),
        chat_model=ScriptedChat(["Your balance is $1,234.00 after the freeze [1]."]),
    )
    monkeypatch.setattr(Services, "answerer", lambda self, collection, **options: answerer)
    result = CliRunner().invoke(app, ["finance", "ask", "Does freezing a card change anything?"])
    assert result.exit_code == 0, result.output
    assert NO_ACCOUNT_ACCESS in result.stdout and "1,234" not in result.stdout


@pytest.mark.parametrize(
    "question",
    [
        "How much is in my account?",
        "What's the balance on my account?",
        "Can you tell me how much money is in my checking account?",
    ],
)
def test_more_ways_of_asking_for_account_data(question):
    assert asks_for_account_data(question)


@pytest.mark.parametrize(
    ("reply", "replaced"),
    [
        ("You have $2,431.18 in your account [1].", True),
        ("There is $1,500 available in your checking account [1].", True),
        ("You have 2,431.18 USD [1].", True),
        ("If you have $1,500 in your account, the monthly fee is waived [1].", False),
        ("Keep $1,500 in your checking account to avoid the $12 fee [1].", False),
        ("As long as you have $1,500 or more in your checking account, the monthly fee is waived [1].", False),
        ("With Zero Liability protection you have $0 liability for unauthorized card transactions [1].", False),
        ("There is $0 minimum opening deposit on your Basic Savings account [1].", False),
        ("Each month you have 5 EUR of free transfers [1].", False),
        ("You have $0.50 in your account [1].", True),
        ("You have $120 to spend this month [1].", True),
        ("You have 40 EUR until payday [1].", True),
        ("You have a balance of $2,431.18 [1].", True),
        ("You've got $1,200 left [1].", True),
        ("Your checking account balance is $2,431.18 [1].", True),
        ("You have 2.431,18 € available [1].", True),
        ("You have $500 overdraft protection [1].", False),
        ("You have $0 annual fee on the Rewards card [1].", False),
        ("After you have $1,500 in your account the fee is waived [1].", False),
    ],
)
def test_invented_amounts_near_your_account_are_replaced(reply, replaced):
    assistant, _ = _assistant(reply)
    answer = assistant.ask("Is there a monthly fee on checking accounts?")
    assert (answer.answer == NO_ACCOUNT_ACCESS) is replaced
