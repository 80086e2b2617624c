# variant: correct
# what: the product's local derivatives named first; backward by Kahn's algorithm (counts of
#   users, a queue) instead of a depth-first topological order
# assignment: 04_autodiff
# %% id=value_core
@add_to_class(Value)
def __mul__(self, other):
    if not isinstance(other, Value):
        other = Value(other)
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        d_self = other.data
        d_other = self.data
        self.grad += d_self * out.grad
        other.grad += d_other * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def backward(self):
    # every node reachable from self, and how many times each one is used
    nodes, stack, users = [], [self], {}
    seen = {self}
    while stack:
        node = stack.pop()
        nodes.append(node)
        for child in node._prev:
            users[child] = users.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    self.grad = 1.0
    ready = [self]
    while ready:
        node = ready.pop()
        node._backward()
        for child in node._prev:
            users[child] -= 1
            if users[child] == 0:
                ready.append(child)
