"""Our own scripts in the style of keras.io's guides "The Functional API", "Making new layers
and models via subclassing", "Writing your own callbacks" and "Customizing what happens in
fit()" (its PyTorch-backend version), written for Keras 3 (``import keras``, ``from keras
import layers, ops``; ``import torch`` for ``torch.no_grad()`` in a train_step) on small
synthetic data. Layers tinygrad_edu.keras lacks (Embedding, LSTM, Conv1D) are replaced by
Dense ones, as a learner without them would. The tests (tests/test_foreign_keras_guides2.py)
run each with only its import lines changed (:func:`port`) and check the numbers Keras's
semantics define against numpy and torch."""

from __future__ import annotations

from .keras_guides import IMPORTS as FIRST_IMPORTS

IMPORTS = {**FIRST_IMPORTS, "import torch\n": "import tinygrad_edu as torch\n"}


def port(source: str) -> str:
    """The script with its Keras (and torch) imports turned into tinygrad_edu's."""
    for theirs, ours in IMPORTS.items():
        source = source.replace(theirs, ours)
    assert "from tinygrad_edu import keras" in source
    return source


FUNCTIONAL = '''
import numpy as np
import keras
from keras import layers

keras.utils.set_random_seed(3)
rng = np.random.default_rng(3)

# a 784 -> 64 -> 64 -> 10 classifier, layer by layer on a symbolic input
inputs = keras.Input(shape=(784,))
dense = layers.Dense(64, activation="relu")
x = dense(inputs)
x = layers.Dense(64, activation="relu")(x)
outputs = layers.Dense(10)(x)
model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
model.summary()
input_repr = repr(inputs)

prototypes = rng.normal(size=(10, 784)).astype("float32")
labels = rng.integers(0, 10, size=300)
images = (prototypes[labels] + 2.0 * rng.normal(size=(300, 784))).astype("float32") / 4
x_train, y_train, x_test, y_test = images[:240], labels[:240], images[240:], labels[240:]
model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=64, epochs=3, validation_split=0.2,
                    verbose=0)
test_scores = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", test_scores[0])

# models are callable, like layers: an autoencoder from an encoder and a decoder
encoder_input = keras.Input(shape=(16,), name="img")
x = layers.Dense(8, activation="relu")(encoder_input)
encoder_output = layers.Dense(3)(x)
encoder = keras.Model(encoder_input, encoder_output, name="encoder")
decoder_input = keras.Input(shape=(3,), name="encoded_img")
x = layers.Dense(8, activation="relu")(decoder_input)
decoder_output = layers.Dense(16)(x)
decoder = keras.Model(decoder_input, decoder_output, name="decoder")
autoencoder_input = keras.Input(shape=(16,), name="img")
encoded_img = encoder(autoencoder_input)
decoded_img = decoder(encoded_img)
autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
autoencoder.summary()


# an ensemble: the average of three models' outputs
def get_model():
    inputs = keras.Input(shape=(128,))
    outputs = layers.Dense(1)(inputs)
    return keras.Model(inputs, outputs)


model1, model2, model3 = get_model(), get_model(), get_model()
ensemble_inputs = keras.Input(shape=(128,))
y1, y2, y3 = model1(ensemble_inputs), model2(ensemble_inputs), model3(ensemble_inputs)
ensemble = keras.Model(inputs=ensemble_inputs, outputs=layers.average([y1, y2, y3]))
ensemble_x = rng.normal(size=(4, 128)).astype("float32")
ensemble_out = ensemble.predict(ensemble_x, verbose=0)

# several inputs and outputs: ranking tickets by priority and routing them to a department
num_tags, num_departments = 12, 4
title_input = keras.Input(shape=(10,), name="title")
body_input = keras.Input(shape=(20,), name="body")
tags_input = keras.Input(shape=(num_tags,), name="tags")
title_features = layers.Dense(8, activation="relu")(title_input)
body_features = layers.Dense(8, activation="relu")(body_input)
x = layers.concatenate([title_features, body_features, tags_input])
priority_pred = layers.Dense(1, name="priority")(x)
department_pred = layers.Dense(num_departments, name="department")(x)
ticket_model = keras.Model(inputs=[title_input, body_input, tags_input],
                           outputs={"priority": priority_pred, "department": department_pred})
ticket_model.compile(
    optimizer=keras.optimizers.SGD(learning_rate=0.1),
    loss={"priority": keras.losses.BinaryCrossentropy(from_logits=True),
          "department": keras.losses.CategoricalCrossentropy(from_logits=True)},
    loss_weights={"priority": 1.0, "department": 0.2},
    metrics={"department": ["accuracy"]},
)
n = 48
title_data = rng.random((n, 10)).astype("float32")
body_data = rng.random((n, 20)).astype("float32")
tags_data = rng.integers(0, 2, size=(n, num_tags)).astype("float32")
priority_targets = rng.random((n, 1)).astype("float32")
dept_targets = np.eye(num_departments, dtype="float32")[rng.integers(0, num_departments, n)]
ticket_weights_before = ticket_model.get_weights()
ticket_eval_before = ticket_model.evaluate(
    {"title": title_data, "body": body_data, "tags": tags_data},
    {"priority": priority_targets, "department": dept_targets}, verbose=0, return_dict=True)
ticket_history = ticket_model.fit(
    {"title": title_data, "body": body_data, "tags": tags_data},
    {"priority": priority_targets, "department": dept_targets},
    epochs=1, batch_size=n, shuffle=False, verbose=0)
ticket_predictions = ticket_model.predict([title_data, body_data, tags_data], verbose=0)

# a toy ResNet: residual connections with layers.add
inputs = keras.Input(shape=(6,), name="features")
x = layers.Dense(5, activation="relu")(inputs)
block_1_output = layers.Dense(5, activation="relu")(x)
x = layers.Dense(5, activation="relu")(block_1_output)
block_2_output = layers.add([x, block_1_output])
outputs = layers.Dense(2)(block_2_output)
resnet = keras.Model(inputs, outputs, name="toy_resnet")
resnet.summary()

# a shared layer: one Dense applied to two inputs
shared_dense = layers.Dense(3, name="shared")
text_input_a = keras.Input(shape=(4,), name="a")
text_input_b = keras.Input(shape=(4,), name="b")
encoded_a = shared_dense(text_input_a)
encoded_b = shared_dense(text_input_b)
shared_model = keras.Model([text_input_a, text_input_b], layers.concatenate([encoded_a, encoded_b]))

# feature extraction: every layer's output of a trained graph
features_list = [layer.output for layer in resnet.layers]
feat_extraction_model = keras.Model(inputs=resnet.input, outputs=features_list)
resnet_x = rng.normal(size=(3, 6)).astype("float32")
extracted = feat_extraction_model(resnet_x)
'''

