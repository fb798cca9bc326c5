"""tinygrad_edu.keras's image and utility layers: Conv2D, MaxPooling2D, AveragePooling2D,
GlobalAverage/MaxPooling2D, BatchNormalization, Reshape, ReLU, LeakyReLU, Softmax.

Forward values against naive numpy loops written from Keras's definitions (channels_last,
TensorFlow's 'same' padding) and against torch with the layouts converted; gradients of
every input and weight against float64 central differences on hypothesis-drawn shapes;
summary numbers as Keras prints them; configs, save/load; every error message; and the
MNIST-style CNN tutorial training on a small synthetic digits-like task.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import keras
from tinygrad_edu.keras import layers
from tinygrad_edu.keras.models import Sequential, load_model

# ------------------------------------------------------------------ references


def _same_pads(size: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TensorFlow's 'same' padding, written out from its definition."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def np_conv2d(x, kernel, bias, strides=(1, 1), padding="valid", dilation=(1, 1), groups=1):
    """Keras's Conv2D on NHWC inputs and (kh, kw, in/groups, out) kernels, by loops."""
    n, h, w, _ = x.shape
    kh, kw, cg, o = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    if padding == "same":
        x = np.pad(x, ((0, 0), _same_pads(h, kh, sh, dh), _same_pads(w, kw, sw, dw), (0, 0)))
    oh = (x.shape[1] - dh * (kh - 1) - 1) // sh + 1
    ow = (x.shape[2] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, oh, ow, o))
    per = o // groups
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw]
            for g in range(groups):
                part = patch[..., g * cg:(g + 1) * cg]
                k = kernel[..., g * per:(g + 1) * per]
                out[:, i, j, g * per:(g + 1) * per] = np.einsum("nabc,abco->no", part, k)
    return out + (0 if bias is None else bias)


def np_pool(x, pool, strides, padding, kind):
    """Keras's MaxPooling2D / AveragePooling2D by loops: 'same' windows hold only the
    pixels inside the image (max ignores padding, average divides by their count)."""
    n, h, w, c = x.shape
    (ph, pw), (sh, sw) = pool, strides
    if padding == "same":
        (t, _), (left, _) = _same_pads(h, ph, sh), _same_pads(w, pw, sw)
        oh, ow = math.ceil(h / sh), math.ceil(w / sw)
    else:
        t = left = 0
        oh, ow = (h - ph) // sh + 1, (w - pw) // sw + 1
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * sh - t, j * sw - left
            win = x[:, max(r0, 0):r0 + ph, max(c0, 0):c0 + pw]
            out[:, i, j] = win.max(axis=(1, 2)) if kind == "max" else win.mean(axis=(1, 2))
    return out


def grads_match(layer, x: np.ndarray, training: bool = False, eps: float = 1e-6) -> None:
    """Autograd's gradients of sum(layer(x) * v) for the input and every trainable weight
    (float64) equal central differences; the weights are perturbed in place."""
    v = np.random.default_rng(1).normal(size=layer.compute_output_shape((None, *x.shape[1:]))
                                        [1:])
    for p in layer.parameters():
        p.grad = None
    xt = tg.tensor(x, requires_grad=True)
    (layer(xt, training=training) * v).sum().backward()
    targets = [(x, xt.grad.numpy(), "input")]
    targets += [(p.data, p.grad.numpy(), name) for name, p in layer.named_parameters()
                if p.requires_grad]

    def value() -> float:
        with tg.no_grad():
            return float((layer(tg.tensor(x), training=training).numpy() * v).sum())

    for arr, analytic, name in targets:
        numeric = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            orig = arr[idx]
            arr[idx] = orig + eps
            plus = value()
            arr[idx] = orig - eps
            minus = value()
            arr[idx] = orig
            numeric[idx] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6, err_msg=name)


def _images(draw, max_side: int = 5, max_channels: int = 3) -> np.ndarray:
    n = draw(st.integers(1, 2))
    h, w = draw(st.integers(2, max_side)), draw(st.integers(2, max_side))
    c = draw(st.integers(1, max_channels))
    seed = draw(st.integers(0, 2**16))
    return np.random.default_rng(seed).normal(size=(n, h, w, c))


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


