"""Our own scripts in the style of keras.io's guides "The Sequential model" and "Training &
evaluation with the built-in methods", written for Keras (``import keras``, ``from keras
import layers``) on small synthetic data. The tests (tests/test_foreign_keras_guides.py) run
each with only its import lines changed to tinygrad_edu's (:func:`port`) and check the
numbers Keras's semantics define against numpy."""

from __future__ import annotations

IMPORTS = {
    "import keras\n": "from tinygrad_edu import keras\n",
    "from keras import layers\n": "from tinygrad_edu.keras import layers\n",
    "from keras import ops\n": "from tinygrad_edu.keras import ops\n",
}


def port(source: str) -> str:
    """The script with its Keras imports turned into tinygrad_edu's (each must be there)."""
    for theirs, ours in IMPORTS.items():
        if theirs in source:
            source = source.replace(theirs, ours)
    assert "from tinygrad_edu import keras" in source
    return source


# A 10-class problem with 784 features (an MNIST-sized stand-in, no download): each class is
# a random prototype plus noise. Shared by the training scripts.
DIGITS = '''
import numpy as np

def synthetic_digits(n, seed=0):
    rng = np.random.default_rng(seed)
    prototypes = rng.normal(size=(10, 784)).astype("float32")
    labels = rng.integers(0, 10, size=n)
    images = prototypes[labels] + 3.0 * rng.normal(size=(n, 784)).astype("float32")
    return images.astype("float32"), labels.astype("int64")

x_all, y_all = synthetic_digits(700)
x_train, y_train = x_all[:500], y_all[:500]
x_test, y_test = x_all[500:], y_all[500:]
x_val, y_val = x_train[-100:], y_train[-100:]
x_train, y_train = x_train[:-100], y_train[:-100]
'''

SEQUENTIAL = '''
import numpy as np
import keras
from keras import layers

keras.utils.set_random_seed(1)

# a stack of three layers, as a list ...
model = keras.Sequential(
    [
        layers.Dense(2, activation="relu", name="layer1"),
        layers.Dense(3, activation="relu", name="layer2"),
        layers.Dense(4, name="layer3"),
    ]
)
x = np.ones((3, 3))
y = model(x)
print("output shape:", tuple(y.shape))

# ... is the same as calling the layers one after the other
layer1, layer2, layer3 = model.layers
y_by_hand = layer3(layer2(layer1(x)))
same_as_calls = bool(np.allclose(y.numpy(), y_by_hand.numpy()))

# built one layer at a time
model = keras.Sequential()
model.add(layers.Dense(2, activation="relu"))
model.add(layers.Dense(3, activation="relu"))
model.add(layers.Dense(4))
removed = model.pop()
n_layers_after_pop = len(model.layers)

named = keras.Sequential(name="my_sequential")
named.add(layers.Dense(2, activation="relu", name="layer1"))
named.add(layers.Dense(3, activation="relu", name="layer2"))
named.add(layers.Dense(4, name="layer3"))

# weights appear on the first call
layer = layers.Dense(3)
weights_before = len(layer.weights)
layer(np.ones((1, 4)))
weights_after = len(layer.weights)
kernel_shape, bias_shape = tuple(layer.kernel.shape), tuple(layer.bias.shape)

lazy = keras.Sequential([layers.Dense(2, activation="relu"), layers.Dense(3, activation="relu"),
                         layers.Dense(4)])
try:
    lazy.summary()
    summary_before_build = "printed"
except ValueError as e:
    summary_before_build = str(e)
lazy(np.ones((1, 4)))
print("Number of weights after calling the model:", len(lazy.weights))

# an Input first: the model is built at once
model = keras.Sequential()
model.add(keras.Input(shape=(4,)))
model.add(layers.Dense(2, activation="relu"))
model.summary()
layers_with_input = len(model.layers)

built_later = keras.Sequential([layers.Dense(2, activation="relu")])
built_later.build((None, 4))

# the convolutional stack of the guide, summary after every block
conv = keras.Sequential()
conv.add(keras.Input(shape=(250, 250, 3)))
conv.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
conv.add(layers.Conv2D(32, 3, activation="relu"))
conv.add(layers.MaxPooling2D(3))
conv.summary()
conv.add(layers.Conv2D(32, 3, activation="relu"))
conv.add(layers.Conv2D(32, 3, activation="relu"))
conv.add(layers.MaxPooling2D(3))
conv.add(layers.Conv2D(32, 3, activation="relu"))
conv.add(layers.Conv2D(32, 3, activation="relu"))
conv.add(layers.MaxPooling2D(2))
conv.summary()
conv.add(layers.GlobalMaxPooling2D())
conv.add(layers.Dense(10))
conv_params = conv.count_params()

# weights out and back in
small = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2, name="out")])
small.set_weights([np.arange(6.0).reshape(3, 2), np.array([0.5, -0.5])])
small_out = small.predict(np.array([[1.0, 0.0, 2.0]]), verbose=0)
'''