SUBCLASSING = '''
import numpy as np
import keras
from keras import layers
from keras import ops

keras.utils.set_random_seed(4)


class Linear(keras.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal",
                                 trainable=True)
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


x = ops.ones((2, 2))
linear_layer = Linear(4, 2)
y = linear_layer(x)
weights_are_tracked = linear_layer.weights == [linear_layer.w, linear_layer.b]
linear_out = y.numpy()


class ComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


my_sum = ComputeSum(2)
sums = [np.array(my_sum(x).numpy()) for _ in range(2)]
print("weights:", len(my_sum.weights))
print("non-trainable weights:", len(my_sum.non_trainable_weights))
print("trainable_weights:", my_sum.trainable_weights)


class Linear(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                                 trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


lazy_linear = Linear(32)
lazy_built_before = lazy_linear.built
_ = lazy_linear(x)
lazy_shapes = [tuple(w.shape) for w in lazy_linear.weights]


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = Linear(32)
        self.linear_2 = Linear(32)
        self.linear_3 = Linear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


mlp = MLPBlock()
y = mlp(ops.ones(shape=(3, 64)))
print("weights:", len(mlp.weights))
print("trainable weights:", len(mlp.trainable_weights))


class ActivityRegularizationLayer(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class OuterLayer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


layer = OuterLayer()
n_losses = [len(layer.losses)]
_ = layer(ops.zeros((1, 1)))
n_losses.append(len(layer.losses))
_ = layer(ops.zeros((1, 1)))
n_losses.append(len(layer.losses))


class OuterLayerWithKernelRegularizer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(32, kernel_regularizer=keras.regularizers.l2(1e-3))

    def call(self, inputs):
        return self.dense(inputs)


reg_layer = OuterLayerWithKernelRegularizer()
_ = reg_layer(ops.zeros((1, 1)))
reg_losses = [float(v.numpy()) for v in reg_layer.losses]
reg_kernel = reg_layer.dense.kernel.numpy()

inputs = keras.Input(shape=(3,))
outputs = ActivityRegularizationLayer()(inputs)
act_model = keras.Model(inputs, outputs)
act_x, act_y = np.random.random((2, 3)), np.random.random((2, 3))
act_model.compile(optimizer="adam", loss="mse")
act_model.fit(act_x, act_y, verbose=0)
act_eval_with_loss = act_model.evaluate(act_x, act_y, verbose=0)
act_model.compile(optimizer="adam")
act_model.fit(act_x, act_y, verbose=0)
act_eval_without_loss = act_model.evaluate(act_x, act_y, verbose=0)

layer = Linear(64)
config = layer.get_config()
print(config)
new_layer = Linear.from_config(config)


class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        if training:
            return keras.random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
        return inputs


custom_dropout = CustomDropout(0.5)
dropout_inference = custom_dropout(ops.ones((2, 50))).numpy()
dropout_training = custom_dropout(ops.ones((2, 50)), training=True).numpy()


# the end-to-end example: a variational autoencoder
class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    def __init__(self, latent_dim=4, intermediate_dim=16, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


class Decoder(layers.Layer):
    def __init__(self, original_dim, intermediate_dim=16, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


class VariationalAutoEncoder(keras.Model):
    def __init__(self, original_dim, intermediate_dim=16, latent_dim=4,
                 name="autoencoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl_loss)
        return reconstructed


original_dim = 20
rng = np.random.default_rng(4)
x_train = rng.random((200, original_dim)).astype("float32")
vae = VariationalAutoEncoder(original_dim, 16, 4)
optimizer = keras.optimizers.Adam(learning_rate=1e-3)
vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
vae_history = vae.fit(x_train, x_train, epochs=4, batch_size=64, verbose=0)
'''