# ------------------------------------------------------------------ Conv2D


@settings(max_examples=15)
@given(data=st.data())
def test_conv2d_forward_matches_loops_and_gradients_match_differences(data):
    x = _images(data.draw, 6)
    kh, kw = data.draw(st.integers(1, x.shape[1])), data.draw(st.integers(1, x.shape[2]))
    padding = data.draw(st.sampled_from(["valid", "same"]))
    strides = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    filters = data.draw(st.integers(1, 3))
    conv = layers.Conv2D(filters, (kh, kw), strides=strides, padding=padding,
                         bias_initializer="glorot_uniform", dtype="float64")
    out = conv(x).numpy()
    expected = np_conv2d(x, conv.kernel.numpy(), conv.bias.numpy(), strides, padding)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    assert out.shape[1:] == conv.output_shape[1:]
    grads_match(conv, x)


@pytest.mark.parametrize("kwargs", [
    {"dilation_rate": 2, "padding": "same"},
    {"groups": 2, "padding": "valid"},
    {"use_bias": False, "padding": "same", "strides": 2},
])
def test_conv2d_dilation_groups_and_no_bias(kwargs):
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 4))
    conv = layers.Conv2D(4, 2, dtype="float64", **kwargs)
    out = conv(x).numpy()
    bias = conv.bias.numpy() if conv.bias is not None else None
    expected = np_conv2d(x, conv.kernel.numpy(), bias, conv.strides, conv.padding,
                         conv.dilation_rate, conv.groups)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    assert conv.kernel.shape == (2, 2, 4 // conv.groups, 4)
    grads_match(conv, x)


def test_conv2d_matches_torch_with_layouts_converted():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 7, 6, 3)).astype(np.float32)
    conv = layers.Conv2D(5, (3, 2), strides=(2, 1), activation="relu",
                         bias_initializer="glorot_uniform")
    ours = conv(x).numpy()
    with torch.no_grad():
        ref = torch.nn.functional.conv2d(
            torch.from_numpy(x).permute(0, 3, 1, 2),
            torch.from_numpy(conv.kernel.numpy()).permute(3, 2, 0, 1),
            torch.from_numpy(conv.bias.numpy()), stride=(2, 1)).relu().permute(0, 2, 3, 1)
    np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-5, atol=1e-5)


def test_conv2d_glorot_uniform_uses_keras_fans():
    keras.utils.set_random_seed(0)
    conv = layers.Conv2D(64, (5, 5), input_shape=(8, 8, 16))
    limit = math.sqrt(6 / (5 * 5 * 16 + 5 * 5 * 64))
    k = conv.kernel.numpy()
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.95 * limit
    assert conv.bias.numpy().tolist() == [0.0] * 64


@pytest.mark.parametrize("kwargs, error, match", [
    ({"filters": 0, "kernel_size": 3}, ValueError, "Expected a strictly positive value. "
                                                    "Received filters=0"),
    ({"filters": 2, "kernel_size": (3, 0)}, ValueError, "Conv2D: kernel_size must be a "
                                                        "positive int or a tuple of 2"),
    ({"filters": 2, "kernel_size": 3, "strides": "2"}, ValueError, "Conv2D: strides must be"),
    ({"filters": 2, "kernel_size": 3, "padding": "full"}, ValueError,
     "Conv2D: padding must be 'valid' or 'same', got 'full'"),
    ({"filters": 2, "kernel_size": 3, "padding": "causal"}, ValueError, "'causal' is for Conv1D"),
    ({"filters": 2, "kernel_size": 3, "data_format": "channels_first"}, NotImplementedError,
     "Conv2D: data_format='channels_first' is not supported.*np.transpose"),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, ValueError,
     "strides > 1 not supported in conjunction with dilation_rate > 1"),
    ({"filters": 3, "kernel_size": 3, "groups": 2}, ValueError,
     "Conv2D: groups must be a positive int dividing filters \\(3\\), got groups=2"),
    ({"filters": 2, "kernel_size": 3, "activity_regularizer": "l2"}, NotImplementedError,
     "Conv2D: activity_regularizer is not supported by tinygrad_edu.keras; leave it out, "
     "or: for an activity regularizer, add the penalty to the loss yourself"),
    ({"filters": 2, "kernel_size": 3, "kernel_constraint": "max_norm"}, NotImplementedError,
     "Conv2D: kernel_constraint is not supported.*project the weights yourself after each "
     "update"),
    ({"filters": 2, "kernel_size": 3, "colour": 1}, TypeError,
     "Unrecognized keyword arguments passed to Conv2D"),
])
def test_conv2d_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        layers.Conv2D(**kwargs)


