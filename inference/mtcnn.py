"""The MTCNN cascade of facenet-pytorch, with batched crops: the same faces, fewer kernel launches.

facenet-pytorch's ``detect_face`` (MIT licence, Tim Esler) cuts every candidate
box out of the frame and resizes it with its own ``interpolate(mode="area")``
call: thousands of small calls per item on a textured video, each a kernel
launch on a GPU, more still when :meth:`inference.pipeline.Pipeline.analyze_batch`
puts several items in one batch. Here the candidates of a stage are resampled
together from a summed-area table of the frames, which computes exactly what
``adaptive_avg_pool2d`` computes (the same bins, the same averages). Everything
else -- the pyramid, the thresholds, box regression and the NMS steps -- is
facenet-pytorch's code path, step for step; a test compares the two on real frames.

:class:`inference.faces.FaceDetector` uses this on CUDA only: measured on the CPU
with the networks in channels_last format, facenet's own loop is ~12% faster
(the table and the gathers cost more than the small calls save there).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.nn.functional import interpolate

from inference.torchvision_compat import ensure_torchvision


def nets_channels_last(mtcnn: Any) -> None:
    """Put PNet, RNet and ONet in channels_last memory format (in place)."""
    for net in (mtcnn.pnet, mtcnn.rnet, mtcnn.onet):
        net.to(memory_format=torch.channels_last)


def integral(imgs: np.ndarray, device: torch.device) -> torch.Tensor:
    """Summed-area tables ``(N, H + 1, W + 1, C)`` of uint8 ``(N, H, W, C)`` images.

    Integer sums are exact (int32 holds 255 x 8 M pixels; int64 beyond that). On
    the CPU numpy's integer cumsum is several times faster than torch's.
    """
    n, h, w, c = imgs.shape
    if device.type != "cpu":
        dtype = torch.int32 if 255 * h * w < 2**31 else torch.int64
        table = torch.zeros((n, h + 1, w + 1, c), dtype=dtype, device=device)
        table[:, 1:, 1:, :] = torch.as_tensor(imgs, device=device).to(dtype).cumsum(1).cumsum(2)
        return table
    np_dtype = np.int32 if 255 * h * w < 2**31 else np.int64
    out = np.zeros((n, h + 1, w + 1, c), dtype=np_dtype)
    inner = out[:, 1:, 1:]
    np.cumsum(imgs, axis=1, dtype=np_dtype, out=inner)
    np.cumsum(inner, axis=2, out=inner)
    return torch.from_numpy(out)


def _bins(lo: torch.Tensor, hi: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """adaptive_avg_pool2d's bin bounds ``[start, end)`` over each span ``[lo, hi)``."""
    span = (hi - lo).clamp(min=1)[:, None]
    i = torch.arange(size, device=lo.device)[None, :]
    start = lo[:, None] + torch.div(i * span, size, rounding_mode="floor")
    end = lo[:, None] + torch.div((i + 1) * span + size - 1, size, rounding_mode="floor")
    return start, end


