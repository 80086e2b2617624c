# hostile: removes the import blocker and points sys.path at every folder where torch could
#   be installed (the virtual environment, the base interpreter, the system), then uses
#   torch's autograd. Nothing of torch exists in the sandbox, so nothing imports.
# assignment: 03_backprop
# zero: test_affine, test_residual_block, test_mlp_loss_and_grads
# flags: file:
# %% id=affine
import glob as _glob
import sys as _sys

_sys.meta_path[:] = [f for f in _sys.meta_path if type(f).__name__ not in ("_Blocker", "_Lazy")]
_sys.path += ["/work/main/.venv/lib/python3.11/site-packages",
              *_glob.glob("/root/.pyenv/versions/*/lib/python3*/site-packages"),
              "/usr/lib/python3/dist-packages", "/usr/local/lib/python3.11/site-packages",
              "/opt/python/lib/python3.11/site-packages"]


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