def test_conv2d_input_errors():
    conv = layers.Conv2D(2, 3, name="c")
    with pytest.raises(ValueError, match=r"Input 0 of layer 'c' \(Conv2D\) is incompatible.*"
                                         r"expected ndim=4.*found ndim=3.*add a channel axis"):
        conv(np.zeros((2, 8, 8)))
    conv(np.zeros((1, 8, 8, 3)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        conv(np.zeros((1, 8, 8, 4)))
    with pytest.raises(ValueError, match=r"layer 'c' \(Conv2D\): the kernel \(3, 3\) is larger "
                                         r"than the input \(2, 8\).*padding='same'"):
        conv(np.zeros((1, 2, 8, 3)))


# ------------------------------------------------------------------ pooling


@settings(max_examples=15)
@given(data=st.data())
def test_pooling_matches_loops_and_gradients_match_differences(data):
    x = _images(data.draw, 6, 2)
    kind = data.draw(st.sampled_from(["max", "average"]))
    padding = data.draw(st.sampled_from(["valid", "same"]))
    pool = (data.draw(st.integers(1, x.shape[1])), data.draw(st.integers(1, x.shape[2])))
    strides = data.draw(st.sampled_from([None, (1, 1), (2, 1), (2, 3)]))
    cls = layers.MaxPooling2D if kind == "max" else layers.AveragePooling2D
    layer = cls(pool, strides=strides, padding=padding, dtype="float64")
    out = layer(x).numpy()
    expected = np_pool(x, pool, strides or pool, padding, kind)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert out.shape[1:] == layer.compute_output_shape((None, *x.shape[1:]))[1:]
    grads_match(layer, x)


def test_pooling_matches_torch_and_defaults_to_pool_size_strides():
    x = np.random.default_rng(4).normal(size=(2, 6, 8, 3)).astype(np.float32)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2)
    mp, ap = layers.MaxPooling2D(), layers.AveragePooling2D(pool_size=3, strides=1)
    assert (mp.pool_size, mp.strides, mp.padding) == ((2, 2), (2, 2), "valid")
    np.testing.assert_allclose(mp(x).numpy(), torch.nn.functional.max_pool2d(xt, 2)
                               .permute(0, 2, 3, 1).numpy())
    np.testing.assert_allclose(ap(x).numpy(), torch.nn.functional.avg_pool2d(xt, 3, 1)
                               .permute(0, 2, 3, 1).numpy(), rtol=1e-6, atol=1e-6)
    assert layers.MaxPool2D is layers.MaxPooling2D
    assert layers.AvgPool2D is layers.AveragePooling2D


@pytest.mark.parametrize("cls", [layers.MaxPooling2D, layers.AveragePooling2D])
def test_pooling_errors(cls):
    name = cls.__name__
    with pytest.raises(ValueError, match=f"{name}: pool_size must be a positive int"):
        cls(pool_size=0)
    with pytest.raises(ValueError, match=f"{name}: padding must be 'valid' or 'same'"):
        cls(padding="full")
    with pytest.raises(NotImplementedError, match=f"{name}: data_format='channels_first'"):
        cls(data_format="channels_first")
    with pytest.raises(ValueError, match=r"the pool_size \(3, 3\) is larger than the input"):
        cls(3)(np.zeros((1, 2, 2, 1)))
    with pytest.raises(ValueError, match="expected ndim=4"):
        cls()(np.zeros((1, 4, 4)))


@settings(max_examples=10)
@given(data=st.data())
def test_global_pooling_values_and_gradients(data):
    x = _images(data.draw, 4)
    keepdims = data.draw(st.booleans())
    avg = layers.GlobalAveragePooling2D(keepdims=keepdims, dtype="float64")
    mx = layers.GlobalMaxPooling2D(keepdims=keepdims, dtype="float64")
    np.testing.assert_allclose(avg(x).numpy(), x.mean(axis=(1, 2), keepdims=keepdims))
    np.testing.assert_allclose(mx(x).numpy(), x.max(axis=(1, 2), keepdims=keepdims))
    assert avg.compute_output_shape((None, 3, 3, 5)) == ((None, 1, 1, 5) if keepdims
                                                         else (None, 5))
    grads_match(avg, x)
    grads_match(mx, x)


# ------------------------------------------------------------------ BatchNormalization


@settings(max_examples=15)
@given(data=st.data())
def test_batchnorm_training_and_inference_values_and_gradients(data):
    image = data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    shape = (data.draw(st.integers(2, 4)), 3, 2, data.draw(st.integers(1, 3))) if image \
        else (data.draw(st.integers(2, 5)), data.draw(st.integers(1, 4)))
    x = rng.normal(2.0, 3.0, size=shape)
    bn = layers.BatchNormalization(gamma_initializer="random_normal",
                                   beta_initializer="random_normal", dtype="float64")
    bn.build((None, *shape[1:]))
    gamma, beta = bn.gamma.numpy().copy(), bn.beta.numpy().copy()
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)          # biased, as Keras
    out = bn(x, training=True).numpy()
    np.testing.assert_allclose(out, gamma * (x - mean) / np.sqrt(var + 1e-3) + beta,
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * mean, rtol=1e-12)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.99 + 0.01 * var, rtol=1e-12)
    infer = bn(x).numpy()                                     # inference: moving statistics
    mm, mv = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    np.testing.assert_allclose(infer, gamma * (x - mm) / np.sqrt(mv + 1e-3) + beta,
                               rtol=1e-10, atol=1e-10)
    grads_match(bn, x, training=True)
    grads_match(bn, x, training=False)


