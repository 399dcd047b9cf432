#!/usr/bin/python3
"""Exports the models of the PyTorch/ONNX tutorials as dlc test cases.

Every model is built with seeded random weights (nothing is downloaded),
exported with torch.onnx.export (opsets 11..17, varied across models) and
turned into a backend-test case by ONNX Runtime:

    OUT/<name>/model.onnx
    OUT/<name>/test_data_set_K/input_N.pb, output_N.pb   (outputs: ONNX Runtime's)

Every model is exported with dynamic axes (batch for the CNNs; batch and
sequence for the BERT/GPT-2-style models and the RNNs; past and total
sequence too for gpt2_decoder_past), and its data sets differ in every
dynamic axis (set 0 has the export's own sizes), so `dlc test OUT` checks
that one artifact, compiled without --shape, runs every size.

Families: torchvision resnet18/resnet50, mobilenet_v2, vgg11, squeezenet1_0,
densenet121, shufflenet_v2_x0_5, googlenet; the ONNX export tutorial's
super-resolution net (PixelShuffle); torchvision's deeplabv3_mobilenet_v3
segmenter; a YOLO-style detector and a
U-Net (ConvTranspose and bilinear-Resize variants) defined here; a BERT-style
encoder classifier (opset 14: LayerNorm decomposed; opset 17:
LayerNormalization); a GPT-2-style decoder, plain and with past keys/values
(gpt2_decoder_past); LSTM, GRU and RNN models
(2 layers, bidirectional, batch_first both ways).

By default every family comes in a SMALL variant (few channels or blocks,
small images, batch 1) that CI generates and tests in well under a minute.
--full exports the tutorial-sized variants instead (resnet50 at 224x224,
BERT-base 768 hidden x 12 layers x 12 heads at sequence 128, ...): large
files, minutes to export; not for CI.

    /usr/bin/python3 scripts/gen_tutorial_models.py [--full] [--out DIR] [--only NAME,...]
    /usr/bin/python3 scripts/gen_tutorial_models.py --errors build/dlc [--out DIR] [--only ...]

--errors compiles each generated case once without --shape (`dlc compile`;
per data set through `dlc run model.onnx` when that fails), runs every data
set and prints the worst absolute difference and the worst difference
relative to the largest reference magnitude of each output, over all data
sets (a summary for reports; `dlc test` is the pass/fail check).

Exit status: 0 when every model was written (or checked), 1 otherwise,
2 when torch/torchvision cannot be imported (callers may treat that as
"skip").
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORT_RUN = os.path.join(ROOT, "tests", "ort", "ort_run.js")

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
    from torchvision.models import resnet as tv_resnet
    from torchvision.models import vgg as tv_vgg
except ImportError as e:  # reported by main(): CI skips the step
    IMPORT_ERROR = e
else:
    IMPORT_ERROR = None


# ---- models defined here ---------------------------------------------------------

if IMPORT_ERROR is None:

    class ConvBnSiLU(nn.Module):
        def __init__(self, cin, cout, k=3, s=1):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, k, s, k // 2, bias=False)
            self.bn = nn.BatchNorm2d(cout)
            self.act = nn.SiLU()

        def forward(self, x):
            return self.act(self.bn(self.conv(x)))

    class CSPBlock(nn.Module):
        """Split into two 1x1 branches, a residual bottleneck on one, Concat."""

        def __init__(self, c):
            super().__init__()
            h = c // 2
            self.a = ConvBnSiLU(c, h, 1)
            self.b = ConvBnSiLU(c, h, 1)
            self.m = nn.Sequential(ConvBnSiLU(h, h, 1), ConvBnSiLU(h, h, 3))
            self.out = ConvBnSiLU(2 * h, c, 1)

        def forward(self, x):
            a = self.a(x)
            return self.out(torch.cat([a + self.m(a), self.b(x)], 1))

    class SPPF(nn.Module):
        """YOLOv5's spatial pyramid pooling: three chained 5x5 max-pools, Concat."""

        def __init__(self, c):
            super().__init__()
            self.cv1 = ConvBnSiLU(c, c // 2, 1)
            self.cv2 = ConvBnSiLU(c * 2, c, 1)
            self.pool = nn.MaxPool2d(5, 1, 2)

        def forward(self, x):
            x = self.cv1(x)
            y1 = self.pool(x)
            y2 = self.pool(y1)
            return self.cv2(torch.cat([x, y1, y2, self.pool(y2)], 1))

    class YoloDetector(nn.Module):
        """A YOLOv5-style detector: strided backbone, SPPF, FPN neck with nearest
        upsampling, and a head that decodes boxes on the grid (Sigmoid, grid
        offsets, anchor scales) into [batch, boxes, 5 + classes]."""

        def __init__(self, w=16, classes=4, anchors=3):
            super().__init__()
            self.classes, self.na = classes, anchors
            self.stem = ConvBnSiLU(3, w, 3, 2)
            self.s2 = nn.Sequential(ConvBnSiLU(w, 2 * w, 3, 2), CSPBlock(2 * w))
            self.s3 = nn.Sequential(ConvBnSiLU(2 * w, 4 * w, 3, 2), CSPBlock(4 * w))  # stride 8
            self.s4 = nn.Sequential(ConvBnSiLU(4 * w, 8 * w, 3, 2), CSPBlock(8 * w), SPPF(8 * w))  # stride 16
            self.lat = ConvBnSiLU(8 * w, 4 * w, 1)
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.fuse = CSPBlock(8 * w)
            self.down = ConvBnSiLU(8 * w, 8 * w, 3, 2)
            no = anchors * (5 + classes)
            self.head = nn.ModuleList([nn.Conv2d(8 * w, no, 1), nn.Conv2d(16 * w, no, 1)])
            self.strides = (8, 16)
            g = torch.Generator().manual_seed(1)
            self.register_buffer("anchor_wh", torch.rand(2, anchors, 2, generator=g) * 40 + 8)

        def decode(self, p, i):
            b, _, h, w = p.shape
            p = p.view(b, self.na, 5 + self.classes, h, w).permute(0, 1, 3, 4, 2).sigmoid()
            ys = torch.arange(h, dtype=torch.float32)
            xs = torch.arange(w, dtype=torch.float32)
            gy = ys.view(1, 1, h, 1, 1).expand(1, 1, h, w, 1)
            gx = xs.view(1, 1, 1, w, 1).expand(1, 1, h, w, 1)
            grid = torch.cat([gx, gy], -1)
            xy = (p[..., 0:2] * 2 - 0.5 + grid) * self.strides[i]
            wh = (p[..., 2:4] * 2) ** 2 * self.anchor_wh[i].view(1, self.na, 1, 1, 2)
            return torch.cat([xy, wh, p[..., 4:]], -1).reshape(b, -1, 5 + self.classes)

        def forward(self, x):
            x = self.s2(self.stem(x))
            p3 = self.s3(x)
            p4 = self.s4(p3)
            l4 = self.lat(p4)
            f3 = self.fuse(torch.cat([self.up(l4), p3], 1))
            f4 = torch.cat([self.down(f3), p4], 1)
            return torch.cat([self.decode(self.head[0](f3), 0), self.decode(self.head[1](f4), 1)], 1)

    def conv_bn_relu(cin, cout):
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    class UNet(nn.Module):
        """The classic U-Net (as in milesial/Pytorch-UNet): double Conv-BN-ReLU
        blocks, MaxPool downs, ConvTranspose or bilinear-Resize ups, Pad to the
        skip's size, skip Concat, 1x1 output conv."""

        def __init__(self, w=8, depth=3, classes=2, bilinear=False):
            super().__init__()
            self.bilinear = bilinear
            chans = [w * 2**i for i in range(depth + 1)]
            self.inc = conv_bn_relu(3, chans[0])
            self.downs = nn.ModuleList(conv_bn_relu(chans[i], chans[i + 1]) for i in range(depth))
            self.ups, self.up_convs = nn.ModuleList(), nn.ModuleList()
            for i in reversed(range(depth)):
                if bilinear:
                    self.ups.append(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
                    self.up_convs.append(conv_bn_relu(chans[i + 1] + chans[i], chans[i]))
                else:
                    self.ups.append(nn.ConvTranspose2d(chans[i + 1], chans[i], 2, stride=2))
                    self.up_convs.append(conv_bn_relu(2 * chans[i], chans[i]))
            self.outc = nn.Conv2d(chans[0], classes, 1)

        def forward(self, x):
            skips = [self.inc(x)]
            for down in self.downs:
                skips.append(down(F.max_pool2d(skips[-1], 2)))
            x = skips.pop()
            for up, conv in zip(self.ups, self.up_convs):
                skip = skips.pop()
                x = up(x)
                # odd sizes lose a row to the pool: pad back to the skip's size
                dy, dx = skip.shape[2] - x.shape[2], skip.shape[3] - x.shape[3]
                x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
                x = conv(torch.cat([skip, x], 1))
            return self.outc(x)

    class EncoderLayer(nn.Module):
        """A post-LayerNorm BERT layer, written as the HuggingFace one is (so it
        exports the same graph: 4-D batched MatMuls, additive mask, Softmax)."""

        def __init__(self, hidden, heads, ff):
            super().__init__()
            self.h, self.d = heads, hidden // heads
            self.q, self.k, self.v = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
            self.o = nn.Linear(hidden, hidden)
            self.ln1, self.ln2 = nn.LayerNorm(hidden, eps=1e-12), nn.LayerNorm(hidden, eps=1e-12)
            self.ff1, self.ff2 = nn.Linear(hidden, ff), nn.Linear(ff, hidden)
            self.gelu = nn.GELU()  # the erf form

        def split(self, x):
            b, s, _ = x.shape
            return x.view(b, s, self.h, self.d).permute(0, 2, 1, 3)

        def forward(self, x, mask_add):
            b, s, hid = x.shape
            q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
            scores = torch.matmul(q, k.transpose(-1, -2)) / (self.d ** 0.5) + mask_add
            ctx = torch.matmul(torch.softmax(scores, -1), v).permute(0, 2, 1, 3).reshape(b, s, hid)
            x = self.ln1(x + self.o(ctx))
            return self.ln2(x + self.ff2(self.gelu(self.ff1(x))))

    class BertClassifier(nn.Module):
        def __init__(self, vocab, hidden, layers, heads, max_pos, classes=2):
            super().__init__()
            self.word = nn.Embedding(vocab, hidden)
            self.pos = nn.Embedding(max_pos, hidden)
            self.token_type = nn.Embedding(2, hidden)
            self.ln = nn.LayerNorm(hidden, eps=1e-12)
            self.layers = nn.ModuleList(EncoderLayer(hidden, heads, 4 * hidden) for _ in range(layers))
            self.pool = nn.Linear(hidden, hidden)
            self.cls = nn.Linear(hidden, classes)

        def forward(self, input_ids, attention_mask):
            s = input_ids.shape[1]
            pos = torch.arange(s, dtype=torch.long).unsqueeze(0)
            x = self.ln(self.word(input_ids) + self.pos(pos) + self.token_type(torch.zeros_like(input_ids)))
            mask_add = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
            for layer in self.layers:
                x = layer(x, mask_add)
            return self.cls(torch.tanh(self.pool(x[:, 0])))

    class GPT2Block(nn.Module):
        def __init__(self, hidden, heads, max_pos):
            super().__init__()
            self.h, self.d = heads, hidden // heads
            self.ln1, self.ln2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
            self.qkv = nn.Linear(hidden, 3 * hidden)
            self.proj = nn.Linear(hidden, hidden)
            self.fc, self.fc_out = nn.Linear(hidden, 4 * hidden), nn.Linear(4 * hidden, hidden)
            self.register_buffer("causal", torch.tril(torch.ones(max_pos, max_pos, dtype=torch.bool))
                                 .view(1, 1, max_pos, max_pos))

        def forward(self, x):
            b, s, hid = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(hid, dim=2)
            q, k, v = (t.view(b, s, self.h, self.d).transpose(1, 2) for t in (q, k, v))
            att = torch.matmul(q, k.transpose(-1, -2)) / (self.d ** 0.5)
            att = att.masked_fill(~self.causal[:, :, :s, :s], torch.finfo(att.dtype).min)
            y = torch.matmul(torch.softmax(att, -1), v).transpose(1, 2).reshape(b, s, hid)
            x = x + self.proj(y)
            return x + self.fc_out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    class GPT2(nn.Module):
        def __init__(self, vocab, hidden, layers, heads, max_pos):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, hidden), nn.Embedding(max_pos, hidden)
            self.blocks = nn.ModuleList(GPT2Block(hidden, heads, max_pos) for _ in range(layers))
            self.ln_f = nn.LayerNorm(hidden)
            self.lm_head = nn.Linear(hidden, vocab, bias=False)
            self.lm_head.weight = self.wte.weight  # tied, as in GPT-2

        def forward(self, input_ids):
            s = input_ids.shape[1]
            x = self.wte(input_ids) + self.wpe(torch.arange(s, dtype=torch.long).unsqueeze(0))
            for blk in self.blocks:
                x = blk(x)
            return self.lm_head(self.ln_f(x))

    class GPT2WithPast(nn.Module):
        """The same decoder (sharing gpt2's modules, so the same weights) with
        past keys and values, taking what HuggingFace's exported GPT-2 takes:
        input_ids [B, T_new], attention_mask [B, T_past + T_new] (1: attend,
        0: a padding slot), position_ids [B, T_new],
        past_key_i/past_value_i [B, heads, T_past, head_dim]
        -> logits [B, T_new, vocab], present_key_i/present_value_i
        [B, heads, T_past + T_new, head_dim]. The causal mask is the
        [T_past, T_past + T_new) rows of the full one, so cached slots are in
        time order; the attention mask lets a caller keep a fixed-size cache
        whose unused slots are masked (left padding), as static shapes need."""

        def __init__(self, gpt2):
            super().__init__()
            self.gpt2 = gpt2

        def forward(self, input_ids, attention_mask, position_ids, *past):
            g = self.gpt2
            s = input_ids.shape[1]
            x = g.wte(input_ids) + g.wpe(position_ids)
            keep = attention_mask[:, None, None, :].to(torch.bool)
            presents = []
            for i, blk in enumerate(g.blocks):
                b, _, hid = x.shape
                q, k, v = blk.qkv(blk.ln1(x)).split(hid, dim=2)
                q, k, v = (z.view(b, s, blk.h, blk.d).transpose(1, 2) for z in (q, k, v))
                k = torch.cat([past[2 * i], k], 2)
                v = torch.cat([past[2 * i + 1], v], 2)
                presents += [k, v]
                t = k.shape[2]
                att = torch.matmul(q, k.transpose(-1, -2)) / (blk.d ** 0.5)
                att = att.masked_fill(~(blk.causal[:, :, t - s:t, :t] & keep), torch.finfo(att.dtype).min)
                y = torch.matmul(torch.softmax(att, -1), v).transpose(1, 2).reshape(b, s, hid)
                x = x + blk.proj(y)
                x = x + blk.fc_out(F.gelu(blk.fc(blk.ln2(x)), approximate="tanh"))
            return (g.lm_head(g.ln_f(x)), *presents)

    class SuperResolutionNet(nn.Module):
        """The model of PyTorch's "export a model to ONNX" tutorial: four convs
        and a PixelShuffle (DepthToSpace) that upscales the luminance channel."""

        def __init__(self, upscale=3):
            super().__init__()
            self.relu = nn.ReLU()
            self.conv1 = nn.Conv2d(1, 64, 5, 1, 2)
            self.conv2 = nn.Conv2d(64, 64, 3, 1, 1)
            self.conv3 = nn.Conv2d(64, 32, 3, 1, 1)
            self.conv4 = nn.Conv2d(32, upscale ** 2, 3, 1, 1)
            self.pixel_shuffle = nn.PixelShuffle(upscale)
            for conv in (self.conv1, self.conv2, self.conv3):
                nn.init.orthogonal_(conv.weight, nn.init.calculate_gain("relu"))
            nn.init.orthogonal_(self.conv4.weight)

        def forward(self, x):
            x = self.relu(self.conv2(self.relu(self.conv1(x))))
            return self.pixel_shuffle(self.conv4(self.relu(self.conv3(x))))

    class Segmenter(nn.Module):
        """torchvision's segmentation models return a dict; export its 'out'."""

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x)["out"]

    class Recurrent(nn.Module):
        """nn.LSTM/GRU/RNN (2 layers, bidirectional) with a linear head on every step."""

        def __init__(self, kind, features, hidden, batch_first, classes=5):
            super().__init__()
            cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
            self.rnn = cls(features, hidden, num_layers=2, bidirectional=True, batch_first=batch_first)
            self.head = nn.Linear(2 * hidden, classes)

        def forward(self, x):
            y, _ = self.rnn(x)
            return self.head(y)


