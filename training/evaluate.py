"""``fakewatch eval DIR``: how well a set of weights separates real from fake, through the pipeline.

Every media file below ``real/`` and ``fake/`` folders (at any depth, see
:mod:`training.layout`) goes through :class:`inference.pipeline.Pipeline`, the
same code the worker runs. Files the pipeline cannot judge (no face, undecodable)
are counted apart and left out of the metrics. Reported: AUC, EER, and accuracy,
precision and recall at the weights' ``fake`` threshold, overall, per media kind
and per source. When photos and videos have weights of their own, each file is called
with the threshold of the weights that judged it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from base.errors import MediaError
from inference.pipeline import Pipeline
from inference.weight_set import KINDS
from training.layout import MediaFile, walk
from training.metrics import Roc, auc, eer, rates_at, roc
from training.normalise import normalised

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ItemResult:
    """One file's verdict."""

    file: str
    source: str
    kind: str  # "image" or "video" (from the decoder; the suffix when it failed)
    is_fake: bool
    label: str  # the verdict's label
    score: float | None  # fake probability; None when unjudged
    reason_code: str | None
    seconds: float

    @property
    def judged(self) -> bool:
        """Whether a face was scored."""
        return self.score is not None


def summarise(items: Sequence[ItemResult], fake_at: Mapping[str, float]) -> dict[str, Any]:
    """Counts and metrics over some items (the unjudged only counted); ``fake_at`` is the
    fake threshold per kind."""
    judged = [i for i in items if i.judged]
    scores = [float(i.score) for i in judged if i.score is not None]
    labels = [i.is_fake for i in judged]
    unjudged: dict[str, int] = {}
    for i in items:
        if not i.judged:
            key = str(i.reason_code or i.label)
            unjudged[key] = unjudged.get(key, 0) + 1
    out: dict[str, Any] = {
        "n_real": sum(not i.is_fake for i in items),
        "n_fake": sum(i.is_fake for i in items),
        "n_judged": len(judged),
        "n_unjudged": len(items) - len(judged),
        "unjudged": unjudged,
        "auc": auc(scores, labels),
        "eer": None,
        "eer_threshold": None,
        "accuracy": None,
        "precision": None,
        "recall": None,
        "n_inconclusive": sum(i.label == "inconclusive" for i in judged),
    }
    found = eer(scores, labels)
    if found:
        out["eer"], out["eer_threshold"] = found
    if judged:
        r = rates_at(scores, labels, [fake_at[i.kind] for i in judged])
        out |= {"accuracy": r.accuracy, "precision": r.precision, "recall": r.recall}
        reals = [s for s, y in zip(scores, labels, strict=True) if not y]
        fakes = [s for s, y in zip(scores, labels, strict=True) if y]
        out["mean_score_real"] = sum(reals) / len(reals) if reals else None
        out["mean_score_fake"] = sum(fakes) / len(fakes) if fakes else None
    return out


@dataclass
class EvalReport:
    """Everything ``fakewatch eval`` prints."""

    root: str
    model: str  # the weight set's id
    trained: bool
    models: dict[str, str]  # per kind: the model id of the weights that judged it
    thresholds: dict[str, dict[str, float]]  # per kind: {"fake": ..., "real": ...}
    items: list[ItemResult]
    seconds: float
    normalise: int | None = None  # videos re-encoded to this size first (--normalise)

    def groups(self, key: Callable[[ItemResult], str]) -> dict[str, list[ItemResult]]:
        """Items grouped by ``key``, in sorted order."""
        out: dict[str, list[ItemResult]] = {}
        for item in self.items:
            out.setdefault(key(item), []).append(item)
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        """One JSON object: overall metrics at the top level, then breakdowns and items."""
        t = {kind: th["fake"] for kind, th in self.thresholds.items()}
        return {
            "root": self.root,
            "model": self.model,
            "trained": self.trained,
            "models": self.models,
            "thresholds": self.thresholds,
            "normalise": self.normalise,
            **summarise(self.items, t),
            "by_kind": {k: summarise(v, t) for k, v in self.groups(lambda i: i.kind).items()},
            "by_source": {k: summarise(v, t) for k, v in self.groups(lambda i: i.source).items()},
            "seconds": round(self.seconds, 1),
            "items": [asdict(i) for i in self.items],
        }

    def curves(self) -> dict[str, tuple[Roc, float | None]]:
        """ROC curves: overall, per kind, and per source with both classes."""

        def curve(items: Iterable[ItemResult]) -> tuple[Roc, float | None] | None:
            judged = [i for i in items if i.score is not None]
            scores = [float(i.score) for i in judged if i.score is not None]
            labels = [i.is_fake for i in judged]
            if all(labels) or not any(labels):
                return None
            return roc(scores, labels), auc(scores, labels)

        out: dict[str, tuple[Roc, float | None]] = {}
        named = [("all", self.items)]
        named += [(f"{k}s", v) for k, v in self.groups(lambda i: i.kind).items()]
        named += list(self.groups(lambda i: i.source).items())
        for name, items in named:
            if (c := curve(items)) is not None:
                out[name] = c
        return out


