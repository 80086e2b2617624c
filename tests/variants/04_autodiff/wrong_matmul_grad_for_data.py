# variant: wrong
# what: the matrix product computes (and stores) a gradient for an input that does not
#   require one: X.grad of the data is filled
# assignment: 04_autodiff
# zero: test_tensor_ops, test_modules
# message: without requires_grad
# %% id=tensor_ops
@add_to_class(Tensor)
def __matmul__(self, other):
    out = Tensor(self.data @ other.data, (self, other), "@")

    def _backward():
        self._accumulate(out.grad @ other.data.T)
        other._accumulate(self.data.T @ out.grad)

    out._backward = _backward
    return out


@add_to_class(Tensor)
def relu(self):
    out = Tensor(np.maximum(self.data, 0.0), (self,), "relu")

    def _backward():
        if self.requires_grad:
            self._accumulate((self.data > 0) * out.grad)

    out._backward = _backward
    return out


@add_to_class(Tensor)
def sum(self):
    out = Tensor(self.data.sum(), (self,), "sum")

    def _backward():
        if self.requires_grad:
            self._accumulate(np.broadcast_to(out.grad, self.data.shape))

    out._backward = _backward
    return out


@add_to_class(Tensor)
def mean(self):
    out = Tensor(self.data.mean(), (self,), "mean")

    def _backward():
        if self.requires_grad:
            self._accumulate(np.broadcast_to(out.grad / self.data.size, self.data.shape))

    out._backward = _backward
    return out
