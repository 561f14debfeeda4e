"""GPU-heavy hub events share one Gradio concurrency group sized by ``server.gpu_concurrency``: checked in the
built hub, and live: a skull strip and a dental analysis submitted at once through ``gradio_client`` run one
after the other. Both engines are replaced by slow fakes that record when they run; the uploads are a few
junk bytes written here (the fakes never read them)."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import pytest

GPU_EVENTS = {"run", "analyse"}  # radiology skull strip, dental segmentation
LLM_EVENTS = {"respond", "chat", "write", "review", "report", "_submit_fn"}


def _services(data_dir: Path, **overrides):
    from apps.services import Services
    from apps.settings import load_settings

    return Services(load_settings(data_dir=data_dir, device="cpu", **overrides))


def _events(services) -> dict[str, list]:
    from apps.hub import build_hub

    events: dict[str, list] = {}
    for block_fn in build_hub(services).fns.values():
        events.setdefault(getattr(block_fn.fn, "__name__", ""), []).append(block_fn)
    return events


def test_gpu_events_share_one_group_sized_by_settings(tmp_path: Path) -> None:
    from apps.hub import GPU_CONCURRENCY_ID

    events = _events(_services(tmp_path))
    for name in GPU_EVENTS:
        assert [(e.concurrency_id, e.concurrency_limit) for e in events[name]] == [(GPU_CONCURRENCY_ID, 1)]
    gpu = [e for group in events.values() for e in group if e.concurrency_id == GPU_CONCURRENCY_ID]
    assert {e.concurrency_limit for e in gpu} == {1}
    # on the CPU the LLM keeps its own limit: chats do not wait behind an MRI
    assert all(e.concurrency_id != GPU_CONCURRENCY_ID for name in LLM_EVENTS for e in events[name])

    wider = _events(_services(tmp_path, server={"gpu_concurrency": 2}))
    assert {(e.concurrency_id, e.concurrency_limit) for name in GPU_EVENTS for e in wider[name]} == {
        (GPU_CONCURRENCY_ID, 2)
    }


def test_llm_on_the_gpu_joins_the_group(tmp_path: Path) -> None:
    from apps.hub import GPU_CONCURRENCY_ID, llm_on_gpu
    from rag.llm import LLMConfig

    services = _services(tmp_path, llm=LLMConfig(device="cuda", engine="transformers"))
    assert llm_on_gpu(services)
    events = _events(services)
    for name in LLM_EVENTS:  # chat tabs (ChatInterface too), documents answers, retail/finance/compliance
        assert {(e.concurrency_id, e.concurrency_limit) for e in events[name]} == {(GPU_CONCURRENCY_ID, 1)}
    assert not llm_on_gpu(_services(tmp_path, llm=LLMConfig(device="cuda", engine="llama-cpp")))
    assert not llm_on_gpu(_services(tmp_path, llm=LLMConfig(device="cuda", backend="openai")))


@pytest.mark.parametrize("limit", [1, 2])
def test_two_gpu_jobs_queue_one_after_the_other(
    tmp_path: Path, monkeypatch, start_server, limit: int
) -> None:
    from gradio_client import Client, handle_file

    import domains.dental.segment as dental
    import domains.radiology.pipeline as radiology
    from apps.server import create_app
    from data_connectors.errors import BadInputError

    spans: dict[str, tuple[float, float]] = {}
    both_started = threading.Barrier(2, timeout=1.5)

    def slow(name: str):
        def engine(*args, **kwargs):
            start = time.monotonic()
            with contextlib.suppress(threading.BrokenBarrierError):  # with room for one, no second comes
                both_started.wait()
            spans[name] = (start, time.monotonic())
            raise BadInputError(f"fake {name} engine")

        return engine

    monkeypatch.setattr(radiology, "run_strip", slow("radiology"))
    monkeypatch.setattr(dental, "analyse_radiograph", slow("dental"))
    services = _services(tmp_path / "data", server={"gpu_concurrency": limit})
    mri, xray = tmp_path / "head.nii", tmp_path / "pano.png"
    mri.write_bytes(b"not really a volume")
    xray.write_bytes(b"not really an image")
    client = Client(start_server(create_app(services)), verbose=False)
    jobs = [
        client.submit(handle_file(str(mri)), "", "deepbet", "", api_name="/run"),
        client.submit(handle_file(str(xray)), api_name="/analyse"),
    ]
    for job in jobs:
        try:
            job.result(timeout=60)
        except Exception as error:  # the fake strip fails on purpose, shown to the user as gr.Error
            assert "fake radiology engine" in str(error)
    (_, first_end), (second_start, _) = sorted(spans.values())
    if limit == 1:
        assert second_start >= first_end  # the second waited in the queue for the first
    else:
        assert second_start < first_end  # the control: with room for two, they overlap