FEATURE_EXTRACTION = '''
import numpy as np
import keras
from keras import layers

initial_model = keras.Sequential(
    [
        keras.Input(shape=(16,)),
        layers.Dense(8, activation="relu", name="first"),
        layers.Dense(6, activation="relu", name="second"),
        layers.Dense(3, name="third"),
    ]
)
feature_extractor = keras.Model(
    inputs=initial_model.inputs,
    outputs=[layer.output for layer in initial_model.layers],
)
features = feature_extractor(np.ones((1, 16)))
'''

# What the error message of FEATURE_EXTRACTION tells the learner to write instead.
FEATURE_EXTRACTION_OURS = '''
import numpy as np
import keras
from keras import layers

initial_model = keras.Sequential(
    [
        keras.Input(shape=(16,)),
        layers.Dense(8, activation="relu", name="first"),
        layers.Dense(6, activation="relu", name="second"),
        layers.Dense(3, name="third"),
    ]
)
x = np.ones((2, 16))
h = x
features = []
for layer in initial_model.layers:
    h = layer(h)
    features.append(h)
feature_shapes = [tuple(f.shape) for f in features]
final = initial_model.predict(x, verbose=0)
'''

TRANSFER = '''
import numpy as np
import keras
from keras import layers

keras.utils.set_random_seed(2)
rng = np.random.default_rng(2)
x = rng.normal(size=(96, 20)).astype("float32")
y = (x[:, :3].sum(axis=1) > 0).astype("int64") + (x[:, 3] > 1)

model = keras.Sequential(
    [
        keras.Input(shape=(20,)),
        layers.Dense(16, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(3),
    ]
)
# freeze everything but the last layer
for layer in model.layers[:-1]:
    layer.trainable = False
n_trainable = len(model.trainable_weights)
n_frozen = len(model.non_trainable_weights)
frozen_before = [w.copy() for layer in model.layers[:-1] for w in layer.get_weights()]
head_before = [w.copy() for w in model.layers[-1].get_weights()]
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.01),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["sparse_categorical_accuracy"],
)
model.fit(x, y, epochs=3, batch_size=32, verbose=0)
frozen_after = [w for layer in model.layers[:-1] for w in layer.get_weights()]
head_after = model.layers[-1].get_weights()

# a frozen base model inside a new Sequential, with a new head on top
base_model = keras.Sequential([keras.Input(shape=(20,)), layers.Dense(8, activation="relu")])
base_model.trainable = False
stacked = keras.Sequential([base_model, layers.Dense(3)])
stacked.compile(optimizer="adam",
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
base_before = [w.copy() for w in base_model.get_weights()]
stacked.fit(x, y, epochs=2, verbose=0)
base_after = base_model.get_weights()
stacked_trainable = len(stacked.trainable_weights)
'''