def test_batchnorm_matches_torch_batch_norm_with_keras_momentum():
    x = np.random.default_rng(5).normal(size=(4, 3, 3, 2)).astype(np.float32)
    bn = layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    ours = bn(x, training=True).numpy()
    rm, rv = torch.zeros(2), torch.ones(2)
    ref = torch.nn.functional.batch_norm(torch.from_numpy(x).permute(0, 3, 1, 2), rm, rv,
                                         training=True, momentum=0.1, eps=1e-3)
    np.testing.assert_allclose(ours, ref.permute(0, 2, 3, 1).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), rm.numpy(), rtol=1e-6, atol=1e-7)
    # torch updates the running variance with the unbiased batch variance, Keras the biased
    n = 4 * 3 * 3
    biased_rv = 0.9 + (rv.numpy() - 0.9) * (n - 1) / n
    np.testing.assert_allclose(bn.moving_variance.numpy(), biased_rv, rtol=1e-5)


def test_batchnorm_weights_trainability_and_frozen_layer_uses_moving_statistics():
    bn = layers.BatchNormalization(input_shape=(3,))
    assert [n for n, _ in bn.named_parameters()] == ["gamma", "beta", "moving_mean",
                                                     "moving_variance"]
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    bn.trainable = False
    assert bn.trainable_weights == []
    bn.trainable = True                      # the moving statistics stay non-trainable
    assert [w.shape for w in bn.non_trainable_weights] == [(3,), (3,)]
    x = np.array([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0]])
    bn.trainable = False                     # Keras: a frozen BN runs in inference mode
    np.testing.assert_allclose(bn(x, training=True).numpy(), x / np.sqrt(1.001), rtol=1e-6)
    assert bn.moving_mean.numpy().tolist() == [0.0, 0.0, 0.0]
    no_affine = layers.BatchNormalization(center=False, scale=False, input_shape=(3,))
    assert no_affine.gamma is None and no_affine.beta is None and no_affine.count_params() == 6


