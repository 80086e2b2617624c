# variant: correct
# what: other valid formulas: sigmoid through tanh, tanh through exp and its derivative as
#   1/cosh² of the cached input, the neuron's σ'(z) recomputed from z with math.exp, caches
#   that keep the input as well as the output
# assignment: 03_backprop
# %% id=neuron_chain
import math


def neuron_forward(w, x, b, y):
    z = w * x + b
    h = 1 / (1 + math.exp(-z))
    return 0.5 * (h - y) ** 2, {"z": z, "h": h, "x": x, "y": y}


def neuron_backward(cache):
    z = cache["z"]
    s = 1 / (1 + math.exp(-z))
    dh = cache["h"] - cache["y"]
    dz = dh * s * (1 - s)
    return dh, dz, dz * cache["x"], dz
# %% id=sigmoid_layer
def sigmoid_forward(x):
    out = 0.5 * (1 + np.tanh(x / 2))
    return out, {"x": x, "out": out}


def sigmoid_backward(dout, cache):
    s = cache["out"]
    return dout * (s - s**2)
# %% id=tanh_layer
def tanh_forward(x):
    e = np.exp(-2 * np.abs(x))
    out = np.sign(x) * (1 - e) / (1 + e)
    return out, x


def tanh_backward(dout, cache):
    return dout / np.cosh(cache) ** 2
