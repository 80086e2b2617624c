# variant: correct
# what: division with its own _backward (the quotient rule), the power through math.pow,
#   negation as a product with -1 (an int), numbers on the left wrapped in a Value first
# assignment: 04_autodiff
# %% id=value_arith
@add_to_class(Value)
def __radd__(self, other):
    return Value(other) + self


@add_to_class(Value)
def __rmul__(self, other):
    return Value(other) * self


@add_to_class(Value)
def __neg__(self):
    return self * -1


@add_to_class(Value)
def __rsub__(self, other):
    return Value(other) - self


@add_to_class(Value)
def __pow__(self, k):
    assert isinstance(k, (int, float))
    out = Value(math.pow(self.data, k), (self,), f"**{k}")

    def _backward():
        self.grad += k * math.pow(self.data, k - 1) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def __truediv__(self, other):
    other = other if isinstance(other, Value) else Value(other)
    out = Value(self.data / other.data, (self, other), "/")

    def _backward():
        self.grad += out.grad / other.data
        other.grad += -self.data / other.data**2 * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def __rtruediv__(self, other):
    return Value(other) / self