def test_batchnorm_in_fit_updates_moving_statistics_and_predict_uses_them():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(5.0, 2.0, size=(64, 2)).astype(np.float32)
    model = Sequential([layers.BatchNormalization(input_shape=(2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, x[:, :1], epochs=3, batch_size=16, verbose=0, shuffle=False,
              diagnostics=False)
    bn = model.layers[0]
    mm = bn.moving_mean.numpy()
    assert 0 < mm[0] < 5 * (1 - 0.99 ** 12) + 0.2      # 12 updates towards the mean 5
    frozen_before = bn.moving_mean.numpy().copy()
    model.predict(x, verbose=0)
    model.evaluate(x, x[:, :1], verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), frozen_before)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"renorm": True}, NotImplementedError, "BatchNormalization: renorm is not supported"),
    ({"virtual_batch_size": 8}, NotImplementedError, "virtual_batch_size is not supported"),
    ({"axis": [1, 2]}, NotImplementedError, "axis must be one int"),
    ({"momentum": 1.5}, ValueError, r"momentum must be in \[0, 1\]"),
    ({"epsilon": 0}, ValueError, "epsilon must be positive"),
    ({"gamma_constraint": "non_neg"}, NotImplementedError, "gamma_constraint is not supported"),
    ({"gamma_initializer": "onez"}, ValueError, "unknown initializer 'onez'"),
])
def test_batchnorm_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        layers.BatchNormalization(**kwargs)


def test_batchnorm_input_errors_and_keras2_fused_accepted():
    assert layers.BatchNormalization(fused=True).momentum == 0.99
    with pytest.raises(ValueError, match="axis 0 is the batch axis"):
        layers.BatchNormalization(axis=0, input_shape=(3,))
    with pytest.raises(ValueError, match="axis=3 is out of range for inputs of 2 dimensions"):
        layers.BatchNormalization(axis=3, input_shape=(3,))
    bn = layers.BatchNormalization(name="bn", input_shape=(3,))
    with pytest.raises(ValueError, match="Input of layer 'bn' is incompatible.*expected axis -1 "
                                         "of input shape to have value 3"):
        bn(np.zeros((2, 4)))


# ------------------------------------------------------------------ small layers


@settings(max_examples=15)
@given(data=st.data())
def test_relu_leaky_relu_softmax_values_and_gradients(data):
    seed = data.draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).normal(0, 2, size=(2, data.draw(st.integers(1, 5))))
    slope = data.draw(st.floats(0.0, 1.0))
    cap = data.draw(st.sampled_from([None, 1.0, 3.0]))
    threshold = data.draw(st.sampled_from([0.0, 0.5]))
    for kink in (0.0, threshold, cap or 0.0):   # keep finite differences off the kinks
        x[np.abs(x - kink) < 1e-3] += 0.01
    relu = layers.ReLU(max_value=cap, negative_slope=slope, threshold=threshold,
                       dtype="float64")
    expected = np.where(x >= threshold, x, slope * (x - threshold))
    if cap is not None:
        expected = np.minimum(expected, cap)
    np.testing.assert_allclose(relu(x).numpy(), expected, rtol=1e-12)
    grads_match(relu, x)
    leaky = layers.LeakyReLU(negative_slope=slope, dtype="float64")
    np.testing.assert_allclose(leaky(x).numpy(), np.where(x >= 0, x, slope * x), rtol=1e-12)
    grads_match(leaky, x)
    soft = layers.Softmax(dtype="float64")
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(soft(x).numpy(), e / e.sum(axis=-1, keepdims=True), rtol=1e-12)
    grads_match(soft, x)


def test_leaky_relu_defaults_and_keras2_alpha():
    assert layers.LeakyReLU().negative_slope == 0.3               # Keras 3's default
    with pytest.warns(DeprecationWarning, match="`alpha` is deprecated. Use `negative_slope`"):
        assert layers.LeakyReLU(alpha=0.1).negative_slope == 0.1
    assert layers.LeakyReLU(0.2).get_config()["negative_slope"] == 0.2
    with pytest.raises(ValueError, match="LeakyReLU: negative_slope must be a non-negative"):
        layers.LeakyReLU(-0.1)
    with pytest.raises(ValueError, match="ReLU: max_value must be a non-negative number"):
        layers.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="ReLU: threshold must be a number"):
        layers.ReLU(threshold="0")


