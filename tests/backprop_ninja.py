"""A "become a backprop ninja" exercise, as a learner writes it in PyTorch and then ports to
tinygrad_edu by changing ``import torch`` to ``import tinygrad_edu as torch`` and
``import torch.nn.functional as F`` to ``import tinygrad_edu.nn.functional as F``.

A character-level MLP (an embedding table, a linear layer, batch norm written out by hand,
tanh, a second linear layer, cross-entropy written out), its forward pass broken into small
steps whose gradients are retained, then the backward pass by hand, step by step, compared
with autograd by ``cmp``; then the shortcuts (cross-entropy and batch norm backward in one
formula) and a training loop with the manual gradients.

Every function takes the library (``torch``) and its functional module (``F``) as its first
arguments, so the same code runs on PyTorch and on tinygrad_edu, unchanged.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

CHARS = ".abcdefghijklmnopqrstuvwxyz"
VOCAB = len(CHARS)


def make_words(count: int, seed: int = 0) -> list[str]:
    """Name-like words (the exercise reads names.txt; these are made up, 3 to 8 letters)."""
    rng = np.random.default_rng(seed)
    vowels, consonants = "aeiouy", "bcdfghjklmnprstvwz"
    words = []
    for _ in range(count):
        length = int(rng.integers(3, 9))
        start = int(rng.integers(0, 2))
        words.append("".join(rng.choice(list(vowels if (i + start) % 2 else consonants))
                             for i in range(length)))
    return words


def build_dataset(torch, words: list[str], block_size: int = 3):
    """Contexts of ``block_size`` characters and the next one, as int64 tensors."""
    stoi = {s: i for i, s in enumerate(CHARS)}
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = [*context[1:], ix]
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    return X, Y


def init_params(torch, n_embd: int = 10, n_hidden: int = 64, block_size: int = 3,
                seed: int = 2147483647, dtype=None):
    """The exercise's initialisation: small random biases so no gradient hides behind a zero."""
    g = torch.Generator().manual_seed(seed)
    dtype = dtype or torch.float32
    fan_in = n_embd * block_size
    C = torch.randn((VOCAB, n_embd), generator=g, dtype=dtype)
    W1 = torch.randn((fan_in, n_hidden), generator=g, dtype=dtype) * (5 / 3) / (fan_in ** 0.5)
    b1 = torch.randn(n_hidden, generator=g, dtype=dtype) * 0.1
    W2 = torch.randn((n_hidden, VOCAB), generator=g, dtype=dtype) * 0.1
    b2 = torch.randn(VOCAB, generator=g, dtype=dtype) * 0.1
    bngain = torch.randn((1, n_hidden), generator=g, dtype=dtype) * 0.1 + 1.0
    bnbias = torch.randn((1, n_hidden), generator=g, dtype=dtype) * 0.1
    parameters = [C, W1, b1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True
    return parameters


def params_from_numpy(torch, arrays: list[np.ndarray]):
    """The same starting values in either library (their generators draw different numbers)."""
    parameters = [torch.tensor(a) for a in arrays]
    for p in parameters:
        p.requires_grad = True
    return parameters


def batch(torch, X, Y, batch_size: int, g):
    """A minibatch drawn with the generator, as the exercise does."""
    ix = torch.randint(0, X.shape[0], (batch_size,), generator=g)
    return X[ix], Y[ix]


def forward(torch, F, parameters, Xb, Yb):
    """The forward pass, chunked into steps small enough to backprop through one at a time."""
    C, W1, b1, W2, b2, bngain, bnbias = parameters
    n = Xb.shape[0]
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff ** 2
    bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)  # Bessel's correction
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum ** -1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()

    for p in parameters:
        p.grad = None
    for t in [logprobs, probs, counts, counts_sum, counts_sum_inv, norm_logits, logit_maxes,
              logits, h, hpreact, bnraw, bnvar_inv, bnvar, bndiff2, bndiff, hprebn, bnmeani,
              embcat, emb]:
        t.retain_grad()
    loss.backward()
    return SimpleNamespace(**{k: v for k, v in locals().items()
                              if k not in ("torch", "F", "t", "p", "parameters")})


