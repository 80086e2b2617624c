# variant: wrong
# what: cross-entropy summed over the batch instead of averaged (loss and gradient N times
#   too large)
# assignment: 04_autodiff
# zero: test_cross_entropy, test_mlp_loss, test_train_step
# %% id=cross_entropy
def cross_entropy(logits, y):
    z = logits.data - logits.data.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    n = z.shape[0]
    out = Tensor(-log_probs[np.arange(n), y].sum(), (logits,), "cross_entropy")

    def _backward():
        if logits.requires_grad:
            dlogits = np.exp(log_probs)
            dlogits[np.arange(n), y] -= 1.0
            logits._accumulate(dlogits * out.grad)

    out._backward = _backward
    return out
