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
