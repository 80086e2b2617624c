# variant: correct
# what: parameters() as a generator (yield from), zero_grad that sets zeros instead of None,
#   the initialisation through rng.random, Sequential that keeps a tuple, ReLU through a
#   Tensor method, an SGD that keeps a tuple and makes new arrays, model.zero_grad() in
#   train_step and the loss read with .item()
# assignment: 04_autodiff
# %% id=modules
class Module:
    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        raise NotImplementedError

    def parameters(self):
        return []

    def zero_grad(self):
        for p in self.parameters():
            p.grad = np.zeros_like(p.data)


class Linear(Module):
    def __init__(self, num_inputs, num_outputs, rng):
        bound = num_inputs ** -0.5
        self.W = Tensor(bound * (2 * rng.random((num_inputs, num_outputs)) - 1),
                        requires_grad=True)
        self.b = Tensor(bound * (2 * rng.random(num_outputs) - 1), requires_grad=True)

    def forward(self, x):
        return (x @ self.W) + self.b

    def parameters(self):
        yield self.W
        yield self.b


class ReLU(Module):
    def forward(self, x):
        return Tensor.relu(x)


class Sequential(Module):
    def __init__(self, *layers):
        self.layers = tuple(layers)

    def forward(self, x):
        out = x
        for layer in self.layers:
            out = layer.forward(out)
        return out

    def parameters(self):
        for layer in self.layers:
            yield from layer.parameters()
# %% id=sgd
class SGD:
    def __init__(self, params, lr):
        self.params = tuple(params)
        self.lr = lr

    def step(self):
        for p in self.params:
            if p.grad is None:
                continue
            p.data = p.data - self.lr * p.grad

    def zero_grad(self):
        for p in self.params:
            p.grad = None
# %% id=train_step
def train_step(model, optimizer, X, y):
    model.zero_grad()
    logits = model(Tensor(X))
    loss = cross_entropy(logits, y)
    loss.backward()
    optimizer.step()
    return loss.data.item()