def manual_backward(torch, F, fw, parameters, mistake: str | None = None):
    """Exercise 1: every step of the backward pass by hand. ``mistake`` puts in one of the
    slips learners make, to see that the comparison catches it."""
    C, W1, _, W2, _, bngain, _ = parameters
    n, Xb, Yb = fw.n, fw.Xb, fw.Yb
    d = {}
    dlogprobs = torch.zeros_like(fw.logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    if mistake == "sign":
        dlogprobs[range(n), Yb] = 1.0 / n
    dprobs = (1.0 / fw.probs) * dlogprobs
    dcounts_sum_inv = (fw.counts * dprobs).sum(1, keepdim=True)
    if mistake == "no_sum_counts_sum_inv":
        dcounts_sum_inv = fw.counts * dprobs
    dcounts = fw.counts_sum_inv * dprobs
    dcounts_sum = (-fw.counts_sum ** -2) * dcounts_sum_inv
    dcounts += torch.ones_like(fw.counts) * dcounts_sum
    dnorm_logits = fw.counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    dlogits += F.one_hot(fw.logits.max(1).indices, num_classes=fw.logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = fw.h.T @ dlogits
    if mistake == "transposed_dW2":
        dW2 = dlogits.T @ fw.h
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - fw.h ** 2) * dh
    dbngain = (fw.bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = fw.bnvar_inv * dbnraw
    dbnvar_inv = (fw.bndiff * dbnraw).sum(0, keepdim=True)
    if mistake == "no_sum_bnvar":
        dbnvar_inv = fw.bndiff * dbnraw
    dbnvar = (-0.5 * (fw.bnvar + 1e-5) ** -1.5) * dbnvar_inv
    bessel = 1.0 / n if mistake == "bessel" else 1.0 / (n - 1)
    dbndiff2 = bessel * torch.ones_like(fw.bndiff2) * dbnvar
    dbndiff += (2 * fw.bndiff) * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = (-dbndiff).sum(0)
    dhprebn += 1.0 / n * (torch.ones_like(fw.hprebn) * dbnmeani)
    dembcat = dhprebn @ W1.T
    dW1 = fw.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(fw.emb.shape)
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
            if mistake == "dC_assign":
                dC[ix] = demb[k, j]
    d.update(logprobs=dlogprobs, probs=dprobs, counts_sum_inv=dcounts_sum_inv,
             counts_sum=dcounts_sum, counts=dcounts, norm_logits=dnorm_logits,
             logit_maxes=dlogit_maxes, logits=dlogits, h=dh, W2=dW2, b2=db2, hpreact=dhpreact,
             bngain=dbngain, bnbias=dbnbias, bnraw=dbnraw, bnvar_inv=dbnvar_inv, bnvar=dbnvar,
             bndiff2=dbndiff2, bndiff=dbndiff, bnmeani=dbnmeani, hprebn=dhprebn,
             embcat=dembcat, W1=dW1, b1=db1, emb=demb, C=dC)
    return d


def dC_by_index_add(torch, C, Xb, demb):
    """dC without the loop: every row of demb added into the row of C it was read from."""
    dC = torch.zeros_like(C)
    dC.index_add_(0, Xb.view(-1), demb.view(-1, C.shape[1]))
    return dC


def dC_by_index_put(torch, C, Xb, demb):
    """dC with index_put_ and accumulate=True (a plain ``dC[Xb] += demb`` would not add up
    the rows of a repeated index)."""
    dC = torch.zeros_like(C)
    dC.index_put_((Xb,), demb, accumulate=True)
    return dC


def dC_by_one_hot(torch, F, C, Xb, demb):
    """dC as a matrix product with the one-hot encoding of Xb."""
    onehot = F.one_hot(Xb.view(-1), num_classes=C.shape[0]).to(demb.dtype)
    return onehot.T @ demb.view(-1, C.shape[1])


def cmp(torch, s: str, dt, t):
    """The exercise's comparison: exact, approximately equal (allclose), and the largest gap."""
    ex = torch.all(dt == t.grad).item()
    app = torch.allclose(dt, t.grad)
    maxdiff = (dt - t.grad).abs().max().item()
    print(f"{s:15s} | exact: {ex!s:5s} | approximate: {app!s:5s} | maxdiff: {maxdiff}")
    return ex, app, maxdiff


def loss_fast(torch, F, fw):
    """Exercise 2: the cross-entropy in one call."""
    return F.cross_entropy(fw.logits, fw.Yb)


def dlogits_fast(torch, F, fw):
    """Exercise 2: d loss / d logits is softmax minus the one-hot target, over n."""
    n = fw.n
    dlogits = F.softmax(fw.logits, 1)
    dlogits[range(n), fw.Yb] -= 1
    dlogits /= n
    return dlogits


def hpreact_fast(torch, fw, bngain, bnbias):
    """Exercise 3: batch norm in one line, with the unbiased variance."""
    hprebn = fw.hprebn
    return bngain * (hprebn - hprebn.mean(0, keepdim=True)) / torch.sqrt(
        hprebn.var(0, keepdim=True, unbiased=True) + 1e-5) + bnbias


def dhprebn_fast(torch, fw, bngain, dhpreact):
    """Exercise 3: the whole batch-norm backward in one formula."""
    n = fw.n
    return bngain * fw.bnvar_inv / n * (n * dhpreact - dhpreact.sum(0)
                                        - n / (n - 1) * fw.bnraw * (dhpreact * fw.bnraw).sum(0))


def train(torch, F, parameters, Xtr, Ytr, max_steps: int = 20, batch_size: int = 32,
          seed: int = 42, check_every: int = 0):
    """Exercise 4: train with the hand-written gradients only (autograd is only compared)."""
    C, W1, b1, W2, b2, bngain, bnbias = parameters
    g = torch.Generator().manual_seed(seed)
    n = batch_size
    lossi, gaps = [], []
    with torch.no_grad():
        for i in range(max_steps):
            Xb, Yb = batch(torch, Xtr, Ytr, batch_size, g)
            emb = C[Xb]
            embcat = emb.view(emb.shape[0], -1)
            hprebn = embcat @ W1 + b1
            bnmean = hprebn.mean(0, keepdim=True)
            bnvar = hprebn.var(0, keepdim=True, unbiased=True)
            bnvar_inv = (bnvar + 1e-5) ** -0.5
            bnraw = (hprebn - bnmean) * bnvar_inv
            hpreact = bngain * bnraw + bnbias
            h = torch.tanh(hpreact)
            logits = h @ W2 + b2
            loss = F.cross_entropy(logits, Yb)

            dlogits = F.softmax(logits, 1)
            dlogits[range(n), Yb] -= 1
            dlogits /= n
            dh = dlogits @ W2.T
            dW2 = h.T @ dlogits
            db2 = dlogits.sum(0)
            dhpreact = (1.0 - h ** 2) * dh
            dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
            dbnbias = dhpreact.sum(0, keepdim=True)
            dhprebn = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0)
                                                - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
            dembcat = dhprebn @ W1.T
            dW1 = embcat.T @ dhprebn
            db1 = dhprebn.sum(0)
            demb = dembcat.view(emb.shape)
            dC = torch.zeros_like(C)
            for k in range(Xb.shape[0]):
                for j in range(Xb.shape[1]):
                    ix = Xb[k, j]
                    dC[ix] += demb[k, j]
            grads = [dC, dW1, db1, dW2, db2, dbngain, dbnbias]

            if check_every and i % check_every == 0:
                with torch.enable_grad():
                    forward(torch, F, parameters, Xb, Yb)  # autograd's, into p.grad
                gaps.append(max((p.grad - g_).abs().max().item()
                                for p, g_ in zip(parameters, grads)))
                for p in parameters:
                    p.grad = None

            lr = 0.1 if i < 100000 else 0.01
            for p, grad in zip(parameters, grads):
                p.data += -lr * grad
            lossi.append(loss.log10().item())
    return lossi, gaps


def split_loss_fn(torch, F, parameters, bnmean, bnvar):
    """The exercise's evaluation: a function under ``@torch.no_grad()``."""
    C, W1, b1, W2, b2, bngain, bnbias = parameters

    @torch.no_grad()
    def split_loss(x, y):
        emb = C[x]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1 + b1
        hpreact = bngain * (hpreact - bnmean) * (bnvar + 1e-5) ** -0.5 + bnbias
        h = torch.tanh(hpreact)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, y)
        return loss.item(), loss.requires_grad

    return split_loss


