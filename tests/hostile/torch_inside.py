# hostile: uses torch (and its autograd) inside a from-scratch function.
# assignment: 03_backprop
# zero: test_affine, test_residual_block, test_mlp_loss_and_grads
# flags: blocked_import:torch
# %% id=affine
def affine_forward(x, w, b):
    import torch

    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    out = xt @ wt + bt
    return out.detach().numpy(), (xt, wt, bt, out)


def affine_backward(dout, cache):
    import torch

    xt, wt, bt, out = cache
    out.backward(torch.tensor(dout))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()