def crop_resample(
    table: torch.Tensor,
    image_inds: torch.Tensor,
    y: np.ndarray,
    ey: np.ndarray,
    x: np.ndarray,
    ex: np.ndarray,
    size: int,
) -> torch.Tensor:
    """``imgs[k, :, y-1:ey, x-1:ex]`` resized to ``size`` by area averaging, for every box ``k``.

    Returns:
        ``(K, C, size, size)`` float32, as ``interpolate(crop, size, mode="area")`` gives.
    """
    dev = table.device
    top = torch.as_tensor(y, device=dev).long() - 1
    left = torch.as_tensor(x, device=dev).long() - 1
    bottom = torch.as_tensor(ey, device=dev).long()
    right = torch.as_tensor(ex, device=dev).long()
    r0, r1 = _bins(top, torch.maximum(bottom, top + 1), size)
    c0, c1 = _bins(left, torch.maximum(right, left + 1), size)
    h, w = table.shape[1] - 1, table.shape[2] - 1
    r0, r1 = r0.clamp(0, h), r1.clamp(0, h)
    c0, c1 = c0.clamp(0, w), c1.clamp(0, w)
    n = image_inds.to(dev).long()[:, None, None]

    def at(rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        return table[n, rows[:, :, None], cols[:, None, :]]  # (K, size, size, C)

    sums = at(r1, c1) - at(r0, c1) - at(r1, c0) + at(r0, c0)
    area = ((r1 - r0)[:, :, None] * (c1 - c0)[:, None, :]).clamp(min=1)
    out = sums.to(torch.float64) / area[..., None]
    return out.permute(0, 3, 1, 2).float().contiguous(memory_format=torch.channels_last)


@torch.inference_mode()
def detect_face(
    imgs: np.ndarray,
    minsize: int,
    pnet: Any,
    rnet: Any,
    onet: Any,
    threshold: list[float],
    factor: float,
    device: torch.device,
) -> tuple[np.ndarray, np.ndarray]:
    """facenet-pytorch's ``detect_face`` for a batch of equal-size RGB uint8 frames.

    Returns:
        Per frame, an array of boxes ``(k, 5)`` (x1, y1, x2, y2, score) and one of
        landmarks ``(k, 5, 2)``, as object arrays, like the original.
    """
    ensure_torchvision()
    from facenet_pytorch.models.utils.detect_face import (
        batched_nms_numpy,
        bbreg,
        generateBoundingBox,
        pad,
        rerec,
    )
    from torchvision.ops.boxes import batched_nms

    model_dtype = next(pnet.parameters()).dtype
    raw = torch.as_tensor(imgs, device=device)
    # (N, H, W, 3) -> (N, 3, H, W) as a view: channels_last memory, what the nets want
    frames = raw.permute(0, 3, 1, 2).to(model_dtype)
    batch_size = len(frames)
    h, w = frames.shape[2:4]
    m = 12.0 / minsize
    minl = min(h, w) * m
    scales = []
    scale_i = m
    while minl >= 12:
        scales.append(scale_i)
        scale_i *= factor
        minl *= factor

    # First stage: PNet over the pyramid.
    boxes_l, inds_l, picks_l = [], [], []
    offset = 0
    for scale in scales:
        im_data = interpolate(frames, size=(int(h * scale + 1), int(w * scale + 1)), mode="area")
        im_data = (im_data - 127.5) * 0.0078125
        reg, probs = pnet(im_data.contiguous(memory_format=torch.channels_last))
        boxes_scale, image_inds_scale = generateBoundingBox(reg, probs[:, 1], scale, threshold[0])
        boxes_l.append(boxes_scale)
        inds_l.append(image_inds_scale)
        pick = batched_nms(boxes_scale[:, :4], boxes_scale[:, 4], image_inds_scale, 0.5)
        picks_l.append(pick + offset)
        offset += boxes_scale.shape[0]
    boxes = torch.cat(boxes_l, dim=0)
    image_inds = torch.cat(inds_l, dim=0)
    scale_picks = torch.cat(picks_l, dim=0)
    boxes, image_inds = boxes[scale_picks], image_inds[scale_picks]
    pick = batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
    boxes, image_inds = boxes[pick], image_inds[pick]

    regw = boxes[:, 2] - boxes[:, 0]
    regh = boxes[:, 3] - boxes[:, 1]
    qq1 = boxes[:, 0] + boxes[:, 5] * regw
    qq2 = boxes[:, 1] + boxes[:, 6] * regh
    qq3 = boxes[:, 2] + boxes[:, 7] * regw
    qq4 = boxes[:, 3] + boxes[:, 8] * regh
    boxes = torch.stack([qq1, qq2, qq3, qq4, boxes[:, 4]]).permute(1, 0)
    boxes = rerec(boxes)

    table = integral(imgs, device) if len(boxes) > 0 else None

    # Second stage: RNet on every candidate, resampled together.
    if table is not None and len(boxes) > 0:
        y, ey, x, ex = pad(boxes, w, h)
        im_data = crop_resample(table, image_inds, y, ey, x, ex, 24)
        out = rnet((im_data - 127.5) * 0.0078125)
        out0 = out[0].permute(1, 0)
        score = out[1].permute(1, 0)[1, :]
        ipass = score > threshold[1]
        boxes = torch.cat((boxes[ipass, :4], score[ipass].unsqueeze(1)), dim=1)
        image_inds = image_inds[ipass]
        mv = out0[:, ipass].permute(1, 0)
        pick = batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.7)
        boxes, image_inds, mv = boxes[pick], image_inds[pick], mv[pick]
        boxes = bbreg(boxes, mv)
        boxes = rerec(boxes)

    # Third stage: ONet, landmarks.
    points = torch.zeros(0, 5, 2, device=device)
    if table is not None and len(boxes) > 0:
        y, ey, x, ex = pad(boxes, w, h)
        im_data = crop_resample(table, image_inds, y, ey, x, ex, 48)
        out = onet((im_data - 127.5) * 0.0078125)
        out0 = out[0].permute(1, 0)
        points = out[1].permute(1, 0)
        score = out[2].permute(1, 0)[1, :]
        ipass = score > threshold[2]
        points = points[:, ipass]
        boxes = torch.cat((boxes[ipass, :4], score[ipass].unsqueeze(1)), dim=1)
        image_inds = image_inds[ipass]
        mv = out0[:, ipass].permute(1, 0)
        w_i = boxes[:, 2] - boxes[:, 0] + 1
        h_i = boxes[:, 3] - boxes[:, 1] + 1
        points_x = w_i.repeat(5, 1) * points[:5, :] + boxes[:, 0].repeat(5, 1) - 1
        points_y = h_i.repeat(5, 1) * points[5:10, :] + boxes[:, 1].repeat(5, 1) - 1
        points = torch.stack((points_x, points_y)).permute(2, 1, 0)
        boxes = bbreg(boxes, mv)
        pick = batched_nms_numpy(boxes[:, :4], boxes[:, 4], image_inds, 0.7, "Min")
        boxes, image_inds, points = boxes[pick], image_inds[pick], points[pick]

    boxes_np = boxes.cpu().numpy()
    points_np = points.cpu().numpy()
    inds_np = image_inds.cpu().numpy()
    batch_boxes = np.empty(batch_size, dtype=object)
    batch_points = np.empty(batch_size, dtype=object)
    for b in range(batch_size):
        mine = np.where(inds_np == b)
        batch_boxes[b] = boxes_np[mine].copy()
        batch_points[b] = points_np[mine].copy()
    return batch_boxes, batch_points
