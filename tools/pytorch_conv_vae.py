#!/usr/bin/env python3
"""The convolutional VAE in PyTorch, beside ours: the same module, with the parameter names
and shapes of our checkpoints (`encoder.conv.{i}`, `encoder.hidden.{j}`, `encoder.mu`,
`encoder.logvar`, `decoder.hidden.{j}`, `decoder.project`, `decoder.deconv.{i}`), for the
side-by-side figures of the README and BENCHMARKS.md and the round trip of weights.

    python3 tools/pytorch_conv_vae.py train [--epochs 10] [--seed 1] [--threads 2]
        grey pixels, the PyTorch example's setting: Adam 1e-3, batch 128; prints the test
        loss of every epoch and its seconds (the same figures as `vae train --arch conv`)
    python3 tools/pytorch_conv_vae.py bench [--batch 128] [--steps 60] [--warmup 10] [--threads 2]
        training steps (forward, backward, Adam) per second on the canonical model
    python3 tools/pytorch_conv_vae.py codes CHECKPOINT OUT.npy
        loads our checkpoint strictly into the module (its geometry from the metadata) and
        writes μ of the first 1000 test images, to compare with `vae encode`
    python3 tools/pytorch_conv_vae.py export OUT.safetensors [--seed 3]
        a weights file made here (the canonical model, freshly initialised) that
        `vae eval` and `vae encode` read

Optional: needs `pip install torch numpy safetensors`; the project never runs it.
"""
import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

MNIST = Path(__file__).resolve().parent.parent / "datasets" / "mnist"
ACT = {"relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
       "softplus": F.softplus, "leaky_relu": lambda t: F.leaky_relu(t, 0.01)}


def idx_images(name):
    """An IDX image file of the bundled MNIST as float32 [N, 1, 28, 28] in [0, 1]."""
    raw = gzip.open(MNIST / name).read()
    n, h, w = (int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    pixels = np.frombuffer(raw, np.uint8, offset=16).reshape(n, 1, h, w)
    return torch.from_numpy(pixels.astype(np.float32) / 255.0)


class ConvVAE(nn.Module):
    """Conv layers, dense layers, the heads; dense layers, a projection, transposed convs."""

    def __init__(self, image=(1, 28, 28), channels=(32, 64), kernel=4, stride=2, padding=1,
                 hidden=(), latent=20, activation="relu"):
        super().__init__()
        c, h, w = image
        self.act, self.image = ACT[activation], image
        sizes = [(h, w)]
        conv_out = lambda n: (n + 2 * padding - kernel) // stride + 1
        self.encoder, self.decoder = nn.Module(), nn.Module()
        convs, c_in = [], c
        for c_out in channels:
            convs.append(nn.Conv2d(c_in, c_out, kernel, stride, padding))
            sizes.append((conv_out(sizes[-1][0]), conv_out(sizes[-1][1])))
            c_in = c_out
        self.encoder.conv = nn.ModuleList(convs)
        self.last = (channels[-1], *sizes[-1])
        flat = int(np.prod(self.last))
        dims = [flat, *hidden]
        self.encoder.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:]))
        self.encoder.mu = nn.Linear(dims[-1], latent)
        self.encoder.logvar = nn.Linear(dims[-1], latent)
        ddims = [latent, *reversed(hidden)]
        self.decoder.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(ddims, ddims[1:]))
        self.decoder.project = nn.Linear(ddims[-1], flat)
        back = [*reversed(channels), c]
        deconvs = []
        for i in range(len(channels)):
            (hi, wi), (ht, wt) = sizes[len(channels) - i], sizes[len(channels) - i - 1]
            base = lambda n: (n - 1) * stride - 2 * padding + kernel
            pad = (ht - base(hi), wt - base(wi))  # restores the matching conv's input size
            deconvs.append(nn.ConvTranspose2d(back[i], back[i + 1], kernel, stride, padding,
                                              output_padding=pad))
        self.decoder.deconv = nn.ModuleList(deconvs)

    def encode(self, x):
        h = x
        for conv in self.encoder.conv:
            h = self.act(conv(h))
        h = torch.flatten(h, 1)
        for layer in self.encoder.hidden:
            h = self.act(layer(h))
        return self.encoder.mu(h), self.encoder.logvar(h)

    def decode(self, z):
        h = z
        for layer in self.decoder.hidden:
            h = self.act(layer(h))
        h = self.act(self.decoder.project(h)).reshape(-1, *self.last)
        for i, deconv in enumerate(self.decoder.deconv):
            h = deconv(h)
            if i + 1 < len(self.decoder.deconv):
                h = self.act(h)
        return h

    def loss(self, x, generator=None):
        """The negative ELBO, nats per image (batch mean): BCE summed over pixels + KL."""
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator)
        logits = self.decode(mu + torch.exp(0.5 * logvar) * eps)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (recon + kl) / x.shape[0]


