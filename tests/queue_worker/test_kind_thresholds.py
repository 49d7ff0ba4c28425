"""With weights per kind, the worker stores each check's label under the thresholds of the
weights that judged its kind (and the chat's own, where it set them)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from base.settings import Settings
from base.vocabulary import Label
from db.models import ChatSettings
from db.verdicts import VerdictRecord
from inference.pipeline import Pipeline
from inference.weight_set import WeightSet
from inference.weights import Thresholds, random_weights
from queue_worker.tasks import WorkerState, chat_label


def _state(test_device: str) -> WorkerState:
    base = random_weights()
    photos = replace(base, manifest=replace(base.manifest, thresholds=Thresholds(0.3, 0.1)))
    clips = replace(base, manifest=replace(base.manifest, thresholds=Thresholds(0.9, 0.7)))
    pipeline = Pipeline(WeightSet(image=photos, video=clips), device=test_device)
    none = cast(Any, None)  # chat_label reads only the pipeline
    return WorkerState(
        settings=Settings(), store=none, pipeline=pipeline, executor=none, redis=none
    )


def test_each_kind_is_labelled_by_its_own_weights_thresholds(test_device: str) -> None:
    state = _state(test_device)
    chat = ChatSettings(platform="telegram", chat_id="1")
    judged = VerdictRecord(label=Label.INCONCLUSIVE, fake_probability=0.5)
    assert chat_label(state, chat, replace(judged, media_kind="image")) == Label.FAKE
    assert chat_label(state, chat, replace(judged, media_kind="video")) == Label.REAL
    # the chat's own threshold replaces the model's for both kinds
    strict = ChatSettings(platform="telegram", chat_id="2", real_threshold=0.6)
    assert chat_label(state, strict, replace(judged, media_kind="video")) == Label.REAL
    assert chat_label(state, strict, replace(judged, media_kind="image")) == Label.FAKE
    lax = ChatSettings(platform="telegram", chat_id="3", fake_threshold=0.95, real_threshold=0.2)
    assert chat_label(state, lax, replace(judged, media_kind="image")) == Label.INCONCLUSIVE
    # labels that judged nothing are kept as they are
    no_face = VerdictRecord(label=Label.NO_FACE, media_kind="image")
    assert chat_label(state, chat, no_face) == Label.NO_FACE