def calibrate(torch, parameters, Xtr):
    """Batch-norm statistics of the whole training set, after training."""
    C, W1, b1 = parameters[:3]
    with torch.no_grad():
        emb = C[Xtr]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1 + b1
        bnmean = hpreact.mean(0, keepdim=True)
        bnvar = hpreact.var(0, keepdim=True, unbiased=True)
    return bnmean, bnvar


def sample(torch, F, parameters, bnmean, bnvar, count: int = 5, block_size: int = 3,
           seed: int = 2147483647 + 10):
    """Sample words from the model, one character at a time."""
    C, W1, b1, W2, b2, bngain, bnbias = parameters
    g = torch.Generator().manual_seed(seed)
    out = []
    with torch.no_grad():
        for _ in range(count):
            word, context = [], [0] * block_size
            while len(word) < 20:
                emb = C[torch.tensor([context])]
                embcat = emb.view(emb.shape[0], -1)
                hpreact = embcat @ W1 + b1
                hpreact = bngain * (hpreact - bnmean) * (bnvar + 1e-5) ** -0.5 + bnbias
                h = torch.tanh(hpreact)
                logits = h @ W2 + b2
                probs = F.softmax(logits, dim=1)
                ix = torch.multinomial(probs, num_samples=1, generator=g).item()
                context = [*context[1:], ix]
                if ix == 0:
                    break
                word.append(CHARS[ix])
            out.append("".join(word))
    return out


