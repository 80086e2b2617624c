# variant: correct
# what: tanh from exponentials (stable for both signs), sigmoid through tanh, ReLU with if,
#   the log derivative as 1/x times out.grad, derivatives computed in the closure
# assignment: 04_autodiff
# %% id=value_ops
@add_to_class(Value)
def log(self):
    out = Value(math.log(self.data), (self,), "log")

    def _backward():
        self.grad += (1.0 / self.data) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def tanh(self):
    x = self.data
    if x >= 0:
        e = math.exp(-2 * x)
        t = (1 - e) / (1 + e)
    else:
        e = math.exp(2 * x)
        t = (e - 1) / (e + 1)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - out.data * out.data) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def relu(self):
    if self.data > 0:
        out = Value(self.data, (self,), "relu")
    else:
        out = Value(0.0, (self,), "relu")

    def _backward():
        if self.data > 0:
            self.grad += out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def sigmoid(self):
    s = 0.5 * (1.0 + math.tanh(0.5 * self.data))
    out = Value(s, (self,), "sigmoid")

    def _backward():
        self.grad += out.data * (1 - out.data) * out.grad

    out._backward = _backward
    return out