def from_metadata(meta):
    """The module a checkpoint's metadata describes (our keys; see checkpoint.rs)."""
    c, h, w = (int(d) for d in meta["image"].split("x"))
    return ConvVAE((c, h, w), json.loads(meta["channels"]), int(meta["kernel"]),
                   int(meta["stride"]), int(meta["padding"]), json.loads(meta["hidden"]),
                   int(meta["latent"]), meta["activation"])


def epoch(model, opt, train_x, test_x):
    """One training epoch over shuffled batches of 128, then the test loss; returns both."""
    start = time.perf_counter()
    model.train()
    for idx in torch.randperm(len(train_x)).split(128):
        opt.zero_grad()
        loss = model.loss(train_x[idx])
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        total = sum(model.loss(b).item() * len(b) for b in test_x.split(1000))
    return seconds, total / len(test_x)


def train(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train_x, test_x = idx_images("train-images-idx3-ubyte.gz"), idx_images("t10k-images-idx3-ubyte.gz")
    model = ConvVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for n in range(1, args.epochs + 1):
        seconds, test_loss = epoch(model, opt, train_x, test_x)
        print(json.dumps({"epoch": n, "test_loss": test_loss,
                          "train_seconds": seconds,
                          "samples_per_sec": len(train_x) / seconds}), flush=True)


def bench(args):
    torch.manual_seed(1)
    torch.set_num_threads(args.threads)
    model = ConvVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # Warm up as a training run does: one epoch over MNIST with its test pass. Timed from a
    # cold start, the same steps took 20-25 ms on a Zen 5, against 14-15 ms after the
    # epoch, which is the pace of PyTorch's own training loop: the early figure made it
    # look 1.5 times slower than it trains.
    train_x, test_x = idx_images("train-images-idx3-ubyte.gz"), idx_images("t10k-images-idx3-ubyte.gz")
    epoch(model, opt, train_x, test_x)
    x = train_x[:args.batch].clone()
    times = []
    for step in range(args.steps + args.warmup):
        start = time.perf_counter()
        opt.zero_grad()
        model.loss(x).backward()
        opt.step()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    median = float(np.median(times))
    print(json.dumps({"batch": args.batch, "threads": args.threads, "torch": torch.__version__,
                      "median_step_ms": median * 1e3, "samples_per_sec": args.batch / median}))


def codes(args):
    from safetensors import safe_open
    with safe_open(args.checkpoint, "pt") as f:
        meta = f.metadata()
        state = {k: f.get_tensor(k).float() for k in f.keys() if not k.startswith("optimizer.")}
    model = from_metadata(meta)
    model.load_state_dict(state, strict=True)
    with torch.no_grad():
        mu, _ = model.encode(idx_images("t10k-images-idx3-ubyte.gz")[:1000])
    np.save(args.out, mu.numpy())
    print(f"loaded {args.checkpoint} strictly ({sum(p.numel() for p in model.parameters())} "
          f"parameters); wrote μ of 1000 test images to {args.out}")


def export(args):
    from safetensors.torch import save_file
    torch.manual_seed(args.seed)
    model = ConvVAE()
    meta = {"arch": "conv", "image": "1x28x28", "channels": "[32,64]", "kernel": "4",
            "stride": "2", "padding": "1", "hidden": "[]", "latent": "20",
            "activation": "relu", "input_dim": "784", "beta": "1.0"}
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, args.out, metadata=meta)
    with torch.no_grad():
        mu, _ = model.encode(idx_images("t10k-images-idx3-ubyte.gz")[:1000])
    np.save(Path(args.out).with_suffix(".mu.npy"), mu.numpy())
    print(f"wrote {args.out} and μ of 1000 test images beside it")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--epochs", type=int, default=10)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--threads", type=int, default=2)
    b = sub.add_parser("bench")
    b.add_argument("--batch", type=int, default=128)
    b.add_argument("--steps", type=int, default=60)
    b.add_argument("--warmup", type=int, default=10)
    b.add_argument("--threads", type=int, default=2)
    c = sub.add_parser("codes")
    c.add_argument("checkpoint")
    c.add_argument("out")
    e = sub.add_parser("export")
    e.add_argument("out")
    e.add_argument("--seed", type=int, default=3)
    args = p.parse_args()
    {"train": train, "bench": bench, "codes": codes, "export": export}[args.command](args)


if __name__ == "__main__":
    main()