TRAINING = DIGITS + '''
import keras
from keras import layers

keras.utils.set_random_seed(0)

def get_uncompiled_model():
    return keras.Sequential(
        [
            keras.Input(shape=(784,), name="digits"),
            layers.Dense(32, activation="relu", name="dense_1"),
            layers.Dense(32, activation="relu", name="dense_2"),
            layers.Dense(10, activation="softmax", name="predictions"),
        ]
    )

model = get_uncompiled_model()
model.compile(
    optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)
print("Fit model on training data")
history = model.fit(x_train, y_train, batch_size=64, epochs=2,
                    validation_data=(x_val, y_val), verbose=2)
print(history.history)

print("Evaluate on test data")
results = model.evaluate(x_test, y_test, batch_size=128)
print("test loss, test acc:", results)
as_dict = model.evaluate(x_test, y_test, batch_size=128, return_dict=True, verbose=0)

print("Generate predictions for 3 samples")
predictions = model.predict(x_test[:3])
print("predictions shape:", predictions.shape)

# the string forms of the same settings
model = get_uncompiled_model()
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
              metrics=["sparse_categorical_accuracy"])
split_history = model.fit(x_train, y_train, batch_size=64, validation_split=0.2, epochs=1,
                          verbose=0)
names = model.metrics_names

# logits out, from_logits=True in the loss, two metrics
logits_model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(10)])
logits_model.compile(
    optimizer=keras.optimizers.SGD(learning_rate=0.0),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["sparse_categorical_accuracy", "accuracy"],
)
loss_only = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(10)])
loss_only.compile(optimizer="sgd", loss="mse")
'''

WEIGHTING = DIGITS + '''
import keras
from keras import layers

keras.utils.set_random_seed(0)

def get_compiled_model(learning_rate=1e-3):
    model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["sparse_categorical_accuracy"])
    return model

class_weight = {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0,
                # class 5 counts twice as much
                5: 2.0, 6: 1.0, 7: 1.0, 8: 1.0, 9: 1.0}
keras.utils.set_random_seed(0)
model = get_compiled_model()
class_history = model.fit(x_train, y_train, class_weight=class_weight, batch_size=64,
                          epochs=2, verbose=0)
class_weighted_kernel = model.layers[0].kernel.numpy()

sample_weight = np.ones(shape=(len(y_train),))
sample_weight[y_train == 5] = 2.0
keras.utils.set_random_seed(0)
model = get_compiled_model()
sample_history = model.fit(x_train, y_train, sample_weight=sample_weight, batch_size=64,
                           epochs=2, verbose=0)
sample_weighted_kernel = model.layers[0].kernel.numpy()

keras.utils.set_random_seed(0)
model = get_compiled_model()
plain_history = model.fit(x_train, y_train, batch_size=64, epochs=2, verbose=0)
'''

CALLBACKS = DIGITS + '''
import os
import tempfile
import keras
from keras import layers

keras.utils.set_random_seed(0)

def get_compiled_model(learning_rate=1e-3):
    model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(32, activation="relu"),
                              layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["sparse_categorical_accuracy"])
    return model

class LossHistory(keras.callbacks.Callback):
    def on_train_begin(self, logs):
        self.per_batch_losses = []
        self.epochs_seen = []

    def on_batch_end(self, batch, logs):
        self.per_batch_losses.append(logs.get("loss"))
        self.batch_keys = sorted(logs)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_seen.append((epoch, sorted(logs)))

checkpoint_dir = tempfile.mkdtemp()
loss_history = LossHistory()
callbacks = [
    keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e-2, patience=2, verbose=1),
    keras.callbacks.ModelCheckpoint(
        filepath=os.path.join(checkpoint_dir, "mymodel_{epoch}.weights.npz"),
        save_best_only=True, save_weights_only=True, monitor="val_loss", verbose=1),
    loss_history,
]
model = get_compiled_model()
history = model.fit(x_train, y_train, epochs=8, batch_size=64, callbacks=callbacks,
                    validation_split=0.2)
checkpoints = sorted(os.listdir(checkpoint_dir))

# lr=0: the loss never improves, so EarlyStopping(patience=2) stops after 3 epochs
still = get_compiled_model(learning_rate=0.0)
stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)
still_history = still.fit(x_train, y_train, epochs=10, validation_data=(x_val, y_val),
                          callbacks=[stopper], verbose=0)

plateau = get_compiled_model()
# no change counts as an improvement: the rate halves after every epoch but the first
reducer = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1,
                                            min_delta=100.0)
plateau_history = plateau.fit(x_train, y_train, epochs=4, validation_data=(x_val, y_val),
                              callbacks=[reducer], verbose=0)

# save the weights, change them, load them back
weights_path = os.path.join(checkpoint_dir, "final.weights.npz")
model.save_weights(weights_path)
expected = model.predict(x_test, verbose=0)
fresh = get_compiled_model()
fresh.load_weights(weights_path)
reloaded = fresh.predict(x_test, verbose=0)
'''

