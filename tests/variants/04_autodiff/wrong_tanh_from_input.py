# variant: wrong
# what: tanh's derivative computed from the input x instead of the output t (1 - x**2)
# assignment: 04_autodiff
# zero: test_value_ops
# message: 1 - t**2
# %% id=value_ops
@add_to_class(Value)
def log(self):
    out = Value(math.log(self.data), (self,), "log")

    def _backward():
        self.grad += out.grad / self.data

    out._backward = _backward
    return out


@add_to_class(Value)
def tanh(self):
    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1.0 - self.data**2) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def relu(self):
    out = Value(max(self.data, 0.0), (self,), "relu")

    def _backward():
        self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def sigmoid(self):
    x = self.data
    s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
    out = Value(s, (self,), "sigmoid")

    def _backward():
        self.grad += s * (1.0 - s) * out.grad

    out._backward = _backward
    return out