CALLBACKS = '''
import numpy as np
import keras

keras.utils.set_random_seed(5)
rng = np.random.default_rng(5)
x_train = rng.random((128, 5)).astype("float32")
y_train = (x_train @ np.arange(1.0, 6.0) / 5).astype("float32")
x_test, y_test = x_train[:64], y_train[:64]


def get_model():
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
                  loss="mean_squared_error", metrics=["mean_absolute_error"])
    return model


class CustomCallback(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        print("Starting training; got log keys: {}".format(list(logs.keys())))

    def on_train_end(self, logs=None):
        print("Stop training; got log keys: {}".format(list(logs.keys())))

    def on_epoch_begin(self, epoch, logs=None):
        print("Start epoch {} of training; got log keys: {}".format(epoch, list(logs.keys())))

    def on_epoch_end(self, epoch, logs=None):
        print("End epoch {} of training; got log keys: {}".format(epoch, list(logs.keys())))

    def on_test_begin(self, logs=None):
        print("Start testing; got log keys: {}".format(list(logs.keys())))

    def on_test_end(self, logs=None):
        print("Stop testing; got log keys: {}".format(list(logs.keys())))

    def on_predict_begin(self, logs=None):
        print("Start predicting; got log keys: {}".format(list(logs.keys())))

    def on_predict_end(self, logs=None):
        print("Stop predicting; got log keys: {}".format(list(logs.keys())))

    def on_train_batch_begin(self, batch, logs=None):
        print("...Training: start of batch {}; got log keys: {}".format(batch, list(logs.keys())))

    def on_train_batch_end(self, batch, logs=None):
        print("...Training: end of batch {}; got log keys: {}".format(batch, list(logs.keys())))

    def on_test_batch_begin(self, batch, logs=None):
        print("...Evaluating: start of batch {}; got log keys: {}".format(batch, list(logs.keys())))

    def on_test_batch_end(self, batch, logs=None):
        print("...Evaluating: end of batch {}; got log keys: {}".format(batch, list(logs.keys())))

    def on_predict_batch_begin(self, batch, logs=None):
        print("...Predicting: start of batch {}; got log keys: {}".format(batch, list(logs.keys())))

    def on_predict_batch_end(self, batch, logs=None):
        print("...Predicting: end of batch {}; got log keys: {}".format(batch, list(logs.keys())))


model = get_model()
model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0, validation_split=0.5,
          callbacks=[CustomCallback()])
res = model.evaluate(x_test, y_test, batch_size=32, verbose=0, callbacks=[CustomCallback()])
res = model.predict(x_test, batch_size=32, verbose=0, callbacks=[CustomCallback()])


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.train_batch, self.test_batch = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.train_batch.append(logs["loss"])
        print("Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

    def on_test_batch_end(self, batch, logs=None):
        self.test_batch.append(logs["loss"])
        print("Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        print("The average loss for epoch {} is {:7.2f} and mean absolute error is {:7.2f}."
              .format(epoch, logs["loss"], logs["mean_absolute_error"]))


printing = LossAndErrorPrintingCallback()
model = get_model()
printing_history = model.fit(x_train, y_train, batch_size=32, epochs=2, verbose=0,
                             callbacks=[printing])
printing_eval = model.evaluate(x_test, y_test, batch_size=32, verbose=0, callbacks=[printing])


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    """Stop training when the loss is at its min, i.e. the loss stops decreasing."""

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        self.best_weights = None
        self.weights_by_epoch = []

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        self.weights_by_epoch.append(self.model.get_weights())
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                print("Restoring model weights from the end of the best epoch.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


stopper = EarlyStoppingAtMinLoss()
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.2), loss="mean_squared_error")
stopping_history = model.fit(x_train, y_train, batch_size=128, epochs=30, verbose=0,
                             shuffle=False, callbacks=[stopper])
weights_after_stopping = model.get_weights()


class CustomLearningRateScheduler(keras.callbacks.Callback):
    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule
        self.rates = []

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        lr = self.model.optimizer.learning_rate
        scheduled_lr = self.schedule(epoch, lr)
        self.model.optimizer.learning_rate = scheduled_lr
        self.rates.append(float(np.array(self.model.optimizer.learning_rate)))
        print(f"Epoch {epoch}: Learning rate is {float(np.array(scheduled_lr))}.")


LR_SCHEDULE = [(1, 0.05), (3, 0.01), (4, 0.005)]


def lr_schedule(epoch, lr):
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr


scheduler = CustomLearningRateScheduler(lr_schedule)
model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mean_squared_error")
scheduled_initial = model.get_weights()
model.fit(x_train, y_train, batch_size=128, epochs=6, verbose=0, shuffle=False,
          callbacks=[scheduler])
scheduled_final = model.get_weights()
'''