SCHEDULE = DIGITS + '''
import keras
from keras import layers

keras.utils.set_random_seed(0)
initial_learning_rate = 0.1
lr_schedule = keras.optimizers.schedules.ExponentialDecay(
    initial_learning_rate, decay_steps=4, decay_rate=0.5, staircase=True
)
optimizer = keras.optimizers.SGD(learning_rate=lr_schedule)

class RecordRate(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.rates = []

    def on_train_batch_begin(self, batch, logs=None):
        self.rates.append(float(self.model.optimizer.learning_rate))

model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(10)])
model.compile(optimizer=optimizer,
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
recorder = RecordRate()
model.fit(x_train, y_train, batch_size=100, epochs=3, callbacks=[recorder], verbose=0)
'''

CUSTOM = DIGITS + '''
import keras
from keras import layers
from keras import ops

keras.utils.set_random_seed(0)

def get_uncompiled_model():
    return keras.Sequential([keras.Input(shape=(784,)), layers.Dense(10, activation="softmax")])

def custom_mean_squared_error(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)

model = get_uncompiled_model()
model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)
y_train_one_hot = ops.one_hot(y_train, num_classes=10)
function_history = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0)

class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor

model = get_uncompiled_model()
model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())
class_history = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0)

class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.argmax(y_pred, axis=1)
        values = ops.cast(ops.cast(y_true, "int32") == ops.cast(y_pred, "int32"), "float32")
        if sample_weight is not None:
            values = ops.multiply(values, ops.cast(sample_weight, "float32"))
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)

model = get_uncompiled_model()
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(),
              metrics=[CategoricalTruePositives()])
metric_history = model.fit(x_train, y_train, batch_size=64, epochs=2, verbose=0,
                           validation_data=(x_val, y_val))

summed = get_uncompiled_model()
summed.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0),
               loss=keras.losses.SparseCategoricalCrossentropy(reduction="sum"))
'''

PYDATASET = DIGITS + '''
import keras
from keras import layers

keras.utils.set_random_seed(0)

class ExamplePyDataset(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x = x
        self.y = y
        self.batch_size = batch_size
        self.epochs_ended = 0

    def __len__(self):
        return int(np.ceil(len(self.x) / float(self.batch_size)))

    def __getitem__(self, idx):
        batch_x = self.x[idx * self.batch_size : (idx + 1) * self.batch_size]
        batch_y = self.y[idx * self.batch_size : (idx + 1) * self.batch_size]
        return batch_x, batch_y

    def on_epoch_end(self):
        self.epochs_ended += 1

train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32)
val_py_dataset = ExamplePyDataset(x_val, y_val, batch_size=32)

model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(10, activation="softmax")])
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
              loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
history = model.fit(train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=2,
                    verbose=0)
results = model.evaluate(val_py_dataset, verbose=0)
predictions = model.predict(val_py_dataset, verbose=0)
'''

SCRIPTS = {"sequential": SEQUENTIAL, "feature_extraction_ours": FEATURE_EXTRACTION_OURS,
           "transfer": TRANSFER, "training": TRAINING, "weighting": WEIGHTING,
           "callbacks": CALLBACKS, "schedule": SCHEDULE, "custom": CUSTOM,
           "pydataset": PYDATASET}
