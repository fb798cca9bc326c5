"""The book "Neural Networks from Scratch in Python" as a learner ports it (tests/nnfs_code.py).

1. Its hand-written backward passes through ``check_backprop`` (via the adapter a learner
   writes from layer objects to ``loss(p, x, y)`` / ``grads(p, x, y)``), correct and with the
   classic mistakes injected; the combined softmax-CE backward equals the separate chain.
2. Its 2-64-3 spiral model trained with Adam (book hyper-parameters, decay via ``LambdaLR``)
   in tinygrad_edu gives the numpy reference's numbers.
"""
import numpy as np
import pytest

import tinygrad_edu as tg
from tests import nnfs_code as book
from tinygrad_edu import nn, optim
from tinygrad_edu.gradcheck import check_backprop


def make_net(p, l2=0.0):
    """The learner's layers with the weights of ``p`` (the adapter's first half)."""
    dense1 = book.Layer_Dense(2, 5, weight_regularizer_l2=l2, bias_regularizer_l2=l2)
    dense2 = book.Layer_Dense(5, 3)
    dense1.weights, dense1.biases = p["W1"], p["b1"]
    dense2.weights, dense2.biases = p["W2"], p["b2"]
    return dense1, book.Activation_ReLU(), dense2


def nnfs_loss(p, x, y, l2=0.0):
    """The book's forward pass and loss (data loss plus regularization), as a function of ``p``."""
    dense1, relu, dense2 = make_net(p, l2)
    dense1.forward(x)
    relu.forward(dense1.output)
    dense2.forward(relu.output)
    softmax = book.Activation_Softmax()
    softmax.forward(dense2.output)
    cce = book.Loss_CategoricalCrossentropy()
    return cce.calculate(softmax.output, y) + cce.regularization_loss(dense1)


def nnfs_grads(p, x, y, l2=0.0, combined=True):
    """The book's backward pass, read back from the layers' ``dweights``/``dbiases``."""
    dense1, relu, dense2 = make_net(p, l2)
    dense1.forward(x)
    relu.forward(dense1.output)
    dense2.forward(relu.output)
    if combined:
        head = book.Activation_Softmax_Loss_CategoricalCrossentropy()
        head.forward(dense2.output, y)
        head.backward(head.output, y)
        dlogits = head.dinputs
    else:
        softmax, cce = book.Activation_Softmax(), book.Loss_CategoricalCrossentropy()
        softmax.forward(dense2.output)
        cce.backward(softmax.output, y)
        softmax.backward(cce.dinputs)
        dlogits = softmax.dinputs
    dense2.backward(dlogits)
    relu.backward(dense2.dinputs)
    dense1.backward(relu.dinputs)
    return {"W1": dense1.dweights, "b1": dense1.dbiases,
            "W2": dense2.dweights, "b2": dense2.dbiases}


