# variant: wrong
# what: the neuron's weight gradient forgets the factor x: dw = dz
# assignment: 03_backprop
# zero: test_neuron_chain
# message: multiplied by x, 乘以 x
# %% id=neuron_chain
def neuron_forward(w, x, b, y):
    z = w * x + b
    h = 1 / (1 + np.exp(-z))
    return 0.5 * (h - y) ** 2, {"z": z, "h": h, "y": y}


def neuron_backward(cache):
    h = cache["h"]
    dh = h - cache["y"]
    dz = dh * h * (1 - h)
    return dh, dz, dz, dz
