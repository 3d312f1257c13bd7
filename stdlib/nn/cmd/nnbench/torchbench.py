"""PyTorch reference for nnbench: trains the same models as goinv's SmallCNN and
ResNet-20 on random batches (CPU, float32) and prints images/s as JSON lines.

Usage: python3 torchbench.py --threads 2 --steps 30 [--models smallcnn,resnet20,resnet32]
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    # goinv nn.SmallCNN: conv3x3(16)+bias, maxpool2, relu, conv3x3(32)+bias, maxpool2, relu, linear.
    def __init__(self, c=1, hw=28, k=10):
        super().__init__()
        self.conv1 = nn.Conv2d(c, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * (hw // 4) * (hw // 4), k)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        return self.fc(x.flatten(1))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = cout - cin
        self.stride = stride

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        s = x
        if self.stride != 1 or self.pad:
            # option A shortcut, as in the LDAM/GIT reference code
            s = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, self.pad // 2, self.pad // 2))
        return F.relu(out + s)


class ResNet(nn.Module):
    def __init__(self, depth=20, width=16, c=3, k=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(c, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        layers, cin = [], width
        for stage in range(3):
            w = width << stage
            for b in range(n):
                layers.append(Block(cin, w, 2 if stage > 0 and b == 0 else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(cin, k)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layers(x)
        return self.linear(x.mean((2, 3)))


def bench(name, model, shape, batch, steps, warmup):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=2e-4)
    x = torch.rand(batch, *shape)
    y = torch.randint(0, 10, (batch,))
    model.train()
    best = float("inf")
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.perf_counter()
            r0 = resource.getrusage(resource.RUSAGE_SELF)
        ts = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if i >= warmup:
            best = min(best, time.perf_counter() - ts)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(json.dumps({"model": name, "batch": batch, "steps": steps, "seconds": dt,
                      "images_per_s": batch * steps / dt, "images_per_cpu_s": batch * steps / cpu,
                      "best_images_per_s": batch / best,
                      "threads": torch.get_num_threads(),
                      "torch": torch.__version__}), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--models", default="smallcnn,resnet20")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for m in a.models.split(","):
        if m == "smallcnn":
            bench(m, SmallCNN(), (1, 28, 28), a.batch, a.steps, a.warmup)
        elif m == "resnet20":
            bench(m, ResNet(20), (3, 32, 32), a.batch, max(a.steps // 3, 5), a.warmup // 2 + 1)
        elif m == "resnet32":
            bench(m, ResNet(32), (3, 32, 32), a.batch, max(a.steps // 5, 5), a.warmup // 2 + 1)
        else:
            raise SystemExit("unknown model " + m)


if __name__ == "__main__":
    main()
