# variant: wrong
# what: the power's local derivative lowers the exponent but forgets the factor k
# assignment: 04_autodiff
# zero: test_value_arith, test_value_ops
# message: keep the factor k
# %% id=value_arith
@add_to_class(Value)
def __radd__(self, other):
    return self + other


@add_to_class(Value)
def __rmul__(self, other):
    return self * other


@add_to_class(Value)
def __neg__(self):
    return self * -1.0


@add_to_class(Value)
def __rsub__(self, other):
    return other + (-self)


@add_to_class(Value)
def __pow__(self, k):
    out = Value(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def __truediv__(self, other):
    return self * other**-1


@add_to_class(Value)
def __rtruediv__(self, other):
    return other * self**-1