def labelled_files(root: Path, limit: int | None = None) -> tuple[list[MediaFile], int]:
    """Files below real/ or fake/ folders (at most ``limit`` per label and source).

    Returns:
        The files, and how many media files were skipped for having no label.
    """
    files, unlabelled = [], 0
    per: dict[tuple[bool, str], int] = {}
    for item in walk(root):
        if not item.labelled:
            unlabelled += 1
            continue
        key = (item.is_fake, item.source)
        if limit is not None and per.get(key, 0) >= limit:
            continue
        per[key] = per.get(key, 0) + 1
        files.append(item)
    return files, unlabelled


def evaluate(
    root: Path,
    pipeline: Pipeline,
    *,
    limit: int | None = None,
    progress: Progress | None = None,
    normalise: int | None = None,
) -> EvalReport:
    """Run every labelled file under ``root`` through ``pipeline``.

    With ``normalise``, every video is first re-encoded to that size, one frame rate and
    one bitrate, without audio (:mod:`training.normalise`).
    """
    files, _ = labelled_files(root, limit)
    start = time.monotonic()
    items = []
    for n, f in enumerate(files, 1):
        t0 = time.monotonic()
        try:
            with normalised(f.path, normalise, is_video=f.is_video) as path:
                v = pipeline.analyze(path)
        except MediaError as e:  # the re-encode failed: unjudged, like an undecodable file
            items.append(
                ItemResult(
                    f.relative, f.source, "video", f.is_fake, "unsupported", None, e.code, 0.0
                )
            )
            continue
        kind = v.media_kind or ("video" if f.is_video else "image")
        items.append(
            ItemResult(
                file=f.relative,
                source=f.source,
                kind=kind,
                is_fake=f.is_fake,
                label=v.label,
                score=v.fake_probability if v.judged else None,
                reason_code=v.reason_code,
                seconds=round(time.monotonic() - t0, 3),
            )
        )
        if progress:
            progress(n, len(files), f.relative)
    return EvalReport(
        root=str(root),
        model=pipeline.model_id,
        trained=pipeline.weights.trained,
        models={k: pipeline.manifest_for(k).model_id for k in KINDS},
        thresholds={k: asdict(pipeline.manifest_for(k).thresholds) for k in KINDS},
        items=items,
        seconds=time.monotonic() - start,
        normalise=normalise,
    )


def _f(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _weights_line(report: EvalReport) -> str:
    def thresholds(kind: str) -> str:
        th = report.thresholds[kind]
        return f"fake threshold {th['fake']:.4f}, real threshold {th['real']:.4f}"

    untrained = "" if report.trained else " (UNTRAINED)"
    if len(set(report.models.values())) == 1:
        return f"weights {report.model}{untrained}; {thresholds('video')}"
    return f"weights{untrained}: " + "; ".join(
        f"{kind}s {report.models[kind]} ({thresholds(kind)})" for kind in report.models
    )


def format_report(report: EvalReport) -> str:
    """A readable table: overall, per kind, per source."""
    d = report.to_dict()
    lines = [
        _weights_line(report),
        f"{d['n_real']} real + {d['n_fake']} fake files; {d['n_unjudged']} unjudged "
        f"{d['unjudged'] or ''}; {d['n_inconclusive']} inconclusive; {report.seconds:.0f}s"
        + (
            f"; videos normalised to {report.normalise} px, 25 fps, one bitrate, no audio"
            if report.normalise
            else ""
        ),
        "",
        f"{'group':44} {'real':>5} {'fake':>5} {'unj':>4} {'AUC':>6} {'EER':>6} "
        f"{'acc':>6} {'prec':>6} {'recall':>6} {'p_real':>6} {'p_fake':>6}",
    ]

    def row(name: str, s: dict[str, Any]) -> str:
        return (
            f"{name[:44]:44} {s['n_real']:5d} {s['n_fake']:5d} {s['n_unjudged']:4d} "
            f"{_f(s['auc']):>6} {_f(s['eer']):>6} {_f(s['accuracy']):>6} "
            f"{_f(s['precision']):>6} {_f(s['recall']):>6} "
            f"{_f(s.get('mean_score_real')):>6} {_f(s.get('mean_score_fake')):>6}"
        )

    lines.append(row("ALL", d))
    lines += [row(f"kind: {k}", s) for k, s in d["by_kind"].items()]
    lines += [row(k, s) for k, s in d["by_source"].items()]
    lines.append("")
    lines.append(
        "acc/prec/recall: 'fake' when p >= the fake threshold; p_real/p_fake: mean fake "
        "probability of the real/fake files; unj: no face or not decodable (not in the metrics)"
    )
    return "\n".join(lines)