CUSTOM_FIT = '''
import numpy as np
import keras
from keras import layers
import torch

keras.utils.set_random_seed(6)
rng = np.random.default_rng(6)
x = rng.random((96, 8)).astype("float32")
y = (x @ rng.normal(size=(8, 1)) + 0.1).astype("float32")
sw = rng.uniform(0.5, 2.0, size=96).astype("float32")


class CustomModel(keras.Model):
    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def functional_net(cls):
    inputs = keras.Input(shape=(8,))
    hidden = layers.Dense(6, activation="tanh")(inputs)
    outputs = layers.Dense(1)(hidden)
    return cls(inputs, outputs)


keras.utils.set_random_seed(7)
model = functional_net(CustomModel)
model.compile(optimizer="adam", loss="mse", metrics=["mae"])
custom_history = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0)
custom_weights = model.get_weights()

keras.utils.set_random_seed(7)
plain = functional_net(keras.Model)
plain.compile(optimizer="adam", loss="mse", metrics=["mae"])
plain_history = plain.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0)
plain_weights = plain.get_weights()


class LowLevelModel(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.loss_fn(y, y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


class BatchLosses(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append([])

    def on_train_batch_begin(self, batch, logs=None):
        # the loss of this batch before its update: the tracker's next value
        xb, yb = x[32 * batch:32 * (batch + 1)], y[32 * batch:32 * (batch + 1)]
        self.epochs[-1].append(float(np.mean((self.model.predict(xb, verbose=0) - yb) ** 2)))


low_level = functional_net(LowLevelModel)
low_level.compile(optimizer="adam")
batch_losses = BatchLosses()
low_level_history = low_level.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0,
                                  callbacks=[batch_losses])


class WeightedModel(keras.Model):
    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}


weighted = functional_net(WeightedModel)
weighted.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse",
                 metrics=["mae"])
weighted_initial = weighted.get_weights()
weighted_history = weighted.fit(x, y, sample_weight=sw, epochs=1, batch_size=96,
                                shuffle=False, verbose=0)
weighted_final = weighted.get_weights()


class EvalModel(keras.Model):
    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name != "loss":
                metric.update_state(y, y_pred)
            else:
                metric.update_state(loss)
        return {m.name: m.result() for m in self.metrics}


eval_model = functional_net(EvalModel)
eval_model.compile(loss="mse", metrics=["mae"])
eval_results = eval_model.evaluate(x, y, batch_size=32, verbose=0)
eval_predictions = eval_model.predict(x, verbose=0)
'''

