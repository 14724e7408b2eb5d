#!/usr/bin/python3
"""torch_reference.py — PyTorch numbers for tests/unit/test_net_torch.c.

One training step of a small network that uses every PyTorch-defined piece
of nnx's runtime (conv with stride and padding, batch norm on channels and
on features, SiLU, exact GELU, ELU, max pooling, dense, cross entropy with
label smoothing), with parameters and inputs set by formula, printed as C
arrays: the logits, the loss, every parameter gradient in nnx's flat
layout, the input gradient, the running statistics after the step, and the
logits in evaluation mode afterwards.  Run it with /usr/bin/python3 (the one
with torch) and paste the output into the test when the network changes.
"""
import math

import torch
import torch.nn as nn

torch.set_default_dtype(torch.float32)
N = 3
net = nn.Sequential(
    nn.Conv2d(2, 3, 3, stride=1, padding=1), nn.BatchNorm2d(3, momentum=0.1, eps=1e-5),
    nn.SiLU(), nn.MaxPool2d(2),
    nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.GELU(),
    nn.Flatten(),
    nn.Linear(16, 5), nn.BatchNorm1d(5), nn.ELU(),
    nn.Linear(5, 3))
params = list(net.parameters())   # weight, bias per module: nnx's flat order
j = 0
with torch.no_grad():
    for p in params:
        flat = torch.tensor([0.4 * math.sin(0.7 * (j + i) + 0.3) for i in range(p.numel())])
        p.copy_(flat.reshape(p.shape))
        j += p.numel()
x = torch.tensor([2 * math.sin(0.13 * i) for i in range(N * 2 * 6 * 6)]).reshape(N, 2, 6, 6)
x.requires_grad_(True)
y = torch.tensor([0, 2, 1])
net.train()
logits = net(x)
loss = nn.CrossEntropyLoss(label_smoothing=0.1)(logits, y)
loss.backward()
state = []
for m in net:
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        state += m.running_mean.tolist() + m.running_var.tolist()
net.eval()
with torch.no_grad():
    eval_logits = net(x)


def literal(v):
    s = f"{v:.9g}"
    return (s if any(ch in s for ch in ".e") else s + ".0") + "f"


def carray(name, values):
    vals = ", ".join(literal(v) for v in values)
    print(f"static const float {name}[{len(values)}] = {{{vals}}};")


carray("ref_logits", logits.detach().flatten().tolist())
print(f"static const float ref_loss = {literal(loss.item())};")
carray("ref_grads", torch.cat([p.grad.flatten() for p in params]).tolist())
carray("ref_dinput", x.grad.flatten().tolist())
carray("ref_state", state)
carray("ref_eval_logits", eval_logits.flatten().tolist())