def test_softmax_axis_and_mask_error():
    x = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    np.testing.assert_allclose(layers.Softmax(axis=1)(x).numpy().sum(axis=1), 1.0, rtol=1e-6)
    with pytest.raises(NotImplementedError, match="Softmax layer 'softmax_1': mask is not "
                                                  "supported.*large negative number"):
        layers.Softmax()(x, mask=np.ones((1, 2, 2)))


def test_reshape_shapes_values_gradients_and_errors():
    x = np.arange(24.0).reshape(2, 12)
    np.testing.assert_array_equal(layers.Reshape((3, 4))(x).numpy(), x.reshape(2, 3, 4))
    np.testing.assert_array_equal(layers.Reshape((-1, 2))(x).numpy(), x.reshape(2, 6, 2))
    assert layers.Reshape((4, -1)).compute_output_shape((None, 12)) == (None, 4, 3)
    assert layers.Reshape((4, -1)).compute_output_shape((None, None)) == (None, 4, None)
    grads_match(layers.Reshape((2, 6), dtype="float64"), x)
    with pytest.raises(ValueError, match=r"layer 'r' \(Reshape\): cannot reshape samples of "
                                         r"shape \(12,\) \(12 values\) to target_shape \(5, 2\)"):
        layers.Reshape((5, 2), name="r")(x)
    with pytest.raises(ValueError, match="at most one -1"):
        layers.Reshape((-1, -1))
    with pytest.raises(TypeError, match="target_shape must be a tuple of ints"):
        layers.Reshape("28x28")
    with pytest.raises(ValueError, match="cannot reshape"):
        Sequential([layers.Dense(10, input_shape=(3,)), layers.Reshape((3, 3))])


def test_rescaling_values_gradients_and_errors():
    x = np.random.default_rng(6).uniform(0, 255, size=(2, 3, 3, 2))
    np.testing.assert_allclose(layers.Rescaling(1.0 / 255)(x).numpy(), x / 255, rtol=1e-6)
    per_channel = layers.Rescaling([1.0, -2.0], offset=[0.5, 0.0], dtype="float64")
    np.testing.assert_allclose(per_channel(x).numpy(), x * [1.0, -2.0] + [0.5, 0.0])
    grads_match(per_channel, x)
    assert per_channel.get_config()["scale"] == [1.0, -2.0]
    with pytest.raises(ValueError, match="Rescaling: scale must be a finite number"):
        layers.Rescaling(float("inf"))


# ------------------------------------------------------------------ models: summary, saving


def _summary(model) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.summary()
    return buf.getvalue()