def problem(seed=0, n=12):
    """Small spiral batch and weights large enough that the ReLUs are mixed and the loss moves."""
    rng = np.random.default_rng(seed)
    x, y = book.spiral_data(n // 3, 3, seed=seed)
    p = {"W1": rng.normal(size=(2, 5)), "b1": rng.normal(size=(1, 5)) * 0.1,
         "W2": rng.normal(size=(5, 3)), "b2": rng.normal(size=(1, 3)) * 0.1}
    return p, x, y


@pytest.mark.parametrize("combined", [True, False])
@pytest.mark.parametrize("labels", ["sparse", "one-hot"])
def test_book_backward_passes_the_checker(combined, labels):
    p, x, y = problem()
    if labels == "one-hot":
        y = np.eye(3)[y]
    grads = lambda p, x, y: nnfs_grads(p, x, y, combined=combined)  # noqa: E731
    report = check_backprop(nnfs_loss, grads, p, x, y)
    assert report.passed, str(report)


def test_l2_regularized_backward_passes_the_checker():
    p, x, y = problem(1)
    report = check_backprop(lambda p, x, y: nnfs_loss(p, x, y, l2=0.05),
                            lambda p, x, y: nnfs_grads(p, x, y, l2=0.05), p, x, y)
    assert report.passed, str(report)


def test_combined_softmax_cce_backward_equals_the_chain_and_autograd():
    """As the book checks: the short backward equals the Jacobian chain; both equal autograd."""
    _, logits, _ = problem(2)
    logits = np.random.default_rng(2).normal(size=(6, 3))
    y = np.array([0, 2, 1, 1, 0, 2])
    head = book.Activation_Softmax_Loss_CategoricalCrossentropy()
    head.forward(logits, y)
    head.backward(head.output, y)
    softmax, cce = book.Activation_Softmax(), book.Loss_CategoricalCrossentropy()
    softmax.forward(logits)
    cce.backward(softmax.output, y)
    softmax.backward(cce.dinputs)

    def separate_loss(z):
        softmax = book.Activation_Softmax()
        softmax.forward(z)
        return book.Loss_CategoricalCrossentropy().calculate(softmax.output, y)

    auto = tg.numpy_grad(separate_loss)(logits)
    np.testing.assert_allclose(head.dinputs, softmax.dinputs, atol=1e-12)
    np.testing.assert_allclose(head.dinputs, auto, atol=1e-12)


# --- the classic mistakes, injected into the learner's classes -------------------------------

def _no_division(self, dvalues, y_true):
    samples = len(dvalues)
    self.dinputs = dvalues.copy()
    self.dinputs[range(samples), y_true] -= 1


def _transposed_dweights(self, dvalues):
    self.dweights = np.dot(dvalues.T, self.inputs)        # (n_neurons, n_inputs): transposed
    self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
    self.dinputs = np.dot(dvalues, self.weights.T)


def _no_relu_mask(self, dvalues):
    self.dinputs = dvalues.copy()


def _no_copy(self, dvalues):
    self.dinputs = dvalues                                 # the mask writes into the caller's array
    self.dinputs[self.inputs <= 0] = 0


def _jacobian_sign_slip(self, dvalues):
    self.dinputs = np.empty_like(dvalues)
    for index, (single_output, single_dvalues) in enumerate(zip(self.output, dvalues)):
        single_output = single_output.reshape(-1, 1)
        jacobian_matrix = np.diagflat(single_output) + np.dot(single_output, single_output.T)
        self.dinputs[index] = np.dot(jacobian_matrix, single_dvalues)


def _l2_without_factor_2(self, dvalues):
    self.dweights = np.dot(self.inputs.T, dvalues)
    self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
    if self.weight_regularizer_l2 > 0:
        self.dweights += self.weight_regularizer_l2 * self.weights
    if self.bias_regularizer_l2 > 0:
        self.dbiases += self.bias_regularizer_l2 * self.biases
    self.dinputs = np.dot(dvalues, self.weights.T)


def check_with(monkeypatch, cls, name, fn, combined=True, l2=0.0, seed=0):
    """The checker's report on the book's net with ``cls.name`` replaced by ``fn``."""
    p, x, y = problem(seed)
    monkeypatch.setattr(cls, name, fn)
    return check_backprop(lambda p, x, y: nnfs_loss(p, x, y, l2=l2),
                          lambda p, x, y: nnfs_grads(p, x, y, l2=l2, combined=combined), p, x, y)


def kinds(report):
    """Each parameter's (verdict passed?, diagnosis kind or None)."""
    return {row.name: (row.passed, row.diagnosis and row.diagnosis.kind) for row in report}


def test_no_division_by_samples_is_named_factor_m(monkeypatch):
    head = book.Activation_Softmax_Loss_CategoricalCrossentropy
    report = check_with(monkeypatch, head, "backward", _no_division)
    assert not report.passed
    assert {row.diagnosis.kind for row in report} == {"factor"}
    assert "m = batch size 12" in str(report)


def test_transposed_dweights_is_named_transposed(monkeypatch):
    report = check_with(monkeypatch, book.Layer_Dense, "backward", _transposed_dweights)
    assert kinds(report)["W1"] == kinds(report)["W2"] == (False, "transposed")
    assert report["b1"].passed and report["b2"].passed


def test_missing_relu_mask_is_named_and_located(monkeypatch):
    report = check_with(monkeypatch, book.Activation_ReLU, "backward", _no_relu_mask)
    assert not report["W1"].passed and not report["b1"].passed
    assert report["W2"].passed and report["b2"].passed
    # the correct rows showed the story in their diagnosis column ("None if it passed")
    assert report["W2"].diagnosis is None and report["b2"].diagnosis is None
    assert report.diagnosis.kind == "missing_activation_derivative" and "relu" in str(report)


def test_relu_without_copy_is_harmless_here_and_passes(monkeypatch):
    """The mask writes into dense2.dinputs, which nothing reads afterwards: gradients are right."""
    assert check_with(monkeypatch, book.Activation_ReLU, "backward", _no_copy).passed


@pytest.mark.parametrize("mistake", ["jacobian sign", "l2 factor"])
def test_mistakes_without_a_decisive_story_get_none(monkeypatch, mistake):
    """A wrong verdict, and no confident wrong story, on the rows that are wrong."""
    if mistake == "jacobian sign":
        report = check_with(monkeypatch, book.Activation_Softmax, "backward",
                            _jacobian_sign_slip, combined=False)
        wrong = ["W1", "b1", "W2", "b2"]
    else:
        report = check_with(monkeypatch, book.Layer_Dense, "backward",
                            _l2_without_factor_2, l2=0.05)
        wrong = ["W1", "b1"]
    assert not report.passed
    assert [name for name, (ok, _) in kinds(report).items() if not ok] == wrong
    assert all(report[name].diagnosis is None for name in wrong)


# --- part 2: the book's model in tinygrad_edu ------------------------------------------------

def book_lr(decay):
    """The book's schedule ``lr / (1 + decay * iterations)`` as a LambdaLR factor."""
    return lambda iterations: 1. / (1. + decay * iterations)


def train_tinygrad(steps, lr, decay, l2=0.0, dropout=None, seed=0, hidden=64):
    """The model with Tensors, nn.Linear, Adam(eps=1e-7) and LambdaLR; same init and masks."""
    reference = book.train_numpy(book.Optimizer_Adam(lr, decay), steps, hidden, l2, dropout, seed)
    init, masks, (X, y) = reference[2:]
    dense1 = nn.Linear(2, hidden).double()                 # the book computes in float64
    dense2 = nn.Linear(hidden, 3).double()
    for layer, w, b in ((dense1, init[0], init[1]), (dense2, init[2], init[3])):
        layer.weight.data[...] = w.T          # the book stores (n_inputs, n_neurons)
        layer.bias.data[...] = b[0]
    params = [dense1.weight, dense1.bias, dense2.weight, dense2.bias]
    opt = optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-7)
    sched = optim.lr_scheduler.LambdaLR(opt, book_lr(decay))
    X_t, y_t = tg.tensor(X), tg.tensor(y.astype(np.int64))
    for step in range(steps):
        h = dense1(X_t).relu()
        if dropout:
            h = h * tg.tensor(masks[step])
        logits = dense2(h)
        loss = nn.functional.cross_entropy(logits, y_t)
        reg = l2 * ((dense1.weight ** 2).sum() + (dense1.bias ** 2).sum())
        total = loss + reg
        accuracy = (logits.argmax(1) == y_t).float().mean().item()
        opt.zero_grad()
        total.backward()
        opt.step()
        sched.step()
    return total.item(), accuracy