NAMES = ("C", "W1", "b1", "W2", "b2", "bngain", "bnbias")


def numpy_loss(p, x, y):
    """The same forward pass in plain numpy, for ``check_backprop`` (x: int contexts)."""
    n = len(x)
    emb = p["C"][x]
    embcat = emb.reshape(n, -1)
    hprebn = embcat @ p["W1"] + p["b1"]
    bndiff = hprebn - hprebn.sum(0, keepdims=True) / n
    bnvar = (bndiff ** 2).sum(0, keepdims=True) / (n - 1)
    h = np.tanh(p["bngain"] * bndiff * (bnvar + 1e-5) ** -0.5 + p["bnbias"])
    logits = h @ p["W2"] + p["b2"]
    logits = logits - logits.max(axis=1, keepdims=True)
    logprobs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -logprobs[np.arange(n), y].mean()


def grads_by_hand(torch, F, mistake: str | None = None):
    """``grads(p, x, y)`` for ``check_backprop``: the step-by-step backward above (run with
    ``torch``), with ``mistake`` in it, as numpy arrays."""
    def grads(p, x, y):
        parameters = params_from_numpy(torch, [p[k] for k in NAMES])
        fw = forward(torch, F, parameters, torch.tensor(x), torch.tensor(y))
        d = manual_backward(torch, F, fw, parameters, mistake)
        return {k: d[k].detach().numpy() for k in NAMES}
    return grads