def _mnist_convnet(num_classes: int = 10, shape=(28, 28, 1)) -> Sequential:
    """keras.io's "Simple MNIST convnet", as written there."""
    return keras.Sequential([
        keras.Input(shape=shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ])


def test_mnist_convnet_summary_matches_keras():
    text = _summary(_mnist_convnet())
    # the rows and totals Keras prints for this model (keras.io, "Simple MNIST convnet")
    for row in [r"conv2d \(Conv2D\)\s+\(None, 26, 26, 32\)\s+320",
                r"max_pooling2d \(MaxPooling2D \(None, 13, 13, 32\)\s+0",
                r"conv2d_1 \(Conv2D\)\s+\(None, 11, 11, 64\)\s+18,496",
                r"max_pooling2d_1 \(MaxPooling \(None, 5, 5, 64\)\s+0",
                r"flatten \(Flatten\)\s+\(None, 1600\)\s+0",
                r"dense \(Dense\)\s+\(None, 10\)\s+16,010",
                r"Total params: 34,826 \(136.04 KB\)",
                r"Non-trainable params: 0 \(0.00 B\)"]:
        assert re.search(row, text), row


def test_batchnorm_summary_counts_non_trainable_like_keras():
    model = Sequential([layers.Dense(64, input_shape=(10,)), layers.BatchNormalization(),
                        layers.ReLU(), layers.Reshape((8, 8, 1)),
                        layers.Conv2D(4, 3, padding="same"), layers.BatchNormalization(),
                        layers.LeakyReLU(), layers.GlobalAveragePooling2D(),
                        layers.Dense(3), layers.Softmax()])
    text = _summary(model)
    assert "batch_normalization (BatchN (None, 64)                256" in text
    assert "re_lu (ReLU)" in text and "leaky_re_lu (LeakyReLU)" in text
    assert "conv2d (Conv2D)             (None, 8, 8, 4)           40" in text
    assert "Total params: 1,031" in text and "Trainable params: 895" in text
    assert "Non-trainable params: 136 (544.00 B)" in text       # 2 * (64 + 4) floats
    assert model.output_shape == (None, 3) and model.input_shape == (None, 10)
    assert model.layers[3].input_shape == (None, 64)


def test_new_layers_save_and_load_with_configs_and_weights(tmp_path):
    keras.utils.set_random_seed(1)
    model = Sequential([
        keras.Input((6, 6, 2)),
        layers.Rescaling([0.5, 2.0], offset=-0.1),
        layers.Conv2D(3, (2, 3), strides=(1, 2), padding="same", activation="relu",
                      kernel_regularizer=keras.regularizers.l2(0.01), use_bias=False),
        layers.BatchNormalization(momentum=0.9, epsilon=1e-4,
                                  gamma_regularizer=keras.regularizers.L1(0.001)),
        layers.AveragePooling2D(2, padding="same"),
        layers.MaxPooling2D(pool_size=(1, 2), strides=(1, 1)),
        layers.GlobalMaxPooling2D(keepdims=True),
        layers.Reshape((-1,)),
        layers.LeakyReLU(0.1),
        layers.ReLU(max_value=6.0),
        layers.Dense(2, bias_regularizer="l1", kernel_regularizer=keras.regularizers.l1_l2(
            l1=0.01, l2=0.02)),
        layers.Softmax(),
    ])
    x = np.random.default_rng(2).normal(size=(8, 6, 6, 2)).astype(np.float32)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, np.arange(8) % 2, epochs=2, batch_size=4, verbose=0, diagnostics=False)
    path = tmp_path / "cnn.safetensors"
    model.save(path)
    again = load_model(path)
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    for a, b in zip(again.layers, model.layers):
        assert a.get_config() == b.get_config()
    assert again.layers[2].get_weights()[2].tolist() == model.layers[2].get_weights()[2].tolist()
    assert again.layers[-2].kernel_regularizer.get_config() == {"l1": 0.01, "l2": 0.02}
    assert [len(layer.losses) for layer in again.layers] == [0, 1, 1, 0, 0, 0, 0, 0, 0, 2, 0]
    assert again.evaluate(x, np.arange(8) % 2, verbose=0) == pytest.approx(
        model.evaluate(x, np.arange(8) % 2, verbose=0), rel=1e-6)


# ------------------------------------------------------------------ the CNN tutorial


def _digits(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A small digits-like task: 12x12 images of one of four strokes (horizontal bar,
    vertical bar, diagonal, ring) at random positions, with noise."""
    x = rng.normal(0, 0.2, size=(n, 12, 12, 1)).astype(np.float32)
    y = rng.integers(0, 4, n)
    for i, label in enumerate(y):
        r, c = rng.integers(2, 10, 2)
        img = x[i, :, :, 0]
        if label == 0:
            img[r, 1:11] += 1.0
        elif label == 1:
            img[1:11, c] += 1.0
        elif label == 2:
            idx = np.arange(1, 11)
            img[idx, idx if r < 6 else 11 - idx] += 1.0
        else:
            img[3:9, 3] += 1.0
            img[3:9, 8] += 1.0
            img[3, 3:9] += 1.0
            img[8, 3:9] += 1.0
    return x, y


def test_cnn_tutorial_trains_to_high_accuracy_on_digits_like_images():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = _digits(900, rng)   # more samples than the 700 weights
    x_test, y_test = _digits(200, rng)
    model = keras.Sequential([
        keras.Input(shape=(12, 12, 1)),
        layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(4, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                # a tutorial run raises no warning
        history = model.fit(x_train, y_train, batch_size=16, epochs=10,
                            validation_split=0.1, verbose=0)
    test_loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.95 and test_loss < 0.5, (accuracy, history.history)
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
