"""One MUNIT training iteration (discriminator + generator update) in PyTorch, the
same architecture and the same work as goinv's stdlib/munit (see munit.TimeIteration):
width 16, 2 residual blocks, MLP 256, style dim 8, 4 style and 4 discriminator
downsamplings, reflect padding, 28x28 grayscale.

usage: python3 munit_bench.py BATCH THREADS ITERATIONS
prints: ms per iteration (median), parameter counts, torch version, fastest ms
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv(cin, cout, k, s, p, reflect=True):
    return nn.Conv2d(cin, cout, k, s, p, padding_mode="reflect" if reflect and p > 0 else "zeros")


class IN(nn.Module):
    def forward(self, x):
        return F.instance_norm(x, eps=1e-5)


def adain(x, bias, weight):
    m = x.mean(dim=(2, 3), keepdim=True)
    v = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    return (x - m) / torch.sqrt(v + 1e-5) * weight[:, :, None, None] + bias[:, :, None, None]


class LN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(c))
        self.beta = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        n = x.shape[0]
        f = x.reshape(n, -1)
        m = f.mean(1).view(n, 1, 1, 1)
        v = f.var(1, unbiased=False).view(n, 1, 1, 1)
        x = (x - m) / torch.sqrt(v + 1e-5)
        return x * self.gamma.view(1, -1, 1, 1) + self.beta.view(1, -1, 1, 1)


class Gen(nn.Module):
    def __init__(self, ch=1, dim=16, n_res=2, n_down=2, n_sdown=4, mlp=256, sdim=8):
        super().__init__()
        layers = [conv(ch, dim, 7, 1, 3), IN(), nn.ReLU()]
        d = dim
        for _ in range(n_down):
            layers += [conv(d, 2 * d, 4, 2, 1), IN(), nn.ReLU()]
            d *= 2
        self.cdown = nn.Sequential(*layers)
        self.cres = nn.ModuleList([nn.ModuleList([conv(d, d, 3, 1, 1), conv(d, d, 3, 1, 1)]) for _ in range(n_res)])
        sl = [conv(ch, dim, 7, 1, 3), nn.ReLU()]
        sd = dim
        for i in range(n_sdown):
            nd = 2 * sd if i < 2 else sd
            sl += [conv(sd, nd, 4, 2, 1), nn.ReLU()]
            sd = nd
        sl += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(sd, sdim, 1)]
        self.style = nn.Sequential(*sl)
        self.d = d
        self.mlp = nn.Sequential(nn.Linear(sdim, mlp), nn.ReLU(), nn.Linear(mlp, mlp), nn.ReLU(),
                                 nn.Linear(mlp, n_res * 4 * d))
        self.dres = nn.ModuleList([nn.ModuleList([conv(d, d, 3, 1, 1), conv(d, d, 3, 1, 1)]) for _ in range(n_res)])
        up = []
        for _ in range(n_down):
            up += [nn.Upsample(scale_factor=2, mode="nearest"), conv(d, d // 2, 5, 1, 2), LN(d // 2), nn.ReLU()]
            d //= 2
        up += [conv(d, ch, 7, 1, 3), nn.Tanh()]
        self.up = nn.Sequential(*up)

    def content(self, x):
        h = self.cdown(x)
        for c0, c1 in self.cres:
            r = F.relu(F.instance_norm(c0(h), eps=1e-5))
            h = h + F.instance_norm(c1(r), eps=1e-5)
        return h

    def decode(self, c, s):
        p = self.mlp(s.view(s.shape[0], -1))
        h, d, off = c, self.d, 0
        for c0, c1 in self.dres:
            r = F.relu(adain(c0(h), p[:, off:off + d], p[:, off + d:off + 2 * d]))
            off += 2 * d
            r = adain(c1(r), p[:, off:off + d], p[:, off + d:off + 2 * d])
            off += 2 * d
            h = h + r
        return self.up(h)


class Dis(nn.Module):
    def __init__(self, ch=1, dim=16, n_layer=4):
        super().__init__()
        layers, cin = [], ch
        for i in range(n_layer):
            cout = dim if i == 0 else 2 * cin
            layers += [conv(cin, cout, 4, 2, 1), nn.LeakyReLU(0.2)]
            cin = cout
        layers += [nn.Conv2d(cin, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def main():
    batch, threads, iters = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    G, D = Gen(), Dis()
    oG = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.999), weight_decay=1e-4)
    oD = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999), weight_decay=1e-4)
    x = torch.rand(batch, 1, 28, 28) * 2 - 1

    def step():
        c = G.content(x)
        s_ = G.style(x)
        xr = G.decode(c, s_)
        s = torch.randn(batch, 8, 1, 1)
        xf = G.decode(c, s)
        c2 = G.content(xf)
        s2 = G.style(xf)
        oD.zero_grad(set_to_none=True)
        ld = ((D(xf.detach()) - 0) ** 2).mean() + ((D(x) - 1) ** 2).mean()
        ld.backward()
        oD.step()
        for p in D.parameters():
            p.requires_grad_(False)
        oG.zero_grad(set_to_none=True)
        lg = ((D(xf) - 1) ** 2).mean() + 10 * (xr - x).abs().mean() + (s2 - s).abs().mean() + (c2 - c).abs().mean()
        lg.backward()
        oG.step()
        for p in D.parameters():
            p.requires_grad_(True)

    for _ in range(3):
        step()
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    npg = sum(p.numel() for p in G.parameters())
    npd = sum(p.numel() for p in D.parameters())
    print(f"{1000 * ts[len(ts) // 2]:.1f} {npg} {npd} {torch.__version__} {1000 * ts[0]:.1f}")


if __name__ == "__main__":
    main()
