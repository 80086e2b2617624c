# variant: correct
# what: debugging prints inside the engine (stdout and stderr), and the reductions that
#   call Python's builtin sum inside (it must still be the builtin)
# assignment: 04_autodiff
# %% id=tensor_ops
import sys


@add_to_class(Tensor)
def __matmul__(self, other):
    print("matmul", self.data.shape, other.data.shape)
    out = Tensor(self.data @ other.data, (self, other), "@")

    def _backward():
        print("matmul backward", file=sys.stderr)
        if self.requires_grad:
            self._accumulate(out.grad @ other.data.T)
        if other.requires_grad:
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
    total = sum(self.data.ravel().tolist())  # Python's sum, still the builtin
    out = Tensor(total, (self,), "sum")

    def _backward():
        if self.requires_grad:
            self._accumulate(np.broadcast_to(out.grad, self.data.shape))

    out._backward = _backward
    return out


@add_to_class(Tensor)
def mean(self):
    out = Tensor(self.data.sum() / self.data.size, (self,), "mean")

    def _backward():
        if self.requires_grad:
            self._accumulate(np.full(self.data.shape, out.grad / self.data.size))

    out._backward = _backward
    return out
