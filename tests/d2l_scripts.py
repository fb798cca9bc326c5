"""Our own code in the style of the PyTorch edition of "Dive into Deep Learning" (d2l.ai):
linear regression from scratch and concise, softmax regression from scratch, an MLP from
scratch, dropout and weight decay from scratch and concise, parameter access, initialization
and sharing, saving and loading. Written for PyTorch; ``namespace("tinygrad_edu")`` runs the
same text with only its three import lines changed, as a learner would port it.

The chapter code is split into functions (d2l's helpers and training loops) so that a test can
start both libraries from the same data and the same initial weights."""

from __future__ import annotations

SOURCE = '''
import random
import torch
from torch import nn
from torch.utils import data


# --- linear regression from scratch -------------------------------------------------------
def synthetic_data(w, b, num_examples):
    """y = Xw + b + noise."""
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def train_linreg_scratch(features, labels, w, b, lr=0.03, num_epochs=3, batch_size=10):
    net, loss = linreg, squared_loss
    history = []
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            l = loss(net(X, w, b), y)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
        with torch.no_grad():
            train_l = loss(net(features, w, b), labels)
            print(f'epoch {epoch + 1}, loss {float(train_l.mean()):f}')
            history.append(float(train_l.mean()))
    return history


def linreg_scratch_chapter():
    true_w = torch.tensor([2, -3.4])
    true_b = 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)
    w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    history = train_linreg_scratch(features, labels, w, b)
    return history, true_w - w.reshape(true_w.shape), true_b - b


# --- linear regression, concise -----------------------------------------------------------
def load_array(data_arrays, batch_size, is_train=True):
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


def train_linreg_concise(net, features, labels, num_epochs=3, batch_size=10, is_train=True):
    data_iter = load_array((features, labels), batch_size, is_train)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=0.03)
    history = []
    for epoch in range(num_epochs):
        for X, y in data_iter:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
        l = loss(net(features), labels)
        print(f'epoch {epoch + 1}, loss {l:f}')
        history.append(float(l))
    return history


def linreg_concise_chapter():
    true_w = torch.tensor([2, -3.4])
    true_b = 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)
    first = next(iter(load_array((features, labels), 10)))
    net = nn.Sequential(nn.Linear(2, 1))
    nn.init.normal_(net[0].weight, 0, 0.01)
    nn.init.zeros_(net[0].bias)
    history = train_linreg_concise(net, features, labels)
    w = net[0].weight.data
    b = net[0].bias.data
    return first, history, true_w - w.reshape(true_w.shape), true_b - b


# --- softmax regression from scratch ------------------------------------------------------
def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition


def make_softmax_net(W, b):
    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)
    return net


def cross_entropy(y_hat, y):
    return - torch.log(y_hat[range(len(y_hat)), y])


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


class Accumulator:
    """Sums over n variables."""
    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_epoch_ch3(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater):
    history = []
    for epoch in range(num_epochs):
        train_metrics = train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        history.append((*train_metrics, test_acc))
    return history


def softmax_scratch(W, b, train_iter, test_iter, num_epochs=5, lr=0.1):
    def updater(batch_size):
        return sgd([W, b], lr, batch_size)
    net = make_softmax_net(W, b)
    return train_ch3(net, train_iter, test_iter, cross_entropy, num_epochs, updater)


# --- multilayer perceptron from scratch ---------------------------------------------------
def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def mlp_params(num_inputs, num_hiddens, num_outputs):
    W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens, requires_grad=True) * 0.01)
    b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
    W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs, requires_grad=True) * 0.01)
    b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
    return [W1, b1, W2, b2]


def mlp_scratch(params, train_iter, test_iter, num_epochs=5, lr=0.1):
    W1, b1, W2, b2 = params
    num_inputs = W1.shape[0]

    def net(X):
        X = X.reshape((-1, num_inputs))
        H = relu(X@W1 + b1)
        return (H@W2 + b2)

    loss = nn.CrossEntropyLoss(reduction='none')
    updater = torch.optim.SGD(params, lr=lr)
    return train_ch3(net, train_iter, test_iter, loss, num_epochs, updater)


# --- dropout from scratch -----------------------------------------------------------------
def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


class DropoutNet(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2,
                 dropout1=0.2, dropout2=0.5, is_training=True):
        super(DropoutNet, self).__init__()
        self.num_inputs = num_inputs
        self.training = is_training
        self.dropout1, self.dropout2 = dropout1, dropout2
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        if self.training == True:
            H1 = dropout_layer(H1, self.dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training == True:
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)


def dropout_concise_net(num_inputs, num_outputs, dropout1=0.2, dropout2=0.5):
    def init_weights(m):
        if type(m) == nn.Linear:
            nn.init.normal_(m.weight, std=0.01)
    net = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, 32), nn.ReLU(),
                        nn.Dropout(dropout1), nn.Linear(32, 16), nn.ReLU(),
                        nn.Dropout(dropout2), nn.Linear(16, num_outputs))
    return net.apply(init_weights)


def train_concise(net, train_iter, test_iter, num_epochs=5, lr=0.1):
    loss = nn.CrossEntropyLoss(reduction='none')
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    return train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer)


# --- weight decay -------------------------------------------------------------------------
def init_params(num_inputs):
    w = torch.normal(0, 1, size=(num_inputs, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return [w, b]


def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2


def evaluate_loss(net, data_iter, loss):
    metric = Accumulator(2)
    for X, y in data_iter:
        out = net(X)
        y = y.reshape(out.shape)
        l = loss(out, y)
        metric.add(l.sum(), l.numel())
    return metric[0] / metric[1]


def weight_decay_scratch(w, b, train_iter, lambd, num_epochs=5, lr=0.003):
    net, loss = lambda X: linreg(X, w, b), squared_loss
    history = []
    for epoch in range(num_epochs):
        for X, y in train_iter:
            l = loss(net(X), y) + lambd * l2_penalty(w)
            l.sum().backward()
            sgd([w, b], lr, X.shape[0])
        history.append(evaluate_loss(net, train_iter, loss))
    return history, torch.norm(w).item()


def weight_decay_concise(net, train_iter, wd, num_epochs=5, lr=0.003):
    loss = nn.MSELoss(reduction='none')
    trainer = torch.optim.SGD([
        {"params": net[0].weight, 'weight_decay': wd},
        {"params": net[0].bias}], lr=lr)
    history = []
    for epoch in range(num_epochs):
        for X, y in train_iter:
            trainer.zero_grad()
            l = loss(net(X), y)
            l.mean().backward()
            trainer.step()
        history.append(evaluate_loss(net, train_iter, loss))
    return history, net[0].weight.norm().item()


# --- parameters: access, initialization, sharing ------------------------------------------
def init_normal(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, mean=0, std=0.01)
        nn.init.zeros_(m.bias)


def init_constant(m):
    if type(m) == nn.Linear:
        nn.init.constant_(m.weight, 1)
        nn.init.zeros_(m.bias)


def init_xavier(m):
    if type(m) == nn.Linear:
        nn.init.xavier_uniform_(m.weight)


def init_42(m):
    if type(m) == nn.Linear:
        nn.init.constant_(m.weight, 42)


def block1():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4), nn.ReLU())


def block2():
    net = nn.Sequential()
    for i in range(4):
        net.add_module(f'block {i}', block1())
    return net


def shared_net():
    shared = nn.Linear(8, 8)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(),
                         shared, nn.ReLU(),
                         shared, nn.ReLU(),
                         nn.Linear(8, 1))


# --- saving and loading -------------------------------------------------------------------
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(20, 64)
        self.output = nn.Linear(64, 10)

    def forward(self, x):
        return self.output(nn.functional.relu(self.hidden(x)))


def save_and_clone(net, path):
    torch.save(net.state_dict(), path)
    clone = MLP()
    clone.load_state_dict(torch.load(path))
    clone.eval()
    return clone
'''

PORTED_IMPORTS = {
    "import torch\n": "import tinygrad_edu as torch\n",
    "from torch import nn\n": "from tinygrad_edu import nn\n",
    "from torch.utils import data\n": "from tinygrad_edu.utils import data\n",
}


def ported(source: str = SOURCE) -> str:
    """``source`` with its PyTorch imports changed to tinygrad_edu's, and nothing else."""
    for theirs, ours in PORTED_IMPORTS.items():
        assert theirs in source, theirs
        source = source.replace(theirs, ours)
    return source


def namespace(library: str) -> dict:
    """The scripts' functions, run on ``"torch"`` or ported to ``"tinygrad_edu"``."""
    source = SOURCE if library == "torch" else ported()
    names: dict = {"__name__": f"d2l_on_{library}"}
    exec(compile(source, f"<d2l scripts on {library}>", "exec"), names)
    return names
