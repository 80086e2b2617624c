# fails: test_value_ops, test_unbroadcast, test_tensor_ops, test_cross_entropy
# A student who is nearly there: tanh's derivative is taken as 1 - t instead of
# 1 - t**2, unbroadcast sums the axes broadcasting added in front but forgets the
# axes of size 1 (so Tensor's broadcasting add breaks too, though the MLP's bias,
# which only gains a leading axis, still works), and cross_entropy skips the max
# shift: right on ordinary logits, inf/NaN on the hidden test's large ones.

# %% id=value_ops
@add_to_class(Value)
def exp(self):
    """e ** self. Local derivative: exp(self), which is out.data."""
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def log(self):
    """Natural logarithm, for self.data > 0. Local derivative: 1 / self.data."""
    out = Value(math.log(self.data), (self,), "log")

    def _backward():
        self.grad += out.grad / self.data

    out._backward = _backward
    return out


@add_to_class(Value)
def tanh(self):
    """tanh(self)."""
    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def relu(self):
    """max(self, 0)."""
    out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

    def _backward():
        self.grad += (self.data > 0) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def sigmoid(self):
    """1 / (1 + exp(-self)), stable."""
    x = self.data
    s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
    out = Value(s, (self,), "sigmoid")

    def _backward():
        self.grad += s * (1 - s) * out.grad

    out._backward = _backward
    return out

# %% id=unbroadcast
def unbroadcast(grad, shape):
    """Sum grad down to shape."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    return grad

# %% id=cross_entropy
def cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits) against integer labels."""
    e = np.exp(logits.data)
    probs = e / e.sum(axis=1, keepdims=True)
    n = len(y)
    out = Tensor(-np.log(probs[np.arange(n), y]).mean(), (logits,), "cross_entropy")

    def _backward():
        d = probs.copy()
        d[np.arange(n), y] -= 1
        logits._accumulate(d / n * out.grad)

    out._backward = _backward
    return out
