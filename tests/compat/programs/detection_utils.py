"""Object-detection helpers as people write them without torchvision.ops: anchors on a
feature-map grid with meshgrid, box format conversion, pairwise IoU / GIoU with
broadcasting and clamp, greedy NMS with sort and masks, batched NMS by offsetting boxes,
anchor-to-ground-truth matching with max/argmax, box encoding/decoding, a tiny
single-stage detector head trained with focal loss + SmoothL1 on synthetic squares."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_printoptions(precision=3, sci_mode=False)


def box_cxcywh_to_xyxy(x):
    x_c, y_c, w, h = x.unbind(-1)
    b = [(x_c - 0.5 * w), (y_c - 0.5 * h), (x_c + 0.5 * w), (y_c + 0.5 * h)]
    return torch.stack(b, dim=-1)


def box_xyxy_to_cxcywh(x):
    x0, y0, x1, y1 = x.unbind(-1)
    b = [(x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0), (y1 - y0)]
    return torch.stack(b, dim=-1)


def box_area(boxes):
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(boxes1, boxes2):
    area1 = box_area(boxes1)
    area2 = box_area(boxes2)
    lt = torch.max(boxes1[:, None, :2], boxes2[:, :2])  # [N,M,2]
    rb = torch.min(boxes1[:, None, 2:], boxes2[:, 2:])  # [N,M,2]
    wh = (rb - lt).clamp(min=0)  # [N,M,2]
    inter = wh[:, :, 0] * wh[:, :, 1]  # [N,M]
    union = area1[:, None] + area2 - inter
    iou = inter / union
    return iou, union


def generalized_box_iou(boxes1, boxes2):
    assert (boxes1[:, 2:] >= boxes1[:, :2]).all()
    assert (boxes2[:, 2:] >= boxes2[:, :2]).all()
    iou, union = box_iou(boxes1, boxes2)
    lt = torch.min(boxes1[:, None, :2], boxes2[:, :2])
    rb = torch.max(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    area = wh[:, :, 0] * wh[:, :, 1]
    return iou - (area - union) / area


def nms(boxes, scores, iou_threshold):
    order = scores.argsort(descending=True)
    keep = []
    while order.numel() > 0:
        i = order[0].item()
        keep.append(i)
        if order.numel() == 1:
            break
        ious, _ = box_iou(boxes[i].unsqueeze(0), boxes[order[1:]])
        mask = ious[0] <= iou_threshold
        order = order[1:][mask]
    return torch.tensor(keep, dtype=torch.long)


def batched_nms(boxes, scores, idxs, iou_threshold):
    max_coordinate = boxes.max()
    offsets = idxs.to(boxes) * (max_coordinate + torch.tensor(1).to(boxes))
    boxes_for_nms = boxes + offsets[:, None]
    return nms(boxes_for_nms, scores, iou_threshold)


def make_anchors(feat_h, feat_w, stride, sizes=(8.0, 16.0), ratios=(0.5, 1.0, 2.0)):
    shifts_x = torch.arange(0, feat_w, dtype=torch.float32) * stride + stride / 2
    shifts_y = torch.arange(0, feat_h, dtype=torch.float32) * stride + stride / 2
    shift_y, shift_x = torch.meshgrid(shifts_y, shifts_x, indexing="ij")
    shifts = torch.stack((shift_x.reshape(-1), shift_y.reshape(-1)), dim=1)
    wh = []
    for s in sizes:
        for r in ratios:
            w = s * math.sqrt(1 / r)
            h = s * math.sqrt(r)
            wh.append([w, h])
    wh = torch.tensor(wh)
    centers = shifts[:, None, :].expand(-1, len(wh), -1)
    whs = wh[None].expand(len(shifts), -1, -1)
    return box_cxcywh_to_xyxy(torch.cat([centers, whs], dim=-1).reshape(-1, 4))


def encode(gt, anchors, weights=(10.0, 10.0, 5.0, 5.0)):
    a = box_xyxy_to_cxcywh(anchors)
    g = box_xyxy_to_cxcywh(gt)
    wx, wy, ww, wh = weights
    dx = wx * (g[:, 0] - a[:, 0]) / a[:, 2]
    dy = wy * (g[:, 1] - a[:, 1]) / a[:, 3]
    dw = ww * torch.log(g[:, 2] / a[:, 2])
    dh = wh * torch.log(g[:, 3] / a[:, 3])
    return torch.stack((dx, dy, dw, dh), dim=1)


def decode(deltas, anchors, weights=(10.0, 10.0, 5.0, 5.0)):
    a = box_xyxy_to_cxcywh(anchors)
    wx, wy, ww, wh = weights
    dw = (deltas[:, 2] / ww).clamp(max=math.log(1000.0 / 16))
    dh = (deltas[:, 3] / wh).clamp(max=math.log(1000.0 / 16))
    cx = deltas[:, 0] / wx * a[:, 2] + a[:, 0]
    cy = deltas[:, 1] / wy * a[:, 3] + a[:, 1]
    return box_cxcywh_to_xyxy(
        torch.stack((cx, cy, a[:, 2] * torch.exp(dw), a[:, 3] * torch.exp(dh)), dim=1)
    )


boxes = torch.tensor(
    [[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [21, 19, 29, 31], [0, 0, 5, 5]]
)
scores = torch.tensor([0.9, 0.8, 0.75, 0.95, 0.3])
labels = torch.tensor([0, 0, 1, 1, 0])
iou, union = box_iou(boxes, boxes)
print("IoU:\n", iou)
print("GIoU:\n", generalized_box_iou(boxes, boxes[:3]))
print("cxcywh:", box_xyxy_to_cxcywh(boxes[:2]))
print("nms keep:", nms(boxes, scores, 0.5), "batched:", batched_nms(boxes, scores, labels, 0.5))
print(
    "areas:", box_area(boxes), "triu pairs > 0.5:", (iou.triu(diagonal=1) > 0.5).nonzero().tolist()
)

anchors = make_anchors(4, 4, stride=8)
print("anchors", anchors.shape, anchors[:3])
gt = torch.tensor([[4.0, 4.0, 14.0, 12.0], [18.0, 16.0, 30.0, 30.0]])
ious, _ = box_iou(anchors, gt)
best_iou, best_gt = ious.max(dim=1)
pos = best_iou >= 0.4
best_anchor_per_gt = ious.argmax(dim=0)
pos[best_anchor_per_gt] = True
best_gt[best_anchor_per_gt] = torch.arange(len(gt))
print("positives:", pos.sum().item(), pos.nonzero().squeeze(1).tolist())
deltas = encode(gt[best_gt[pos]], anchors[pos])
print("encoded deltas:\n", deltas)
print(
    "decode(encode) max err:",
    (decode(deltas, anchors[pos]) - gt[best_gt[pos]]).abs().max().item() < 1e-4,
)


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="sum"):
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss.sum() if reduction == "sum" else loss.mean()


class TinyDetector(nn.Module):
    def __init__(self, num_anchors=6, num_classes=2):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.cls_head = nn.Conv2d(16, num_anchors * num_classes, 3, padding=1)
        self.box_head = nn.Conv2d(16, num_anchors * 4, 3, padding=1)
        self.num_classes = num_classes
        prior = 0.01
        nn.init.constant_(self.cls_head.bias, -math.log((1 - prior) / prior))
        nn.init.normal_(self.box_head.weight, std=0.01)
        nn.init.zeros_(self.box_head.bias)

    def forward(self, x):
        f = self.backbone(x)
        n = x.shape[0]
        cls = self.cls_head(f).permute(0, 2, 3, 1).reshape(n, -1, self.num_classes)
        box = self.box_head(f).permute(0, 2, 3, 1).reshape(n, -1, 4)
        return cls, box


def make_image(g):
    img = torch.zeros(1, 32, 32)
    k = int(torch.randint(0, 2, (1,), generator=g))
    size = 8 if k == 0 else 14
    x0, y0 = torch.randint(0, 32 - size, (2,), generator=g).tolist()
    img[0, y0 : y0 + size, x0 : x0 + size] = 1.0 if k == 0 else 0.5
    img += 0.05 * torch.randn(1, 32, 32, generator=g)
    return (
        img,
        torch.tensor([[x0, y0, x0 + size, y0 + size]], dtype=torch.float32),
        torch.tensor([k]),
    )


g = torch.Generator().manual_seed(3)
data = [make_image(g) for _ in range(16)]
images = torch.stack([d[0] for d in data])
model = TinyDetector()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
for step in range(8):
    cls_out, box_out = model(images)
    cls_losses, box_losses, n_pos = [], [], 0
    for i, (_, gtb, gtl) in enumerate(data):
        ious, _ = box_iou(anchors, gtb)
        best, idx = ious.max(dim=1)
        positive = best >= 0.3
        positive[ious.argmax(dim=0)] = True
        target = torch.zeros_like(cls_out[i])
        target[positive, gtl[idx[positive]]] = 1.0
        cls_losses.append(sigmoid_focal_loss(cls_out[i], target))
        reg_t = encode(gtb[idx[positive]], anchors[positive])
        box_losses.append(
            F.smooth_l1_loss(box_out[i][positive], reg_t, beta=1 / 9, reduction="sum")
        )
        n_pos += int(positive.sum())
    loss_cls = torch.stack(cls_losses).sum() / max(1, n_pos)
    loss_box = torch.stack(box_losses).sum() / max(1, n_pos)
    loss = loss_cls + loss_box
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
    opt.step()
    print(f"step {step} cls {loss_cls.item():.4f} box {loss_box.item():.4f} positives {n_pos}")

model.eval()
with torch.no_grad():
    cls_out, box_out = model(images[:2])
for i in range(2):
    probs = cls_out[i].sigmoid()
    sc, lab = probs.max(dim=1)
    keep = sc > 0.05
    dets = decode(box_out[i][keep], anchors[keep])
    k = batched_nms(dets, sc[keep], lab[keep], 0.5)[:3]
    print(
        f"image {i}: {int(keep.sum())} candidates, top:", dets[k].round(), sc[keep][k], lab[keep][k]
    )
    print("  truth", data[i][1], data[i][2])
