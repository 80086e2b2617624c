# variant: wrong
# what: every operation of 4.3 computed in float32 (np.float32 values): right to about
#   7 digits, which the one rule for gradients does not accept
# assignment: 04_autodiff
# zero: test_value_ops
# message: float32
# %% id=value_ops
@add_to_class(Value)
def log(self):
    out = Value(np.float32(np.log(np.float32(self.data))), (self,), "log")

    def _backward():
        self.grad += np.float32(out.grad) / np.float32(self.data)

    out._backward = _backward
    return out


@add_to_class(Value)
def tanh(self):
    t = np.float32(np.tanh(np.float32(self.data)))
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (np.float32(1.0) - t * t) * np.float32(out.grad)

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
    x = np.float32(self.data)
    s = np.float32(1.0) / (np.float32(1.0) + np.exp(-x)) if x >= 0 else np.exp(x) / (np.float32(1.0) + np.exp(x))
    out = Value(s, (self,), "sigmoid")

    def _backward():
        self.grad += s * (np.float32(1.0) - s) * np.float32(out.grad)

    out._backward = _backward
    return out
