# variant: wrong
# what: Sequential.parameters() returns the parameters of the first layer only
# assignment: 04_autodiff
# zero: test_modules, test_train_step
# message: were not collected
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
            p.grad = None


class Linear(Module):
    def __init__(self, num_inputs, num_outputs, rng):
        k = 1.0 / math.sqrt(num_inputs)
        self.W = Tensor(rng.uniform(-k, k, size=(num_inputs, num_outputs)), requires_grad=True)
        self.b = Tensor(rng.uniform(-k, k, size=num_outputs), requires_grad=True)

    def forward(self, x):
        return x @ self.W + self.b

    def parameters(self):
        return [self.W, self.b]


class ReLU(Module):
    def forward(self, x):
        return x.relu()


class Sequential(Module):
    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return self.layers[0].parameters()
