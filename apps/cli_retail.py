"""``genai retail``: product recommendations and personalised, fact-checked marketing content."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apps.cli_common import ConfigOption, JsonOption, guarded, make_services, print_json
from data_connectors.errors import BadInputError

if TYPE_CHECKING:
    from apps.services import Services
    from domains.retail.recommend import Recommender

app = typer.Typer(help="Retail: recommendations from purchase/browse history, grounded marketing content.")

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "retail"
CatalogueOption = Annotated[
    Path,
    typer.Option(help="product catalogue CSV/XLSX (product_id,name,category,price,features,description)"),
]
HistoryOption = Annotated[
    Path, typer.Option(help="history CSV (customer_id,segment,product_id,event purchase|view,timestamp)")
]
KindOption = Annotated[str, typer.Option(help="email, description or social")]
ToneOption = Annotated[str, typer.Option(help="friendly, formal, playful or luxury")]
LengthOption = Annotated[str, typer.Option(help="short, medium or long")]
LanguageOption = Annotated[str, typer.Option(help="language to write in")]


def _recommender(services: Services, catalogue: Path, history: Path, *, content: bool = True) -> Recommender:
    from domains.retail.recommend import Recommender, load_catalogue, load_history

    embeddings = services.embeddings() if content else None
    recommender = Recommender(load_catalogue(catalogue), load_history(history), embeddings=embeddings)
    if recommender.history_note:
        typer.echo(f"warning: {recommender.history_note}", err=True)
    return recommender


def _options(kind: str, tone: str, length: str, language: str):
    from pydantic import ValidationError

    from domains.retail.content import ContentOptions

    try:
        return ContentOptions(kind=kind, tone=tone, length=length, language=language)
    except ValidationError as error:
        first = error.errors()[0]
        raise BadInputError(f"--{first['loc'][0]} {first['input']!r}: {first['msg']}.") from None


@app.command()
@guarded
def recommend(
    customer: Annotated[str, typer.Option(help="customer id (unknown ids get popular-in-segment items)")],
    k: Annotated[int, typer.Option("-k", "--top", help="how many products", min=1, max=100)] = 10,
    segment: Annotated[str | None, typer.Option(help="segment for a customer without history")] = None,
    catalogue: CatalogueOption = SAMPLE / "catalogue.csv",
    history: HistoryOption = SAMPLE / "history.csv",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Top-k products for a customer: content similarity + co-purchase + segment popularity."""
    result = _recommender(make_services(config), catalogue, history).recommend(customer, k, segment=segment)
    if as_json:
        print_json(result.to_dict())
        return
    state = "new customer: popular items" if result.cold_start else f"segment {result.segment}"
    typer.echo(f"customer {result.customer_id} ({state})")
    for rank, item in enumerate(result.items, start=1):
        typer.echo(f"{rank:>2}. {item.product_id} {item.name} ({item.price:.2f}) - {item.reason}")


@app.command()
@guarded
def content(
    customer: Annotated[str | None, typer.Option(help="write for this customer")] = None,
    segment: Annotated[str | None, typer.Option(help="write for a whole segment")] = None,
    product: Annotated[
        list[str] | None,
        typer.Option(help="write about these product ids (repeat --product, or separate ids with commas)"),
    ] = None,
    kind: KindOption = "email",
    tone: ToneOption = "friendly",
    length: LengthOption = "medium",
    language: LanguageOption = "English",
    catalogue: CatalogueOption = SAMPLE / "catalogue.csv",
    history: HistoryOption = SAMPLE / "history.csv",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write an e-mail, product description or social post; every number is checked against the catalogue."""
    from apps.cli_common import fail
    from domains.retail.content import ContentWriter

    if sum(value is not None for value in (customer, segment, product)) != 1:
        fail("give exactly one of --customer, --segment or --product.")
    options = _options(kind, tone, length, language)
    services = make_services(config)
    writer = ContentWriter(services.chat_model(), _recommender(services, catalogue, history))
    if customer is not None:
        result = writer.for_customer(customer, options)
    elif segment is not None:
        result = writer.for_segment(segment, options)
    else:
        ids = [part for value in product or [] for part in value.replace(",", " ").split()]
        result = writer.for_products(ids, options)
    if as_json:
        print_json(result.to_dict())
        return
    typer.echo(result.text)
    for issue in result.issues:
        typer.echo(f"check: {issue}", err=True)


@app.command()
@guarded
def batch(
    out: Annotated[Path, typer.Option(help="CSV to write (one row per customer)")],
    segment: Annotated[str | None, typer.Option(help="only customers of this segment")] = None,
    limit: Annotated[int, typer.Option(help="at most this many customers", min=1)] = 20,
    kind: KindOption = "email",
    tone: ToneOption = "friendly",
    length: LengthOption = "medium",
    language: LanguageOption = "English",
    catalogue: CatalogueOption = SAMPLE / "catalogue.csv",
    history: HistoryOption = SAMPLE / "history.csv",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write content for many customers into one CSV, with a progress bar."""
    from tqdm import tqdm

    from domains.retail.content import ContentWriter, write_results_csv

    options = _options(kind, tone, length, language)
    services = make_services(config)
    recommender = _recommender(services, catalogue, history)
    customers = recommender.history[["customer_id", "segment"]].drop_duplicates("customer_id")
    if segment is not None:
        known = ", ".join(sorted(customers["segment"].dropna().unique()))
        customers = customers[customers["segment"] == segment]
        if customers.empty:  # the same message as `recommend` and `content --segment`
            raise BadInputError(f"Unknown segment {segment!r}; known segments are {known}.")
    ids = customers["customer_id"].head(limit).tolist()
    writer = ContentWriter(services.chat_model(), recommender)
    with tqdm(total=len(ids), desc="content", unit="piece", disable=as_json) as bar:
        results = writer.batch(ids, options, progress=lambda done, _total: bar.update(1))
    path = write_results_csv(results, out)
    flagged = sum(not result.grounded for result in results)
    if as_json:
        print_json({"out": str(path), "pieces": len(results), "flagged": flagged})
        return
    typer.echo(f"wrote {len(results)} pieces to {path} ({flagged} flagged for review)")
