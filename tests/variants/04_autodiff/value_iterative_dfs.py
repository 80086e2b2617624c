# variant: correct
# what: an iterative depth-first search with an explicit stack (no recursion), ids in the
#   visited set, and the product written with a helper
# assignment: 04_autodiff
# %% id=value_core
def _as_value(x):
    return x if isinstance(x, Value) else Value(x)


@add_to_class(Value)
def __mul__(self, other):
    other = _as_value(other)
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad = self.grad + other.data * out.grad
        other.grad = other.grad + self.data * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def backward(self):
    order, visited = [], set()
    stack = [(self, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for child in node._prev:
            if id(child) not in visited:
                stack.append((child, False))
    self.grad = 1.0
    for node in order[::-1]:
        node._backward()
