# variant: wrong
# what: the product assigns its gradients (=) instead of adding them (+=)
# assignment: 04_autodiff
# zero: test_value_core, test_value_arith, test_value_ops
# message: `+=`
# %% id=value_core
@add_to_class(Value)
def __mul__(self, other):
    other = other if isinstance(other, Value) else Value(other)
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad = other.data * out.grad
        other.grad = self.data * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def backward(self):
    topo, visited = [], set()

    def build(node):
        if node not in visited:
            visited.add(node)
            for child in node._prev:
                build(child)
            topo.append(node)

    build(self)
    self.grad = 1.0
    for node in reversed(topo):
        node._backward()
