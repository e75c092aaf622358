#!/usr/bin/env python3
"""PyTorch reference for `persephone bench` (docs/benchmarks.md, "Side by side with PyTorch").

The same five measurements as `persephone bench --json`, with the same shapes, batch sizes,
optimizer, repeat counts and medians, in PyTorch on the CPU:

  train_img_per_s        ResNet-20 (widths 16/32/64, projection shortcuts, 1x28x28, 10 classes),
                         one SGD step (momentum 0.9, weight decay 5e-4) at batch 128
  exit_train_img_per_s   a conv exit head (conv 3x3 16->32 + BN + ReLU, global pool, linear) on
                         the backbone frozen through the end of stage 1 (run without gradient
                         every step), batch 128
  infer_img_per_s_b256   inference (eval mode, no autograd) at batch 256
  latency_b1_ms          inference of one image
  personalise_seconds    one user's exit personalisation: 500 samples, conv heads at block2,
                         block4, block6 and block8 (width = the channels there), 20 epochs of
                         batch 32, SGD with a cosine schedule, loss 0.5 CE + 0.5 T^2 soft CE
                         (T = 3) against the final classifier; features and teacher logits
                         computed once in batches of 256, as Persephone's FeatureCache does

Two modes:
  bench_reference.py --measure            measure PyTorch once, print JSON (one process)
  bench_reference.py --persephone BIN     alternate `BIN bench --json` and a --measure child
                                          per PyTorch variant, --rounds times back to back, then
                                          print medians and ratios, with the load average
                                          beside each run

Variants: `default` is PyTorch as shipped; `passive` sets OMP_WAIT_POLICY=PASSIVE. With
other processes on the cores, OpenMP's spinning threads wait for each other at every
barrier and PyTorch's 2-thread figures collapse (measured here: a 16-channel conv + BN +
ReLU at batch 128, 4.2 ms on one thread, 34.7 ms on two, 4.7 ms on two with PASSIVE), so
both are shown. `--cpu-time` compares one thread each in thread CPU time instead.

Torch is never a dependency of Persephone: `make bench-reference` installs it into a virtual
environment outside the repository. Random weights and inputs: speed does not depend on them.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time


CLOCK = time.perf_counter


def median_seconds(fn, repeats, warm_up):
    for _ in range(warm_up):
        fn()
    times = []
    for _ in range(repeats):
        start = CLOCK()
        fn()
        times.append(CLOCK() - start)
    return statistics.median(times)


def measure(repeats, threads, personalise_runs, cpu_time):
    global CLOCK
    if cpu_time:
        # CPU time of this thread: with one thread, oneDNN and MKL run on it.
        CLOCK = time.thread_time
        threads = 1
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(20)

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            y = F.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return F.relu(y + (x if self.downsample is None else self.downsample(x)))

    def resnet20():
        layers = [nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
        width = 16
        for s, w in enumerate([16, 32, 64]):
            for i in range(3):
                layers.append(Block(width, w, 2 if s > 0 and i == 0 else 1))
                width = w
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
        return nn.Sequential(*layers)

    def head(cin, width):
        return nn.Sequential(nn.Conv2d(cin, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10))

    out = {"threads": torch.get_num_threads(), "torch": torch.__version__, "clock": "cpu" if cpu_time else "wall",
           "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
           "mkldnn": torch.backends.mkldnn.is_available(),
           "cpu_capability": torch.backends.cpu.get_cpu_capability(), "repeats": repeats}
    batch = 128
    net = resnet20()
    x = torch.rand(batch, 1, 28, 28)
    labels = torch.randint(0, 10, (batch,))
    sgd = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def train_step():
        sgd.zero_grad(set_to_none=False)
        loss = F.cross_entropy(net(x), labels)
        loss.backward()
        sgd.step()

    net.train()
    t = median_seconds(train_step, repeats, 2)
    out["train_img_per_s"] = batch / t

    net.eval()
    x256 = torch.rand(256, 1, 28, 28)
    x1 = torch.rand(1, 1, 28, 28)
    with torch.inference_mode():
        t = median_seconds(lambda: net(x256), repeats, 1)
        out["infer_img_per_s_b256"] = 256 / t
        t = median_seconds(lambda: net(x1), max(repeats, 25), 5)
        out["latency_b1_ms"] = t * 1000

    # Exit head on the backbone frozen through the end of stage 1 (children 0..5).
    prefix = net[:6]
    exit_head = head(16, 32)
    exit_head.train()
    head_sgd = torch.optim.SGD(exit_head.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def exit_step():
        head_sgd.zero_grad(set_to_none=False)
        with torch.no_grad():
            features = prefix(x)
        loss = F.cross_entropy(exit_head(features), labels)
        loss.backward()
        head_sgd.step()

    t = median_seconds(exit_step, repeats, 2)
    out["exit_train_img_per_s"] = batch / t

    # One user's personalisation of four conv exits.
    n, epochs, bs, temperature, kappa = 500, 20, 32, 3.0, 0.5
    images = torch.rand(n, 1, 28, 28)
    user_labels = torch.randint(0, 10, (n,))
    points = [3 + 2, 3 + 4, 3 + 6, 3 + 8]   # child index of block2, block4, block6, block8 (after conv1, bn1, relu)

    def personalise():
        heads = []
        with torch.no_grad():
            feats = [[] for _ in points]
            logits = []
            for start in range(0, n, 256):
                h = images[start:start + 256]
                for i, layer in enumerate(net):
                    h = layer(h)
                    if i in points:
                        feats[points.index(i)].append(h)
                logits.append(h)
            feats = [torch.cat(f) for f in feats]
            teacher = F.softmax(torch.cat(logits) / temperature, dim=1)
        for f in feats:
            heads.append(head(f.shape[1], f.shape[1]).train())
        params = [p for hd in heads for p in hd.parameters()]
        opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=5e-4)
        ranges = [(s, min(s + bs, n)) for s in range(0, n, bs) if min(s + bs, n) - s >= 2]
        steps, total = 0, epochs * len(ranges)
        generator = torch.Generator().manual_seed(1)
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator)
            for s, e in ranges:
                for group in opt.param_groups:
                    group["lr"] = 0.01 * (1 + math.cos(math.pi * steps / total)) / 2
                idx = order[s:e]
                y, q = user_labels[idx], teacher[idx]
                for f, hd in zip(feats, heads):
                    z = hd(f[idx])
                    hard = F.cross_entropy(z, y)
                    soft = -(q * F.log_softmax(z / temperature, dim=1)).sum(1).mean() * temperature ** 2
                    ((1 - kappa) * hard + kappa * soft).backward()
                opt.step()
                opt.zero_grad(set_to_none=False)
                steps += 1

    runs = []
    for _ in range(personalise_runs):
        start = CLOCK()
        personalise()
        runs.append(CLOCK() - start)
    out["personalise_seconds"] = statistics.median(runs)
    return out


# (key, label, higher is better)
FIGURES = [
    ("train_img_per_s", "training step b128, img/s", True),
    ("exit_train_img_per_s", "exit-head training b128, img/s", True),
    ("infer_img_per_s_b256", "inference b256, img/s", True),
    ("latency_b1_ms", "latency b1, ms", False),
    ("personalise_seconds", "personalisation, 4 exits, s", False),
]


def load():
    return "%.2f" % os.getloadavg()[0]


def compare(args):
    """Alternates our run and PyTorch's (one child per variant) back to back, --rounds times."""
    variants = args.variants.split(",")
    ours_runs, torch_runs = [], {v: [] for v in variants}
    ours_cmd = [args.persephone, "bench", "--json", "--repeats", str(args.repeats),
                "--personalise-runs", str(args.personalise_runs)] + (["--cpu-time"] if args.cpu_time else [])
    for r in range(args.rounds):
        la = load()
        ours = json.loads(subprocess.run(ours_cmd, check=True, capture_output=True, text=True).stdout)
        ours["load"] = la
        ours_runs.append(ours)
        line = "round %d: Persephone (load %s) %s" % (r + 1, la, figures(ours))
        for v in variants:
            env = dict(os.environ)
            if v == "passive":
                env["OMP_WAIT_POLICY"] = "PASSIVE"
            elif v != "default":
                sys.exit("unknown variant %r: use default or passive" % v)
            la = load()
            child = subprocess.run([sys.executable, "-W", "ignore", __file__, "--measure", "--repeats", str(args.repeats),
                                    "--threads", str(args.threads), "--personalise-runs", str(args.personalise_runs)]
                                   + (["--cpu-time"] if args.cpu_time else []),
                                   check=True, capture_output=True, text=True, env=env)
            theirs = json.loads(child.stdout)
            theirs["load"] = la
            torch_runs[v].append(theirs)
            line += " | PyTorch %s (load %s) %s" % (v, la, figures(theirs))
        print(line, flush=True)
    t = torch_runs[variants[0]][0]
    clock = "thread CPU time, one thread each" if args.cpu_time else "wall clock"
    print("\nPyTorch %s, %d thread(s), oneDNN %s, CPU capability %s; Persephone workers %d, OpenBLAS %s kernels; "
          "%s; medians of %d rounds" % (t["torch"], t["threads"], t["mkldnn"], t["cpu_capability"],
                                      ours_runs[0]["workers"], os.environ.get("OPENBLAS_CORETYPE", "auto"), clock,
                                      args.rounds))
    print("%-32s %11s" % ("figure", "Persephone") + "".join(" %16s %8s" % ("PyTorch " + v, "ratio") for v in variants))
    for key, label, higher in FIGURES:
        a = statistics.median(run[key] for run in ours_runs)
        row = "%-32s %11.4g" % (label, a)
        for v in variants:
            b = statistics.median(run[key] for run in torch_runs[v])
            row += " %16.4g %7.2fx" % (b, a / b)
        print(row)
    print("ratio = Persephone / PyTorch: above 1 is better for img/s, below 1 is better for ms and s")
    own = statistics.median(run["exit_train_img_per_s"] / run["train_img_per_s"] for run in ours_runs)
    print("exit-head training / Persephone's own training step: %.2fx" % own)
    flops = ours_runs[0]["personalise_flops"]
    print("personalisation, %.2f GFLOP (Persephone's count): Persephone %.1f GFLOP/s" % (
        flops / 1e9, flops / statistics.median(r["personalise_seconds"] for r in ours_runs) / 1e9)
        + "".join(", PyTorch %s %.1f GFLOP/s" % (v, flops / statistics.median(
            r["personalise_seconds"] for r in torch_runs[v]) / 1e9) for v in variants))


def figures(run):
    return " ".join("%s=%.4g" % (k, run[k]) for k, _, _ in FIGURES)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--measure", action="store_true", help="measure PyTorch once and print JSON")
    p.add_argument("--persephone", help="path of the persephone binary to compare with (release build)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--personalise-runs", type=int, default=3)
    p.add_argument("--cpu-time", action="store_true",
                   help="thread CPU time with one thread on each side: a single-core comparison a busy machine barely disturbs")
    p.add_argument("--variants", default="default,passive",
                   help="PyTorch runs per round: default (OpenMP as shipped) and/or passive (OMP_WAIT_POLICY=PASSIVE)")
    args = p.parse_args()
    if args.measure:
        print(json.dumps(measure(args.repeats, args.threads, args.personalise_runs, args.cpu_time)))
    elif args.persephone:
        compare(args)
    else:
        p.error("give --measure or --persephone BIN")


if __name__ == "__main__":
    main()