# ---- the model list ------------------------------------------------------------------

def image(n, size):
    return {"input": torch.rand(n, 3, size, size) * 2 - 1}


def tokens(n, s, vocab, mask=True):
    ids = torch.randint(0, vocab, (n, s), dtype=torch.long)
    if not mask:
        return {"input_ids": ids}
    m = torch.ones(n, s, dtype=torch.long)
    for row in range(n):  # padded tails of different lengths, as a tokenizer batch has
        m[row, s - (row + 1) * s // (2 * n):] = 0
    return {"input_ids": ids, "attention_mask": m}


BATCH = {0: "batch"}
TOKENS = {0: "batch", 1: "sequence"}


# Data sets per model: the first is the export's own example (the sizes the
# errors are reported at); the others change every dynamic axis, so `dlc test`
# shows one artifact running all of them.
BATCHES = ((1, 2, 3), (1, 2))  # (small, full)


def batched(make):
    """inputs(full, i) and num_sets(full) for a model whose only dynamic axis is
    the batch; make(full, batch) gives the feeds."""
    return dict(inputs=lambda f, i: make(f, BATCHES[1 if f else 0][i]),
                num_sets=lambda f: len(BATCHES[1 if f else 0]), dynamic={"input": BATCH, "output": BATCH})


def vision(name, opset, small, full, size_small, size_full):
    """A torchvision classifier; dynamic batch, as the torchvision export tutorial does."""
    return dict(name=name, opset=opset, build=lambda f: (full if f else small)(),
                **batched(lambda f, n: image(n, size_full if f else size_small)))


def small_vgg11():
    # torchvision's VGG with cfg "A" at 1/8 width; the classifier keeps its
    # Linear-ReLU-Dropout x2 shape at a matching width
    cfg = [8, "M", 16, "M", 32, 32, "M", 64, 64, "M", 64, 64, "M"]
    m = tv_vgg.VGG(tv_vgg.make_layers(cfg), num_classes=10)
    m.classifier = nn.Sequential(nn.Linear(64 * 7 * 7, 128), nn.ReLU(True), nn.Dropout(),
                                 nn.Linear(128, 128), nn.ReLU(True), nn.Dropout(), nn.Linear(128, 10))
    return m


def recurrent(kind, batch_first, opset):
    name = f"{kind}_{'batch_first' if batch_first else 'seq_first'}"

    sizes = (((4, 64), (2, 37)), ((1, 7), (2, 5), (3, 10)))  # (batch, sequence): full, small

    def inputs(f, i):
        (n, s), feat = sizes[0 if f else 1][i], 64 if f else 8
        shape = (n, s, feat) if batch_first else (s, n, feat)
        return {"input": torch.rand(*shape) * 2 - 1}

    axes = {0: "batch", 1: "sequence"} if batch_first else {0: "sequence", 1: "batch"}
    return dict(name=name, opset=opset,
                build=lambda f: Recurrent(kind, 64 if f else 8, 256 if f else 16, batch_first),
                inputs=inputs, num_sets=lambda f: len(sizes[0 if f else 1]),
                dynamic={"input": axes, "output": axes})


def gpt2_config(full):
    """(vocab, hidden, layers, heads, max_positions): GPT-2 small with --full."""
    return (50257, 768, 12, 12, 1024) if full else (97, 32, 2, 4, 64)


def gpt2_past_names(full):
    layers = gpt2_config(full)[2]
    return [f"{kind}_{i}" for i in range(layers) for kind in ("key", "value")]


def gpt2_past_inputs(full, t_new, t_past, padding=0):
    """Feeds for GPT2WithPast: t_past cached slots of which the first `padding`
    are unused (masked), then t_new tokens at positions t_past - padding on."""
    vocab, hidden, _, heads, _ = gpt2_config(full)
    mask = torch.ones(1, t_past + t_new, dtype=torch.long)
    mask[:, :padding] = 0
    start = t_past - padding
    feeds = {"input_ids": torch.randint(0, vocab, (1, t_new), dtype=torch.long), "attention_mask": mask,
             "position_ids": torch.arange(start, start + t_new, dtype=torch.long).unsqueeze(0)}
    for name in gpt2_past_names(full):
        feeds["past_" + name] = torch.randn(1, heads, t_past, hidden // heads)
    return feeds


def gpt2_past_outputs(full):
    return ["logits"] + ["present_" + n for n in gpt2_past_names(full)]


def gpt2_past_axes(full):
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"},
            "attention_mask": {0: "batch", 1: "total_sequence"}, "position_ids": {0: "batch", 1: "sequence"}}
    for n in gpt2_past_names(full):
        axes["past_" + n] = {0: "batch", 2: "past_sequence"}
        axes["present_" + n] = {0: "batch", 2: "total_sequence"}
    return axes


# (new tokens, cached slots, unused cached slots) of gpt2_decoder_past's data sets
PAST_SIZES = ((3, 5, 2), (1, 6, 3), (2, 3, 0))
# (batch, sequence) of each data set of the token models: (small, full)
BERT_SIZES = (((2, 16), (1, 7), (3, 11)), ((1, 128), (2, 45)))
GPT2_SIZES = (((2, 12), (1, 5), (3, 9)), ((1, 128), (2, 45)))


def bert(name, opset):
    # full: BERT-base (vocab 30522, 768 hidden, 12 layers, 12 heads) at sequence 128
    return dict(name=name, opset=opset,
                build=lambda f: BertClassifier(30522, 768, 12, 12, 512) if f else BertClassifier(100, 32, 2, 2, 64),
                inputs=lambda f, i: tokens(*BERT_SIZES[1 if f else 0][i], 30522 if f else 100),
                num_sets=lambda f: len(BERT_SIZES[1 if f else 0]),
                dynamic={"input_ids": TOKENS, "attention_mask": TOKENS, "output": BATCH})


MODELS = [] if IMPORT_ERROR else [
    vision("resnet18", 11, lambda: tv_resnet.ResNet(tv_resnet.BasicBlock, [1, 1, 1, 1], num_classes=10),
           lambda: torchvision.models.resnet18(), 32, 224),
    vision("resnet50", 13, lambda: tv_resnet.ResNet(tv_resnet.Bottleneck, [1, 1, 1, 1], num_classes=10),
           lambda: torchvision.models.resnet50(), 32, 224),
    vision("mobilenet_v2", 12, lambda: torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10),
           lambda: torchvision.models.mobilenet_v2(), 32, 224),
    # VGG's AdaptiveAvgPool2d(7) exports as AveragePool only when 7 divides the map: 224 both ways
    vision("vgg11", 14, small_vgg11, lambda: torchvision.models.vgg11(), 224, 224),
    vision("squeezenet1_0", 15, lambda: torchvision.models.squeezenet1_0(num_classes=10),
           lambda: torchvision.models.squeezenet1_0(), 64, 224),
    vision("densenet121", 16,
           lambda: torchvision.models.DenseNet(8, (2, 2, 2, 2), 16, bn_size=2, num_classes=10),
           lambda: torchvision.models.densenet121(), 32, 224),
    vision("shufflenet_v2_x0_5", 17,
           lambda: torchvision.models.ShuffleNetV2([1, 1, 1], [8, 16, 32, 64, 128], num_classes=10),
           lambda: torchvision.models.shufflenet_v2_x0_5(), 64, 224),
    vision("googlenet", 13,
           lambda: torchvision.models.GoogLeNet(num_classes=10, aux_logits=False, init_weights=True),
           lambda: torchvision.models.GoogLeNet(aux_logits=False, init_weights=True), 64, 224),
    dict(name="super_resolution", opset=11, build=lambda f: SuperResolutionNet(),
         **batched(lambda f, n: {"input": torch.rand(n, 1, 224 if f else 24, 224 if f else 24)})),
    # torchvision's segmentation tutorial model: Hardswish/Hardsigmoid, ASPP with
    # a global pool branch, bilinear resize back to the input's size
    dict(name="deeplabv3_mobilenet_v3", opset=14,
         build=lambda f: Segmenter(torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(
             weights=None, weights_backbone=None, num_classes=21 if f else 4, aux_loss=False)),
         **batched(lambda f, n: image(n, 520 if f else 64))),
    dict(name="yolo_detector", opset=13, build=lambda f: YoloDetector(w=32 if f else 8, classes=80 if f else 4),
         **batched(lambda f, n: image(n, 640 if f else 64))),
    dict(name="unet_convtranspose", opset=12, build=lambda f: UNet(w=64 if f else 8, depth=4 if f else 3),
         **batched(lambda f, n: image(n, 256 if f else 36))),
    dict(name="unet_bilinear", opset=11,
         build=lambda f: UNet(w=64 if f else 8, depth=4 if f else 3, bilinear=True),
         **batched(lambda f, n: image(n, 256 if f else 36))),
    bert("bert_encoder", 14),
    bert("bert_encoder_opset17", 17),
    dict(name="gpt2_decoder", opset=15, build=lambda f: GPT2(*gpt2_config(f)),
         inputs=lambda f, i: tokens(*GPT2_SIZES[1 if f else 0][i], 50257 if f else 97, mask=False),
         num_sets=lambda f: len(GPT2_SIZES[1 if f else 0]),
         dynamic={"input_ids": TOKENS, "output": TOKENS}),
    # the decoder with past keys/values (HuggingFace's export with use_cache):
    # first 3 new tokens after 5 cached slots, the first 2 unused (masked), so
    # the causal mask's offset rows and the attention mask are both checked
    dict(name="gpt2_decoder_past", opset=15, build=lambda f: GPT2WithPast(GPT2(*gpt2_config(f))),
         inputs=lambda f, i: gpt2_past_inputs(f, *PAST_SIZES[i]), num_sets=lambda f: len(PAST_SIZES),
         dynamic=gpt2_past_axes,
         outputs=gpt2_past_outputs),
    recurrent("lstm", True, 14),
    recurrent("lstm", False, 11),
    recurrent("gru", True, 12),
    recurrent("gru", False, 16),
    recurrent("rnn", True, 15),
    recurrent("rnn", False, 13),
]


