# variant: correct
# what: parametric ReLU written other ways (a maximum and a minimum for the forward, boolean
#   masks times arrays for the derivatives, copies filled by masked assignment), and the
#   questions answered in other accepted forms: the shape as a string, the probability
#   computed with NumPy, an upper-case letter
# assignment: 02_mlp
# %% id=prelu_activation
def prelu(z, alpha):
    return np.maximum(z, 0.0) + alpha * np.minimum(z, 0.0)


def prelu_grad(z, alpha):
    negative = z <= 0
    dz = np.ones(np.shape(z))
    dz[negative] = alpha
    dalpha = z * negative
    return dz, dalpha
# %% id=answer_q2_1
answer_q2_1 = "32 x 64"
# %% id=answer_q2_2
answer_q2_2 = np.exp(6) / (np.exp(6) + np.exp(3) + 1)
# %% id=answer_q2_3
answer_q2_3 = "B"
