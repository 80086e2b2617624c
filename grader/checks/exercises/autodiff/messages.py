"""The messages of assignment 04's checks · 作业 04 检查使用的消息."""

from __future__ import annotations

from grader.checks import messages as M

M.register(
    {
        "autodiff_hdr_data": ("`{node}.data` is wrong", "`{node}.data` 不正确"),
        "autodiff_hdr_grad": (
            "`{node}.grad` does not match PyTorch autograd",
            "`{node}.grad` 与 PyTorch 自动微分的结果不一致",
        ),
        "autodiff_hdr_not_value": (
            "`{function}` did not return a node",
            "`{function}` 没有返回节点",
        ),
        "autodiff_not_value": (
            "`{function}` should return a new {cls} whose `.{attr}` is {what}, but it "
            "returned {found}.",
            "`{function}` 应当返回一个新的 {cls}，其 `.{attr}` 是{what}，实际返回了 {found}。",
        ),
        "autodiff_hint_return": (
            "Did you forget `return out` at the end of the method?",
            "是否忘了在方法末尾写 `return out`？",
        ),
        "autodiff_found_array": ("an array of shape {shape}", "一个形状为 {shape} 的数组"),
        "autodiff_hdr_grad_none": ("`{name}.grad` should be None", "`{name}.grad` 应当是 None"),
        "autodiff_grad_before": (
            "Before backward(), `{name}.grad` should be None: a gradient is created only when "
            "the first contribution arrives (found {found}).",
            "调用 backward() 之前，`{name}.grad` 应当是 None：梯度只在第一份贡献到达时才创建"
            "（实际是{found}）。",
        ),
        "autodiff_grad_not_required": (
            "`{name}` was made without requires_grad, so no gradient may be computed for it and "
            "`{name}.grad` should stay None after backward() (found {found}). Give a "
            "contribution only to an input that requires it: `if x.requires_grad: "
            "x._accumulate(...)`.",
            "`{name}` 创建时没有设置 requires_grad，所以不应为它计算梯度，backward() 之后 "
            "`{name}.grad` 应当仍是 None（实际是{found}）。只把贡献交给需要梯度的输入："
            "`if x.requires_grad: x._accumulate(...)`。",
        ),
        "autodiff_hint_grad_none": (
            "Likely mistake: `.grad` is None until the first gradient arrives, so `+=` on it "
            "fails. Add every contribution with `x._accumulate(...)`.",
            "可能的错误：在第一份梯度到达之前 `.grad` 是 None，所以对它用 `+=` 会出错。"
            "请用 `x._accumulate(...)` 添加每一份贡献。",
        ),
        # --- 4.8-4.10: modules, SGD, a training step ------------------------------------
        "autodiff_hdr_parameters": ("`{model}.parameters()` is wrong",
                                    "`{model}.parameters()` 不正确"),
        "autodiff_parameter_count": (
            "`{model}.parameters()` returned {found} parameters; expected {expected}: W and b "
            "of every Linear, in the order of the layers.",
            "`{model}.parameters()` 返回了 {found} 个参数，期望 {expected} 个：按层的顺序，"
            "每个 Linear 的 W 和 b。",
        ),
        "autodiff_hint_collect": (
            "Likely mistake: the parameters of some layers were not collected. "
            "Linear.parameters() returns [W, b]; Sequential.parameters() joins the lists of "
            "all its layers (a ReLU has none).",
            "可能的错误：有些层的参数没有被收集。Linear.parameters() 返回 [W, b]；"
            "Sequential.parameters() 把所有层的列表连接起来（ReLU 没有参数）。",
        ),
        "autodiff_hdr_init": (
            "the initial `{name}` of Linear({num_inputs}, {num_outputs}) is wrong",
            "Linear({num_inputs}, {num_outputs}) 的初始 `{name}` 不正确",
        ),
        "autodiff_requires_grad": (
            "`{name}` should be a Tensor with requires_grad=True, so that backward() gives "
            "it a gradient (found requires_grad={found}).",
            "`{name}` 应当是 requires_grad=True 的 Tensor，这样 backward() 才会给它梯度"
            "（实际 requires_grad={found}）。",
        ),
        "autodiff_init_shape": (
            "`{name}.data` has shape {found}; expected {expected}: W is "
            "`(num_inputs, num_outputs)` and b is `(num_outputs,)`.",
            "`{name}.data` 的形状是 {found}，期望是 {expected}：W 是 "
            "`(num_inputs, num_outputs)`，b 是 `(num_outputs,)`。",
        ),
        "autodiff_init_bounds": (
            "`{name}` should be drawn uniformly from [-k, k] with k = 1/sqrt(num_inputs) = {k} "
            "(rng.uniform(-k, k, size=...)); its values go from {low} to {high}.",
            "`{name}` 应当从 [-k, k] 上均匀抽取，k = 1/sqrt(num_inputs) = {k}"
            "（rng.uniform(-k, k, size=...)）；实际取值从 {low} 到 {high}。",
        ),
        "autodiff_init_constant": (
            "`{name}` should be random (drawn with rng.uniform), but all its {count} values "
            "are equal.",
            "`{name}` 应当是随机的（用 rng.uniform 抽取），但它的 {count} 个值全都相等。",
        ),
        "autodiff_hdr_not_zeroed": ("`{name}.grad` was not reset by {call}",
                                    "{call} 没有重置 `{name}.grad`"),
        "autodiff_not_zeroed": (
            "After {call}, `{name}.grad` should be None (or zeros), but it still holds a "
            "gradient of shape {shape}: the next backward() would add to it.",
            "调用 {call} 之后，`{name}.grad` 应当是 None（或全零），但它仍保存着形状为 {shape} "
            "的梯度：下一次 backward() 会在它上面累加。",
        ),
        "autodiff_own_tensors": (
            "The check set `{name}.data` through the Tensors parameters() returned, but a second "
            "call of parameters() does not show the new values: parameters() must return the "
            "module's own Tensors (the ones forward uses), not new copies.",
            "检查程序通过 parameters() 返回的 Tensor 设置了 `{name}.data`，但再次调用 "
            "parameters() 时看不到新值：parameters() 必须返回模块自己的 Tensor"
            "（即 forward 中用到的那些），而不是新的副本。",
        ),
        "autodiff_hdr_layers": ("`{model}.layers` is wrong", "`{model}.layers` 不正确"),
        "autodiff_layers": (
            "Sequential keeps its layers in `self.layers`, a list of the {count} modules it was "
            "given, in order (found a length of {found}).",
            "Sequential 要把各层保存在 `self.layers` 中：按顺序列出传入的 {count} 个模块"
            "（实际长度为 {found}）。",
        ),
        "autodiff_grad_missing": (
            "`{name}.grad` is None after backward(): parameters() must return the module's own "
            "Tensors (the ones forward uses), not copies.",
            "backward() 之后 `{name}.grad` 是 None：parameters() 必须返回模块自己的 Tensor"
            "（即 forward 中用到的那些），而不是副本。",
        ),
        "autodiff_hint_not_zeroed": (
            "Likely mistake: the gradients were not reset between the two backward passes, so "
            "the second was added to the first. zero_grad() sets every parameter's .grad to "
            "None.",
            "可能的错误：两次反向传播之间梯度没有被重置，第二次的梯度加到了第一次上。"
            "zero_grad() 要把每个参数的 .grad 设为 None。",
        ),
        "autodiff_hint_lr_fixed": (
            "Likely mistake: the learning rate changed between steps, but step() kept using the "
            "first one. Read self.lr inside step().",
            "可能的错误：学习率在两步之间改变了，但 step() 仍在使用最初的学习率。"
            "请在 step() 中读取 self.lr。",
        ),
        "autodiff_loss_float": (
            "train_step should return the loss as a float (`float(loss.data)`), found {found}.",
            "train_step 应当以浮点数返回损失（`float(loss.data)`），实际是 {found}。",
        ),
        "autodiff_hint_no_zero_grad": (
            "Likely mistake: optimizer.zero_grad() is never called, so every step's gradient "
            "is added to all the earlier ones.",
            "可能的错误：从未调用 optimizer.zero_grad()，所以每一步的梯度都加到了之前所有的梯度上。",
        ),
        "autodiff_hint_no_update": (
            "Likely mistake: the parameters did not move, because step() found no gradient: "
            "optimizer.step() must come after loss.backward(), and optimizer.zero_grad() "
            "before loss.backward().",
            "可能的错误：参数没有移动，因为 step() 时没有梯度：optimizer.step() 必须在 "
            "loss.backward() 之后，optimizer.zero_grad() 必须在 loss.backward() 之前。",
        ),
        "autodiff_hint_loss_after": (
            "Likely mistake: the loss returned was computed after the update. Return the loss "
            "of the forward pass that the gradient came from.",
            "可能的错误：返回的损失是在更新之后计算的。请返回与这次梯度对应的那次前向传播的损失。",
        ),
        "autodiff_hint_builds_on": (
            "train_step builds on your cross_entropy, Linear, ReLU, Sequential and SGD: if one "
            "of their checks fails, fix that one first.",
            "train_step 建立在你的 cross_entropy、Linear、ReLU、Sequential 和 SGD 之上："
            "如果其中某个检查没有通过，请先修正它。",
        ),
        "autodiff_not_done_inside": (
            "✗ {exercise}: `{function}`, called by `{caller}`, is not written yet (it raises "
            "NotImplementedError). Replace the `raise NotImplementedError` line with your code.",
            "✗ {exercise}：`{caller}` 调用的 `{function}` 还没有完成（它抛出了 "
            "NotImplementedError）。请把 `raise NotImplementedError` 这一行换成你的代码。",
        ),
        "autodiff_what_number": ("a number", "一个数"),
        "autodiff_what_array": ("an array", "一个数组"),
        "autodiff_found_object": (
            "an object without `.{attr}`",
            "一个没有 `.{attr}` 的对象",
        ),
        "autodiff_found_other": (
            "an object that is not a number",
            "一个不是数的对象",
        ),
        "autodiff_bad_grad": (
            "`{node}.grad` should be a number after backward(), found {found}.",
            "调用 backward() 之后 `{node}.grad` 应当是一个数，实际是 {found}。",
        ),
        "autodiff_wrong_data": (
            "`{node} = {expr}` should have data {expected}, but has {found} "
            "(computed by your `{function}`).",
            "`{node} = {expr}` 的 data 应当是 {expected}，实际是 {found}"
            "（由你的 `{function}` 计算）。",
        ),
        "autodiff_wrong_grad": (
            "`{node}.grad` (that is dL/d{node}) should be {expected}, but is {found}.",
            "`{node}.grad`（即 dL/d{node}）应当是 {expected}，实际是 {found}。",
        ),
        "autodiff_used_by": (
            "`{node}` is used by: {uses}. Their own gradients are right, so the mistake is "
            "in what reaches `{node}` from them.",
            "`{node}` 被这些节点使用：{uses}。它们自己的梯度是对的，所以错误出在它们传回给 "
            "`{node}` 的梯度上。",
        ),
        "autodiff_missing": (
            "Only part of it arrived: the contribution through {missing} is missing.",
            "只收到了一部分：经由 {missing} 传回的贡献丢失了。",
        ),
        "autodiff_program": (
            "The expression, to reproduce it (exactly this code):",
            "出错的表达式（运行下面这段代码即可复现）：",
        ),
        "autodiff_hint_output_grad": (
            "Likely mistake: after L.backward(), L.grad must be 1.0, because dL/dL = 1. "
            "Set it before walking the graph, and do not let the walk change it afterwards.",
            "可能的错误：L.backward() 之后 L.grad 必须是 1.0，因为 dL/dL = 1。"
            "在遍历计算图之前设置它，并且之后不要再改动它。",
        ),
        "autodiff_hint_accumulate": (
            "Likely mistake: a node used more than once loses some of its gradient "
            "contributions. In every _backward, add to the gradient (`+=`), never assign "
            "(`=`): a node's gradient is the sum over all of its uses.",
            "可能的错误：被使用了不止一次的节点丢失了一部分梯度贡献。在每个 _backward 中"
            "都要累加梯度（`+=`），而不是赋值（`=`）：节点的梯度是它所有用处贡献之和。",
        ),
        "autodiff_hint_order": (
            "Likely mistake: the order of backward(). Every operation passed on its own, so "
            "the graph walk is wrong: each node's _backward must run exactly once, and only "
            "after every node that uses it has run its own. Build a topological order "
            "(depth-first, with a `visited` set) and walk it in reverse.",
            "可能的错误：backward() 的顺序不对。每个运算单独检查时都正确，所以问题出在遍历计算图上："
            "每个节点的 _backward 必须恰好运行一次，而且要在所有使用它的节点都运行完之后。"
            "请先求拓扑排序（深度优先，并用 `visited` 集合去重），再逆序遍历。",
        ),
        "autodiff_hint_order_zero": (
            "Likely mistake: the order of backward(). Nothing reached the inputs: a node ran "
            "its _backward while its own .grad was still 0. Walk the topological order in "
            "reverse, from the output back to the leaves.",
            "可能的错误：backward() 的顺序不对。梯度没有传到输入："
            "某个节点在自己的 .grad 还是 0 的时候就运行了 _backward。"
            "请逆序遍历拓扑排序，从输出一直走回叶子节点。",
        ),
        "autodiff_hint_upstream": (
            "Likely mistake: the local derivative is not multiplied by `out.grad`, the "
            "gradient arriving from the output. Chain rule: input.grad += local * out.grad.",
            "可能的错误：局部导数没有乘以 `out.grad`（从输出传回来的梯度）。"
            "链式法则：input.grad += 局部导数 * out.grad。",
        ),
        "autodiff_hint_mul_swap": (
            "Likely mistake: multiplication swaps its inputs in backward: "
            "d(x*y)/dx = y and d(x*y)/dy = x.",
            "可能的错误：乘法在反向传播时要交换输入：d(x*y)/dx = y，d(x*y)/dy = x。",
        ),
        "autodiff_hint_pow": (
            "Likely mistake: the derivative of x**k is k * x**(k - 1): keep the factor k "
            "and lower the exponent by one.",
            "可能的错误：x**k 的导数是 k * x**(k - 1)：要保留系数 k，并把指数减一。",
        ),
        "autodiff_hint_exp": (
            "Likely mistake: the derivative of exp(x) is exp(x) itself, that is `out.data`.",
            "可能的错误：exp(x) 的导数就是 exp(x) 本身，也就是 `out.data`。",
        ),
        "autodiff_hint_log": (
            "Likely mistake: the derivative of log(x) is 1/x, where x is the input "
            "(`self.data`).",
            "可能的错误：log(x) 的导数是 1/x，其中 x 是输入（`self.data`）。",
        ),
        "autodiff_hint_tanh": (
            "Likely mistake: the derivative of tanh is 1 - tanh(x)**2, computed from the "
            "output t = `out.data` and squared: 1 - t**2.",
            "可能的错误：tanh 的导数是 1 - tanh(x)**2，要用输出 t = `out.data` 并平方：1 - t**2。",
        ),
        "autodiff_hint_sigmoid": (
            "Likely mistake: the derivative of the sigmoid is s * (1 - s), where s is the "
            "output (`out.data`), not the input.",
            "可能的错误：sigmoid 的导数是 s * (1 - s)，其中 s 是输出（`out.data`），而不是输入。",
        ),
        "autodiff_hint_relu": (
            "Likely mistake: the derivative of ReLU is 1 where the input is positive and 0 "
            "elsewhere: a mask, not the output value.",
            "可能的错误：ReLU 的导数在输入为正处是 1，其余处是 0：它是一个掩码，而不是输出值。",
        ),
        "autodiff_hint_not_reduced": (
            "Likely mistake: the gradient was not reduced. Sum it over the axes that "
            "broadcasting added in front, and over the axes where the input had size 1.",
            "可能的错误：梯度没有被约简。要沿广播在前面新增的维度求和，并沿输入大小为 1 的维度求和。",
        ),
        "autodiff_hint_keepdims": (
            "Likely mistake: the right numbers, but axes of size 1 were dropped. Sum those "
            "axes with keepdims=True, so the result has exactly the input's shape.",
            "可能的错误：数值对了，但大小为 1 的维度被去掉了。对这些维度求和时使用 keepdims=True，"
            "使结果的形状与输入完全相同。",
        ),
        "autodiff_hint_mean_size": (
            "Likely mistake: the mean's backward must divide by the number of elements "
            "(x.size): each element contributes 1/size of the mean.",
            "可能的错误：mean 的反向传播必须除以元素个数（x.size）：每个元素只占平均值的 1/size。",
        ),
        "autodiff_scalar": (
            "`{name}` should be {expected}, but is {found}.",
            "`{name}` 应当是 {expected}，实际是 {found}。",
        ),
        "autodiff_hint_sum_not_mean": (
            "Likely mistake: broadcast axes were averaged. Every copy made by broadcasting "
            "passes its whole gradient back, so sum them (np.sum), do not average.",
            "可能的错误：对广播的维度取了平均。广播产生的每一份副本都会把完整的梯度传回去，"
            "所以要求和（np.sum），而不是取平均。",
        ),
    }
)


#: The default tolerance, so that the one rule for gradients (grader.checks.policy) applies
