"""The bilingual catalogue of assignment 02 · 作业 02 的双语消息: headers, hints for the
known mistakes, the questions' hints.
"""

from __future__ import annotations

from grader.checks import messages as M

M.register(
    {
        "mlp_hdr_warning": (
            "`{function}` raised a numerical warning",
            "`{function}` 触发了数值警告",
        ),
        "mlp_warning": (
            "Your `{function}` returned the right values, but NumPy warned: \"{warning}\". "
            "A numerically stable answer never overflows, not even at ±1000 or for logits "
            "of 1e4. Note that np.where(cond, a, b) computes both a and b on every element, "
            "so an exp that overflows in the branch you throw away still warns.",
            "你的 `{function}` 返回值正确，但 NumPy 发出了警告：“{warning}”。"
            "数值稳定的实现在 ±1000 或 1e4 这样的 logits 上也不会溢出。"
            "注意 np.where(cond, a, b) 会对每个元素同时计算 a 和 b，"
            "所以被丢弃的那一支里的 exp 溢出时照样会报警。",
        ),
        "mlp_hdr_mismatch_torch": (
            "`{name}` does not match PyTorch",
            "`{name}` 与 PyTorch 的结果不一致",
        ),
        "mlp_hdr_xor": (
            "the network does not compute XOR",
            "网络没有算出异或（XOR）",
        ),
        "mlp_hdr_params": (
            "`xor_params()` returned parameters of the wrong shape",
            "`xor_params()` 返回的参数形状不对",
        ),
        "mlp_xor_shapes": (
            "Expected `(W1, b1, W2, b2)` with shapes `(2, 2)`, `(2,)`, `(2, 1)`, `(1,)`: two "
            "inputs, two hidden units, one output. Found {found}.",
            "期望返回 `(W1, b1, W2, b2)`，形状依次为 `(2, 2)`、`(2,)`、`(2, 1)`、`(1,)`："
            "两个输入、两个隐藏单元、一个输出。实际是 {found}。",
        ),
        "mlp_xor_not_numbers": ("non-numeric values", "非数值的内容"),
        "mlp_xor_rule": (
            "The check computes y_hat = relu(X @ W1 + b1) @ W2 + b2 and predicts 1 when "
            "y_hat > 0.5. Rows that disagree with XOR are marked ✗:",
            "检查程序计算 y_hat = relu(X @ W1 + b1) @ W2 + b2，y_hat > 0.5 时预测 1。"
            "与异或不一致的行标有 ✗：",
        ),
        "mlp_xor_jitter": (
            "Each input was moved by up to {jitter} from its corner (seed={seed}): a good "
            "network keeps a margin around the threshold.",
            "每个输入在角点附近最多移动了 {jitter}（随机种子 seed={seed}）："
            "好的网络在阈值两侧留有余量。",
        ),
        "mlp_xor_row": (
            "{mark} x = ({x1}, {x2}): y_hat = {y_hat}, predicts {pred}, XOR is {target}",
            "{mark} x = ({x1}, {x2}) 时 y_hat = {y_hat}，预测 {pred}，异或为 {target}",
        ),
        # --- hints: activations ------------------------------------------------
        "mlp_hint_stable_sigmoid": (
            "Hint: only ever take np.exp of numbers <= 0. With e = np.exp(-np.abs(z)), "
            "sigmoid(z) is 1 / (1 + e) where z >= 0 and e / (1 + e) where z < 0.",
            "提示：只对 <= 0 的数取 np.exp。令 e = np.exp(-np.abs(z))，"
            "则 z >= 0 时 sigmoid(z) = 1 / (1 + e)，z < 0 时为 e / (1 + e)。",
        ),
        "mlp_hint_stable_tanh": (
            "Hint: np.tanh is already stable; `(e^z - e^-z) / (e^z + e^-z)` overflows for "
            "large |z|.",
            "提示：np.tanh 本身就是稳定的；`(e^z - e^-z) / (e^z + e^-z)` 在 |z| 很大时会溢出。",
        ),
        "mlp_hint_stable_softplus": (
            "Hint: softplus(z) = max(z, 0) + log1p(exp(-|z|)), or np.logaddexp(0, z). "
            "log(1 + exp(z)) overflows for large z.",
            "提示：softplus(z) = max(z, 0) + log1p(exp(-|z|))，或者用 np.logaddexp(0, z)。"
            "log(1 + exp(z)) 在 z 很大时会溢出。",
        ),
        "mlp_hint_softplus_grad_sigmoid": (
            "Hint: softplus' is the sigmoid. If your `softplus_grad` calls your `sigmoid`, "
            "that sigmoid is what overflows: make it stable (Exercise 2.2) and check again.",
            "提示：softplus 的导数就是 sigmoid。如果你的 `softplus_grad` 调用了你的 `sigmoid`，"
            "溢出的就是那个 sigmoid：先让它稳定（练习 2.2），再运行检查。",
        ),
        "mlp_hint_grad_on_z": (
            "Likely mistake: the derivative formula was applied to z instead of to the "
            "activation: sigmoid'(z) = s * (1 - s) with s = sigmoid(z), and "
            "tanh'(z) = 1 - t**2 with t = tanh(z).",
            "可能的错误：导数公式用在了 z 上，而不是激活值上：sigmoid'(z) = s * (1 - s)，"
            "其中 s = sigmoid(z)；而 tanh'(z) = 1 - t**2，其中 t = tanh(z)。",
        ),
        "mlp_hint_returned_activation": (
            "Likely mistake: the derivative function returned the activation itself, "
            "not its derivative.",
            "可能的错误：求导函数返回的是激活值本身，而不是它的导数。",
        ),
        "mlp_hint_relu_grad_at_zero": (
            "Likely mistake: the derivative at z = 0. ReLU has a kink there; PyTorch (and "
            "this course) uses 0, the slope on the left. Use z > 0, not z >= 0.",
            "可能的错误：z = 0 处的导数。ReLU 在这里有一个折点；PyTorch（以及本课程）"
            "取左侧的斜率 0。请用 z > 0，而不是 z >= 0。",
        ),
        "mlp_hint_relu_grad_sign": (
            "Likely mistake: np.sign(z) is -1 for negative z, but ReLU is flat there, so "
            "its derivative is 0.",
            "可能的错误：np.sign(z) 在 z 为负时是 -1，但 ReLU 在那里是平的，导数是 0。",
        ),
        "mlp_hint_relu_grad_from_output": (
            "Likely mistake: the derivative is 1 everywhere, also where z < 0 and ReLU is flat. "
            "The derivative is 1 only where z > 0. (A mask built from the output with >= does "
            "this: relu(z) >= 0 holds everywhere.)",
            "可能的错误：导数处处为 1，连 ReLU 是平的 z < 0 一侧也是 1。导数只在 z > 0 处为 1。"
            "（用输出配合 >= 构造掩码就会这样：relu(z) >= 0 处处成立。）",
        ),
        "mlp_hint_leaky_slope": (
            "Likely mistake: the slope for z < 0 is 0, as for ReLU; leaky ReLU keeps the "
            "slope alpha there.",
            "可能的错误：z < 0 一侧的斜率是 0，和 ReLU 一样；leaky ReLU 在那里保留斜率 alpha。",
        ),
        "mlp_hint_leaky_alpha": (
            "Likely mistake: the slope 0.01 is written into the code; use the `alpha` the "
            "function receives (this check passes another value).",
            "可能的错误：斜率 0.01 被写死在代码里了；请使用函数收到的 `alpha`（本检查传入的是另一个值）。",
        ),
        "mlp_hint_leaky_at_zero": (
            "Likely mistake: the derivative at z = 0. PyTorch uses the left slope, alpha, "
            "at the kink: 1 where z > 0, alpha elsewhere.",
            "可能的错误：z = 0 处的导数。PyTorch 在折点处取左侧斜率 alpha："
            "z > 0 处为 1，其余为 alpha。",
        ),
        "mlp_hint_missing_square": (
            "Likely mistake: the square is missing: tanh'(z) = 1 - tanh(z)**2.",
            "可能的错误：漏了平方：tanh'(z) = 1 - tanh(z)**2。",
        ),
        "mlp_hint_prelu_dalpha_zero": (
            "Likely mistake: the derivative with respect to alpha is 0 everywhere, as if the "
            "slope were a constant. alpha is learned: where z <= 0 the output is alpha * z, "
            "so it moves by z when alpha moves.",
            "可能的错误：对 alpha 的导数处处为 0，好像斜率是常数一样。alpha 是要学习的参数："
            "在 z <= 0 处输出是 alpha * z，alpha 变动时输出按 z 的倍数变动。",
        ),
        "mlp_hint_prelu_dalpha_everywhere": (
            "Likely mistake: the derivative with respect to alpha is z everywhere. Where "
            "z > 0 the output is z itself and alpha does not appear in it: the derivative "
            "is 0 there.",
            "可能的错误：对 alpha 的导数处处取成了 z。在 z > 0 处输出就是 z 本身，其中没有 alpha："
            "那里的导数是 0。",
        ),
        "mlp_hint_prelu_dalpha_is_slope": (
            "Likely mistake: the derivative with respect to alpha was given the value of the "
            "slope (alpha or 1), which is the derivative with respect to z. Differentiate "
            "alpha * z with respect to alpha instead.",
            "可能的错误：对 alpha 的导数取成了斜率（alpha 或 1），那是对 z 的导数。"
            "请对 alpha * z 关于 alpha 求导。",
        ),
        "mlp_hint_prelu_dalpha_summed": (
            "Likely mistake: one number came back: the gradient of a loss with respect to "
            "alpha. `prelu_grad` returns the local derivative d out / d alpha element by "
            "element, with the shape of z; the chain rule sums `dout * dalpha` afterwards.",
            "可能的错误：返回了一个数，也就是损失对 alpha 的梯度。`prelu_grad` 应当逐元素返回"
            "局部导数 d out / d alpha，形状与 z 相同；之后由链式法则对 `dout * dalpha` 求和。",
        ),
        "mlp_hint_prelu_alpha_written_in": (
            "Likely mistake: a slope is written into the code (0.25, PyTorch's starting "
            "value, or 0.01); use the `alpha` the function receives (this check passes "
            "another value).",
            "可能的错误：斜率被写死在代码里了（PyTorch 的初始值 0.25，或 0.01）；"
            "请使用函数收到的 `alpha`（本检查传入的是另一个值）。",
        ),
        # --- questions ----------------------------------------------------------
        "q2_1_weight": (
            "That is the shape of W2, the weights of layer 2. The question asks for what "
            "layer 2 outputs: one row per example.",
            "这是第 2 层权重 W2 的形状。题目问的是第 2 层的输出：每个样本占一行。",
        ),
        "q2_1_transposed": (
            "Rows and columns are swapped: in this course the examples are the rows.",
            "行和列颠倒了：本课程中样本按行排列。",
        ),
        "q2_1_output": (
            "That is what the whole network outputs (after layer 3). Stop after layer 2.",
            "这是整个网络（第 3 层之后）的输出形状。请停在第 2 层。",
        ),
        "q2_1_layer_1": (
            "That is what layer 1 outputs. Layer 2 maps its 128 inputs to how many outputs?",
            "这是第 1 层的输出形状。第 2 层把 128 个输入映射成多少个输出？",
        ),
        "q2_2_unchanged": (
            "That is the probability before scaling. Adding the same number to every logit "
            "changes nothing; multiplying them does: the gaps between logits grow.",
            "这是缩放之前的概率。给所有 logits 加同一个数不改变结果；乘以一个数却会："
            "logits 之间的差距变大了。",
        ),
        "q2_2_one": (
            "Closer than you might think, but not yet 1: compute e^6 / (e^6 + e^3 + e^0).",
            "比想象的更接近 1，但还不是 1：算一算 e^6 / (e^6 + e^3 + e^0)。",
        ),
        "q2_2_uniform": (
            "Scaling the logits up makes the distribution sharper, not flatter. Scaling them "
            "down towards 0 is what makes it uniform.",
            "把 logits 放大会让分布更尖锐，而不是更平坦。把它们缩小到接近 0 才会得到均匀分布。",
        ),
        "q2_3_linear": (
            "One sigmoid neuron on (x1, x2) draws one straight line, however long it trains "
            "and whatever its learning rate: XOR's classes cannot be split by one line.",
            "在 (x1, x2) 上的单个 sigmoid 神经元只能画出一条直线，无论训练多久、学习率多大："
            "异或的两类无法用一条直线分开。",
        ),
        "q2_3_perceptron": (
            "The perceptron also draws one straight line; on XOR it cycles for ever "
            "(Assignment 01).",
            "感知机同样只能画一条直线；在异或上它会无休止地循环（作业 01）。",
        ),
        # --- hints: softmax and losses ----------------------------------------
        "mlp_hint_max_shift": (
            "Hint: subtract each row's maximum before exp: softmax(z) = softmax(z - max(z)), "
            "and then the largest exponent is exp(0) = 1.",
            "提示：取 exp 之前先减去每一行的最大值：softmax(z) = softmax(z - max(z))，"
            "这样最大的指数项就是 exp(0) = 1。",
        ),
        "mlp_hint_softmax_axis": (
            "Likely mistake: normalised over the wrong axis. Each row (one example) must "
            "sum to 1: use axis=1 with keepdims=True.",
            "可能的错误：在错误的维度上归一化。每一行（一个样本）的和应当为 1："
            "用 axis=1 并设 keepdims=True。",
        ),
        "mlp_hint_global_max": (
            "Likely mistake: one maximum for the whole batch was subtracted. That is still "
            "correct in exact arithmetic but underflows rows far below it; subtract each "
            "row's own maximum (`axis=1, keepdims=True`).",
            "可能的错误：整个批量减去了同一个最大值。数学上仍然正确，但远低于它的行会下溢为 0；"
            "请减去每一行自己的最大值（`axis=1, keepdims=True`）。",
        ),
        "mlp_hint_logsumexp": (
            "Hint: do not take np.log of softmax, which can round to exactly 0. Use "
            "log_softmax(z) = z - m - log(sum(exp(z - m))) with m the row maximum.",
            "提示：不要对 softmax 取 np.log，softmax 可能被舍入成恰好 0。"
            "请用 log_softmax(z) = z - m - log(sum(exp(z - m)))，m 为该行最大值。",
        ),
        "mlp_hint_mse_half": (
            "Likely mistake: a factor 1/2. Some books define the squared loss as "
            "(y_hat - y)**2 / 2 to tidy its derivative; here MSE is the plain mean of the "
            "squared errors, like torch.nn.functional.mse_loss.",
            "可能的错误：多了因子 1/2。有些书把平方损失定义为 (y_hat - y)**2 / 2，"
            "好让导数简洁；这里的 MSE 是误差平方的平均值，与 torch.nn.functional.mse_loss 一致。",
        ),
        "mlp_hint_mean_over_all": (
            "Likely mistake: MSE averages over every element (N * num_outputs of them), "
            "not only over the N examples.",
            "可能的错误：MSE 对所有元素（共 N * num_outputs 个）求平均，而不只是对 N 个样本求平均。",
        ),
        "mlp_hint_ce_probabilities": (
            "Likely mistake: the logits were used as if they were probabilities. Apply "
            "log_softmax to the logits first.",
            "可能的错误：把 logits 当成了概率。请先对 logits 做 log_softmax。",
        ),
        "mlp_hint_zero_log_zero": (
            "Hint: terms with q = 0 contribute 0 (the limit of q*log q is 0), but "
            "0 * np.log(0) is 0 * -inf = nan in NumPy. Take the log only where q > 0.",
            "提示：q = 0 的项贡献为 0（因为 q*log q 的极限是 0），但在 NumPy 中 "
            "0 * np.log(0) 是 0 * -inf = nan。只在 q > 0 处取对数。",
        ),
        "mlp_hint_kl_swapped": (
            "Likely mistake: the arguments are swapped: this is KL(p‖q). KL(q‖p) = "
            "sum q * log(q / p), weighted by q, the first argument. KL is not symmetric.",
            "可能的错误：参数顺序反了，算成了 KL(p‖q)。KL(q‖p) = sum q * log(q / p)，"
            "以第一个参数 q 加权。KL 散度不对称。",
        ),
        "mlp_hint_log_base": (
            "Likely mistake: the logarithm base. Use the natural log (np.log), as PyTorch "
            "does; np.log2 measures in bits.",
            "可能的错误：对数的底。请用自然对数（np.log），与 PyTorch 一致；np.log2 的单位是比特。",
        ),
        "mlp_hint_per_batch": (
            "Likely mistake: one number for the whole batch was returned; return one value "
            "per row (per example), shape `(N,)`.",
            "可能的错误：整个批量只返回了一个数；应当每一行（每个样本）返回一个值，形状为 `(N,)`。",
        ),
        # --- hints: layers ----------------------------------------------------
        "mlp_hint_collapse_bias": (
            "Likely mistake: the first bias also passes through the second layer: "
            "`(X @ W1 + b1) @ W2 + b2 = X @ (W1 @ W2) + (b1 @ W2 + b2)`.",
            "可能的错误：第一层的偏置也要经过第二层："
            "`(X @ W1 + b1) @ W2 + b2 = X @ (W1 @ W2) + (b1 @ W2 + b2)`。",
        ),
        "mlp_hint_collapse_order": (
            "Likely mistake: the order of the product. With rows as examples, X @ W1 comes "
            "first, so the combined weight is W1 @ W2.",
            "可能的错误：乘法顺序。样本按行排列时先算 X @ W1，所以合并后的权重是 W1 @ W2。",
        ),
        "mlp_hint_missing_bias": (
            "Likely mistake: the bias b was not added.",
            "可能的错误：没有加上偏置 b。",
        ),
        "mlp_hint_bias_after_activation": (
            "Likely mistake: the bias was added after the activation. A dense layer "
            "computes activation(X @ W + b).",
            "可能的错误：偏置加在了激活之后。全连接层计算的是 activation(X @ W + b)。",
        ),
        "mlp_hint_output_activation": (
            "Likely mistake: the hidden activation was applied to the output layer too. "
            "The last layer uses `output_activation` (identity for regression, softmax "
            "for classification).",
            "可能的错误：输出层也用了隐藏层的激活函数。最后一层应当使用 `output_activation`"
            "（回归用恒等函数，分类用 softmax）。",
        ),
        "mlp_hint_no_hidden_activation": (
            "Likely mistake: no activation between the layers, so the whole network "
            "collapses into one affine map. Apply `hidden_activation` after every hidden "
            "layer.",
            "可能的错误：层与层之间没有激活函数，整个网络退化成一个仿射变换。"
            "每个隐藏层之后都要应用 `hidden_activation`。",
        ),
        "mlp_hint_no_output_activation": (
            "Likely mistake: `output_activation` was not applied to the last layer.",
            "可能的错误：最后一层没有应用 `output_activation`。",
        ),
    }
)
