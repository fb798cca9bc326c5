"""tinygrad_edu: a small, fast, honest autograd framework on numpy.

>>> import tinygrad_edu as tg
>>> x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from . import (  # the layers above the core; the core itself never imports them
    data,
    gradcheck,  # tg.gradcheck is the subpackage; the function is tg.gradcheck.gradcheck
    keras,
    linalg,
    metrics,
    nn,
    optim,
    serialization,
    train,
    utils,
)
from . import numpy_interop as _numpy_interop  # noqa: F401  (installs numpy dispatch)
from .autograd import (
    Context,
    compile_step,
    detect_anomaly,
    enable_grad,
    grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .autograd.function import Function  # the library's kind; tg.autograd.Function is PyTorch's
from .creation import (
    BoolTensor,
    DoubleTensor,
    FloatTensor,
    IntTensor,
    LongTensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .device import accelerator, backends, cuda, device, get_default_device, set_default_device
from .dtypes import (
    bool_,
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    uint8,
)

# PyTorch's dtype names (tg.float, tg.int...), kept out of __all__: a star import must not
# shadow Python's float, int and bool
from .dtypes import bool_ as bool  # noqa: F401
from .dtypes import float32 as float  # noqa: F401
from .dtypes import int16 as short  # noqa: F401
from .dtypes import int32 as int  # noqa: F401
from .functional import *  # noqa: F403  (the module defines __all__)
from .functional import __all__ as _functional_all
from .gradcheck import GradcheckError, check_backprop, check_gradients, gradgradcheck
from .lost_gradient import LostGradientError
from .numpy_mode import NumpyTensor, as_numpy_tensor, numpy_grad, numpy_value_and_grad
from .random import Generator, default_generator, manual_seed
from .serialization import SerializationError, load, save
from .tensor import Tensor
from .torch_math import *  # noqa: F403  (PyTorch's math names; the module defines __all__)
from .torch_math import __all__ as _torch_math_all
from .torch_math import pow  # noqa: F401  (kept out of __all__: must not shadow Python's pow)
from .torch_shape import *  # noqa: F403  (the module defines __all__)
from .torch_shape import __all__ as _torch_shape_all
from .torch_shape import _method_function
from .train import History, TrainingDiverged, TrainingWarning, fit
from .viz import draw_graph

# tg.all(x) and tg.any(x), kept out of __all__ (a star import must not shadow Python's)
all = _method_function("all")
any = _method_function("any")

__version__ = "0.1.0"

__all__ = [
    "BoolTensor",
    "Context",
    "DoubleTensor",
    "FloatTensor",
    "IntTensor",
    "LongTensor",
    "GradcheckError",
    "History",
    "LostGradientError",
    "NumpyTensor",
    "SerializationError",
    "TrainingDiverged",
    "TrainingWarning",
    "check_backprop",
    "check_gradients",
    "compile_step",
    "data",
    "draw_graph",
    "fit",
    "gradcheck",
    "gradgradcheck",
    "keras",
    "load",
    "metrics",
    "nn",
    "optim",
    "save",
    "serialization",
    "train",
    "utils",
    "Function",
    "Generator",
    "Tensor",
    "accelerator",
    "arange",
    "backends",
    "cuda",
    "device",
    "empty",
    "empty_like",
    "get_default_device",
    "set_default_device",
    "as_numpy_tensor",
    "as_tensor",
    "bool_",
    "default_generator",
    "detect_anomaly",
    "double",
    "enable_grad",
    "eye",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "get_default_dtype",
    "grad",
    "half",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "linspace",
    "long",
    "manual_seed",
    "multinomial",
    "no_grad",
    "numpy_grad",
    "numpy_value_and_grad",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "normal",
    "randn",
    "randn_like",
    "randperm",
    "set_default_dtype",
    "set_detect_anomaly",
    "set_grad_enabled",
    "tensor",
    "uint8",
    "zeros",
    "zeros_like",
    *_functional_all,
    "linalg",
    *_torch_math_all,
    *_torch_shape_all,
]