# ---- export ------------------------------------------------------------------------

def randomize_norms(model):
    """Fresh BatchNorm/LayerNorm layers are identities (mean 0, var 1, scale 1,
    shift 0); a trained model's are not, and folding them must be exercised."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)) and m.weight is not None:
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 1.5)


def write_inputs(feeds, folder):
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, (name, value) in enumerate(feeds.items()):
        paths.append(os.path.join(folder, f"input_{i}.pb"))
        with open(paths[-1], "wb") as f:
            f.write(numpy_helper.from_array(value.numpy(), name).SerializeToString())
    return paths


def ort_outputs(onnx_path, inputs, folder):
    """ONNX Runtime's outputs for one data set, written next to its inputs."""
    args = ["node", ORT_RUN, onnx_path, "-o", folder]
    for pb in inputs:
        args += ["-i", pb]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("ONNX Runtime: " + (r.stderr or r.stdout).strip())


def export_case(spec, full, out_dir, tmp):
    """Exports at data set 0's sizes (dynamic axes symbolic), then writes every
    data set's inputs and ONNX Runtime's outputs."""
    torch.manual_seed(0)
    model = spec["build"](full).eval()
    randomize_norms(model)
    torch.manual_seed(1)
    sets = [spec["inputs"](full, i) for i in range(spec["num_sets"](full))]
    # names that depend on the size (one per layer) are given as functions of it
    per_size = lambda v: v(full) if callable(v) else v  # noqa: E731
    onnx_path = os.path.join(tmp, spec["name"] + ".onnx")
    with torch.no_grad():
        torch.onnx.export(model, tuple(sets[0].values()), onnx_path, opset_version=spec["opset"],
                          input_names=list(sets[0]), output_names=per_size(spec.get("outputs", ["output"])),
                          dynamic_axes=per_size(spec["dynamic"]), do_constant_folding=True)
    case = os.path.join(out_dir, spec["name"])
    shutil.rmtree(case, ignore_errors=True)
    os.makedirs(case)
    shutil.copyfile(onnx_path, os.path.join(case, "model.onnx"))
    for i, feeds in enumerate(sets):
        folder = os.path.join(case, f"test_data_set_{i}")
        ort_outputs(onnx_path, write_inputs(feeds, folder), folder)


