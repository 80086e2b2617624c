# variant: correct
# what: np.matmul and einsum in the matrix product's backward, np.where for ReLU, the
#   reductions through np.full and np.ones, unbroadcast through reshape-and-sum
# assignment: 04_autodiff
# %% id=unbroadcast
def unbroadcast(grad, shape):
    grad = np.asarray(grad, dtype=np.float64)
    padded = (1,) * (grad.ndim - len(shape)) + tuple(shape)
    axes = tuple(i for i, (g, s) in enumerate(zip(grad.shape, padded)) if s == 1 and g != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad.reshape(shape)
# %% id=tensor_ops
@add_to_class(Tensor)
def __matmul__(self, other):
    out = Tensor(np.matmul(self.data, other.data), (self, other), "@")

    def _backward():
        if self.requires_grad:
            self._accumulate(np.einsum("nm,dm->nd", out.grad, other.data))
        if other.requires_grad:
            other._accumulate(np.matmul(self.data.T, out.grad))

    out._backward = _backward
    return out


@add_to_class(Tensor)
def relu(self):
    out = Tensor(np.where(self.data > 0, self.data, 0.0), (self,), "relu")

    def _backward():
        if self.requires_grad:
            self._accumulate(np.where(self.data > 0, out.grad, 0.0))

    out._backward = _backward
    return out


@add_to_class(Tensor)
def sum(self):
    out = Tensor(np.sum(self.data), (self,), "sum")

    def _backward():
        if self.requires_grad:
            self._accumulate(np.full(self.data.shape, out.grad))

    out._backward = _backward
    return out


@add_to_class(Tensor)
def mean(self):
    out = Tensor(np.mean(self.data), (self,), "mean")

    def _backward():
        if self.requires_grad:
            self._accumulate(np.ones(self.data.shape) * (out.grad / np.prod(self.data.shape)))

    out._backward = _backward
    return out