GAN = '''
import numpy as np
import keras
from keras import layers
import torch

keras.utils.set_random_seed(8)
latent_dim = 4
discriminator = keras.Sequential(
    [keras.Input(shape=(16,)), layers.Dense(8), layers.LeakyReLU(negative_slope=0.2),
     layers.Dense(1)], name="discriminator")
generator = keras.Sequential(
    [keras.Input(shape=(latent_dim,)), layers.Dense(8), layers.LeakyReLU(negative_slope=0.2),
     layers.Dense(16, activation="sigmoid")], name="generator")


class GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.built = True

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real_images):
        if isinstance(real_images, tuple) or isinstance(real_images, list):
            real_images = real_images[0]
        batch_size = real_images.shape[0]
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        generated_images = self.generator(random_latent_vectors)
        real_images = torch.tensor(real_images)
        combined_images = torch.concat([generated_images, real_images], axis=0)
        labels = torch.concat(
            [torch.ones((batch_size, 1)), torch.zeros((real_images.shape[0], 1))], axis=0)
        labels += 0.05 * keras.random.uniform(labels.shape, seed=self.seed_generator)

        self.zero_grad()
        predictions = self.discriminator(combined_images)
        d_loss = self.loss_fn(labels, predictions)
        d_loss.backward()
        grads = [v.value.grad for v in self.discriminator.trainable_weights]
        with torch.no_grad():
            self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        misleading_labels = torch.zeros((batch_size, 1))
        self.zero_grad()
        predictions = self.discriminator(self.generator(random_latent_vectors))
        g_loss = self.loss_fn(misleading_labels, predictions)
        g_loss.backward()
        grads = [v.value.grad for v in self.generator.trainable_weights]
        with torch.no_grad():
            self.g_optimizer.apply(grads, self.generator.trainable_weights)

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


rng = np.random.default_rng(8)
all_digits = rng.random((64, 16)).astype("float32")
gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
gan.compile(
    d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
    g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
    loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
)
d_initial, g_initial = discriminator.get_weights(), generator.get_weights()
gan_history = gan.fit(all_digits, batch_size=64, epochs=1, shuffle=False, verbose=0)
d_final, g_final = discriminator.get_weights(), generator.get_weights()
'''

SCRIPTS = {"functional": FUNCTIONAL, "subclassing": SUBCLASSING, "callbacks": CALLBACKS,
           "custom_fit": CUSTOM_FIT, "gan": GAN}