def load_outputs(folder):
    outs, i = [], 0
    while os.path.exists(os.path.join(folder, f"output_{i}.pb")):
        t = onnx.TensorProto()
        with open(os.path.join(folder, f"output_{i}.pb"), "rb") as f:
            t.ParseFromString(f.read())
        outs.append(numpy_helper.to_array(t))
        i += 1
    return outs


def run_dlc(args):
    r = subprocess.run(args, capture_output=True, text=True)
    return r.returncode == 0, (r.stderr or r.stdout).strip().splitlines()[-1:]


def check_errors(dlc, case, tmp):
    """Worst |dlc - ORT| per model over its data sets, absolute and relative to
    max |ORT|; and how it was compiled."""
    name = os.path.basename(case)
    artifact = os.path.join(tmp, name + ".so")
    compiled, why = run_dlc([dlc, "compile", os.path.join(case, "model.onnx"), "-o", artifact, "-q"])
    how = "one artifact" if compiled else f"per data set ({' '.join(why)})"
    worst_abs = worst_rel = 0.0
    sets = sorted(d for d in os.listdir(case) if d.startswith("test_data_set_"))
    for s in sets:
        data = os.path.join(case, s)
        got_dir = os.path.join(tmp, name, s)
        os.makedirs(got_dir, exist_ok=True)
        args = [dlc, "run", artifact if compiled else os.path.join(case, "model.onnx"), "-o", got_dir]
        for f in sorted(f for f in os.listdir(data) if f.startswith("input_")):
            args += ["-i", os.path.join(data, f)]
        ok, why = run_dlc(args)
        if not ok:
            return None, [s + ":"] + why, how
        for want, got in zip(load_outputs(data), load_outputs(got_dir)):
            diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
            scale = max(float(np.abs(want).max()), 1e-30)
            worst_abs = max(worst_abs, float(diff.max()))
            worst_rel = max(worst_rel, float(diff.max()) / scale)
    return (worst_abs, worst_rel, len(sets)), None, how


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="tutorial-sized variants (large, slow)")
    ap.add_argument("--out", default=None, help="output folder (default tests/generated/tutorial[_full])")
    ap.add_argument("--only", default="", help="comma-separated model names")
    ap.add_argument("--errors", metavar="DLC", help="report dlc's worst errors on generated cases")
    ap.add_argument("--list", action="store_true", help="print the model names")
    a = ap.parse_args()
    if IMPORT_ERROR is not None:
        print(f"gen_tutorial_models.py: cannot import torch/torchvision ({IMPORT_ERROR}); "
              "apt-get install python3-torch python3-torchvision", file=sys.stderr)
        return 2
    out = a.out or os.path.join(ROOT, "tests", "generated", "tutorial_full" if a.full else "tutorial")
    only = set(filter(None, a.only.split(",")))
    unknown = only - {m["name"] for m in MODELS}
    if unknown:
        print(f"gen_tutorial_models.py: unknown models: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 1
    specs = [m for m in MODELS if not only or m["name"] in only]
    if a.list:
        print("\n".join(f"{m['name']} (opset {m['opset']})" for m in specs))
        return 0
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    warnings.filterwarnings("ignore")  # the exporter's tracer warnings are expected here
    if not only and not a.errors:
        shutil.rmtree(out, ignore_errors=True)  # no case of a model since renamed survives
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            start = time.time()
            if a.errors:
                errs, why, how = check_errors(a.errors, os.path.join(out, spec["name"]), tmp)
                if errs is None:
                    failures += 1
                    print(f"{spec['name']:24s} FAILED ({how}): {' '.join(why)}")
                else:
                    print(f"{spec['name']:24s} worst abs {errs[0]:.3g}  worst rel {errs[1]:.3g}  "
                          f"({errs[2]} data sets, {how}, {time.time() - start:.1f} s)")
                sys.stdout.flush()
                continue
            try:
                os.makedirs(out, exist_ok=True)
                export_case(spec, a.full, out, tmp)
                print(f"{spec['name']:24s} opset {spec['opset']}  {time.time() - start:5.1f} s")
            except Exception as e:  # one model's failure must not hide the others
                failures += 1
                print(f"{spec['name']:24s} FAILED: {type(e).__name__}: {str(e).strip().splitlines()[0]}")
            sys.stdout.flush()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