@pytest.mark.parametrize("variant", [dict(lr=0.05, decay=5e-7), dict(lr=0.02, decay=5e-7, l2=5e-4),
                                     dict(lr=0.05, decay=5e-5, l2=5e-4, dropout=0.1),
                                     dict(lr=0.05, decay=1e-2)])
def test_book_model_trains_to_the_numpy_numbers(variant):
    """Loss and accuracy after 150 steps agree with the book's numpy loop.

    decay 1e-2 makes the schedule matter: lr / (1 + decay * iterations), iterations from 0."""
    kw = dict(variant)
    lr, decay = kw.pop("lr"), kw.pop("decay")
    loss_np, acc_np, *_ = book.train_numpy(book.Optimizer_Adam(lr, decay), 150, **kw)
    loss_tg, acc_tg = train_tinygrad(150, lr, decay, **kw)
    assert loss_tg == pytest.approx(loss_np, rel=1e-7)
    assert acc_tg == pytest.approx(acc_np, abs=1e-6)  # .float() is float32, as in PyTorch


def test_book_model_in_the_keras_facade():
    """The same model in Keras terms: InverseTimeDecay(decay_steps=1) is the book's schedule and
    Adam(epsilon=1e-7) its optimizer; one full batch per epoch. The facade computes in float32
    (floatx) and Adam turns rounding of near-zero gradients into whole steps, so only the first
    steps can agree closely with the float64 book."""
    from tinygrad_edu import keras
    steps, lr, decay = 10, 0.05, 1e-2
    loss_np, acc_np, init, _, (X, y) = book.train_numpy(book.Optimizer_Adam(lr, decay), steps)
    model = keras.Sequential([keras.layers.Dense(64, activation="relu", input_shape=(2,)),
                              keras.layers.Dense(3, activation="softmax")])
    schedule = keras.optimizers.schedules.InverseTimeDecay(lr, decay_steps=1, decay_rate=decay)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule, epsilon=1e-7),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.set_weights([init[0], init[1][0], init[2], init[3][0]])
    history = model.fit(X, y, batch_size=len(X), epochs=steps, shuffle=False, verbose=0)
    assert history.history["loss"][-1] == pytest.approx(loss_np, rel=1e-3)
    assert history.history["accuracy"][-1] == pytest.approx(acc_np, abs=0.02)
