"""The bilingual messages of assignment 06's checks · 作业 06 检查的双语消息."""

from __future__ import annotations

from grader.checks import messages as M

M.register(
    {
        "ae_hint_mean_over_pixels": (
            "Likely mistake: the squared error is averaged over the pixels as well. Sum over "
            "the D pixels of each image, then average over the N images of the batch.",
            "可能的错误：平方误差在像素维度上也取了平均。应先对每张图像的 D 个像素求和，"
            "再对批量中的 N 张图像取平均。",
        ),
        "ae_hint_code_gradient": (
            "Likely mistake: `dh`, the gradient that arrives at the code directly (from a "
            "penalty on the code), is not added to the gradient coming back from the decoder.",
            "可能的错误：没有把直接到达编码的梯度 `dh`（来自对编码的惩罚项）"
            "与从解码器传回的梯度相加。",
        ),
        "ae_hint_l1_sign": (
            "Likely mistake: every entry got the same derivative, as if |h| were h. The slope "
            "of |h| depends on the side of 0 that h is on (Hint 1 after Exercise 6.3).",
            "可能的错误：每个元素的导数都一样，就好像 |h| 等于 h。|h| 的斜率取决于 h 在 0 的哪一侧"
            "（见练习 6.3 之后的提示 1）。",
        ),
        "ae_hint_kl_swapped": (
            "Likely mistake: the target ρ and the mean activation ρ̂ are swapped. The "
            "penalty is KL(ρ‖ρ̂_j), the target first: ρ·log(ρ/ρ̂_j) + (1-ρ)·log((1-ρ)/(1-ρ̂_j)).",
            "可能的错误：目标值 ρ 与平均激活 ρ̂ 写反了。惩罚项是目标在前的 KL(ρ‖ρ̂_j)："
            "ρ·log(ρ/ρ̂_j) + (1-ρ)·log((1-ρ)/(1-ρ̂_j))。",
        ),
        "ae_hint_rho_hat_mean": (
            "Likely mistake: ρ̂_j must be the mean activation of unit j over the batch "
            "(axis 0), not each example's own activation.",
            "可能的错误：ρ̂_j 应当是第 j 个单元在整个批量上的平均激活（axis 0），"
            "而不是每个样本各自的激活。",
        ),
        "ae_hint_cae_activation": (
            "Likely mistake: the activation derivative is missing. h = σ(X W1 + b1), so every "
            "entry of the Jacobian ∂h/∂x carries the sigmoid's derivative; without it the "
            "penalty is plain weight decay.",
            "可能的错误：漏掉了激活函数的导数。h = σ(X W1 + b1)，所以雅可比矩阵 ∂h/∂x 的每个元素"
            "都带有 sigmoid 的导数；没有它，惩罚项就退化成了普通的权重衰减。",
        ),
        "ae_hint_cae_through_h": (
            "Likely mistake: h(1-h) was treated as a constant. The penalty depends on W1 "
            "also through h, which adds a term of the form X.T @ (...) to dW1 (Hint 2 after "
            "Exercise 6.5).",
            "可能的错误：把 h(1-h) 当成了常数。惩罚项还通过 h 依赖于 W1，因此 dW1 中还要加上"
            "形如 X.T @ (...) 的一项（见练习 6.5 之后的提示 2）。",
        ),
        "ae_hint_cae_direct": (
            "Likely mistake: only the path through h reaches dW1. The penalty also depends on "
            "W1 directly, through the weights that multiply h(1-h) in the Jacobian.",
            "可能的错误：dW1 只包含了经过 h 的那条路径。惩罚项还直接依赖于 W1："
            "雅可比矩阵中与 h(1-h) 相乘的正是权重本身。",
        ),
        "ae_hint_cae_db1_zero": (
            "Likely mistake: db1 is zero, but b1 moves z = X W1 + b1 and with it h(1-h), so "
            "the penalty depends on b1 through h. Its gradient comes from the same path "
            "through h as the X.T @ (...) term of dW1.",
            "可能的错误：db1 为零。但 b1 会改变 z = X W1 + b1，从而改变 h(1-h)，"
            "所以惩罚项经由 h 依赖于 b1。它的梯度与 dW1 中 X.T @ (...) 那一项来自同一条路径。",
        ),
        "ae_hint_cae_not_squared": (
            "Likely mistake: the norm is not squared. The squared Frobenius norm squares each "
            "Jacobian entry, activation derivative (h_j(1-h_j))² included.",
            "可能的错误：范数没有平方。Frobenius 范数的平方要对雅可比矩阵的每个元素取平方，"
            "激活导数也在其中，即 (h_j(1-h_j))²。",
        ),
        "ae_hint_reparam_blocked_mu": (
            "Likely mistake: no gradient reaches μ. z is μ plus something, and an add gate "
            "passes the upstream gradient on unchanged (assignment 03).",
            "可能的错误：梯度没有传到 μ。z 等于 μ 加上另一项，而加法门会把上游梯度原样传下去"
            "（作业 03）。",
        ),
        "ae_hint_reparam_blocked_sigma": (
            "Likely mistake: no gradient reaches log σ². z depends on it through "
            "σ = exp(½·log σ²): chain the local derivative of σ·ε and that of σ (Hint 2 "
            "after Exercise 6.6).",
            "可能的错误：梯度没有传到 log σ²。z 通过 σ = exp(½·log σ²) 依赖于它：把 σ·ε 的局部导数"
            "与 σ 的局部导数串联起来（见练习 6.6 之后的提示 2）。",
        ),
        "ae_hint_reparam_half": (
            "Likely mistake: the factor ½ from σ = exp(½·log σ²) is missing: the derivative "
            "of exp(a·t) with respect to t is a·exp(a·t).",
            "可能的错误：漏掉了 σ = exp(½·log σ²) 带来的因子 ½：exp(a·t) 对 t 的导数是 a·exp(a·t)。",
        ),
        "ae_hint_reparam_wrt_sigma": (
            "Likely mistake: this is the gradient with respect to σ, not log σ². One link of "
            "the chain, the derivative of σ with respect to log σ², is missing.",
            "可能的错误：这是对 σ 的梯度，而不是对 log σ² 的梯度。链条中少了一环："
            "σ 对 log σ² 的导数。",
        ),
        "ae_hint_kl_sign": (
            "Likely mistake: the KL divergence has the wrong sign. "
            "KL = -½·Σ(1 + log σ² - μ² - σ²) is never negative.",
            "可能的错误：KL 散度的符号反了。KL = -½·Σ(1 + log σ² - μ² - σ²) 永远不会是负数。",
        ),
        "ae_hint_kl_half": (
            "Likely mistake: the factor ½ in KL = -½·Σ(1 + log σ² - μ² - σ²) is missing.",
            "可能的错误：漏掉了 KL = -½·Σ(1 + log σ² - μ² - σ²) 中的因子 ½。",
        ),
        "ae_hint_elbo_kl_sign": (
            "Likely mistake: the negative ELBO is reconstruction loss PLUS the KL term; "
            "the KL was subtracted.",
            "可能的错误：负 ELBO 是重建损失“加上”KL 项；你把 KL 减掉了。",
        ),
        "ae_hint_elbo_probs": (
            "Likely mistake: the decoder output is treated as probabilities. `logits` are "
            "before the sigmoid; the cross-entropy is "
            "max(l, 0) - l·x + log(1 + exp(-|l|)).",
            "可能的错误：把解码器的输出当成了概率。`logits` 是 sigmoid 之前的值；"
            "交叉熵是 max(l, 0) - l·x + log(1 + exp(-|l|))。",
        ),
        "ae_hint_vae_kl_grad": (
            "Likely mistake: the gradients of the KL term (from `gaussian_kl`) are not "
            "added to dmu and dlogvar; only the reconstruction path reaches the encoder.",
            "可能的错误：KL 项的梯度（来自 `gaussian_kl`）没有加到 dmu 和 dlogvar 上；"
            "只有重建路径的梯度传到了编码器。",
        ),
        "ae_hint_vae_fanout": (
            "Likely mistake: the hidden layer feeds both heads (μ and log σ²), so its "
            "gradient is the SUM of what comes back from both.",
            "可能的错误：隐藏层同时连接两个输出头（μ 和 log σ²），"
            "所以它的梯度是两条路径传回梯度之和。",
        ),
        "ae_grads_not_dict": (
            "`grads` should be a dict from parameter name to gradient, but your function "
            "returned {found}.",
            "`grads` 应当是一个从参数名到梯度的字典，但你的函数返回了 {found}。",
        ),
        "ae_missing_grad": (
            "`grads` has no entry {name!r}. Expected one gradient per parameter: {keys}.",
            "`grads` 中没有 {name!r} 这一项。每个参数都需要一个梯度：{keys}。",
        ),
        "ae_grad_table": (
            "Gradients that agree with autograd: {good}. Gradients that do not: {bad}. "
            "Backpropagation runs from the loss back to W1: the first wrong one on that "
            "path is where to look.",
            "与自动微分一致的梯度：{good}。不一致的梯度：{bad}。"
            "反向传播从损失一路传回 W1：沿这条路径第一个出错的梯度就是该检查的地方。",
        ),
        "ae_none": ("none", "无"),
        "ae_reuses": (
            "`{function}` calls your {others}: a float32 step or a finite difference in any "
            "of them shows up here too. Their own checks above tell you which one; keep "
            "float64 in all of them.",
            "`{function}` 调用了你写的 {others}：其中任何一个用了 float32 或有限差分，"
            "都会在这里表现出来。它们各自的检查会告诉你是哪一个；请在所有函数中保持 float64。",
        ),
        "q6_1_equal": (
            "Multiply the first code unit by 2 and the first row of W2 by ½: the "
            "reconstruction, and with it the loss, does not change. So many codes are equally "
            "good, and nothing picks the PCA scores themselves.",
            "把第一个编码单元乘以 2，同时把 W2 的第一行乘以 ½：重建结果不变，损失也不变。"
            "所以同样好的编码有很多，没有什么会偏偏选中 PCA 得分本身。",
        ),
        "q6_1_rotation": (
            "A rotation is one change of the code that W2 can undo, but not the only one: "
            "scaling one unit or mixing two of them is undone just as well.",
            "旋转是 W2 能够抵消的一种编码变换，但不是唯一的一种：把一个单元放大，"
            "或者把两个单元混合起来，W2 同样可以抵消。",
        ),
        "q6_1_other": (
            "The best rank-2 linear reconstruction under squared error is the projection onto "
            "the top two principal directions (the Eckart–Young theorem), so the subspace is "
            "the same.",
            "在平方误差下，最好的秩为 2 的线性重建就是投影到前两个主方向上"
            "（Eckart–Young 定理），所以子空间是相同的。",
        ),
        "q6_2_all": (
            "That is the picture without a penalty. The KL penalty pulls each unit's mean "
            "activation toward ρ = 0.05.",
            "这是不加惩罚时的情形。KL 惩罚会把每个单元的平均激活拉向 ρ = 0.05。",
        ),
        "q6_2_half": (
            "With half the units on, the mean activations would be near 0.5, ten times the "
            "target ρ = 0.05 that the penalty pulls toward.",
            "如果一半单元处于活跃状态，平均激活就会在 0.5 左右，是惩罚项所追求的目标 ρ = 0.05 的十倍。",
        ),
        "q6_2_none": (
            "With no unit active, every image would get nearly the same code and the decoder "
            "could not rebuild any of them: the reconstruction loss keeps a few units on.",
            "如果没有单元活跃，每张图像的编码都几乎相同，解码器就无法重建任何一张：重建损失会让少数单元保持活跃。",
        ),
        "q6_3_half": (
            "Close: the factor -½ in front of the sum was left out.",
            "很接近了：漏掉了和式前面的因子 -½。",
        ),
        "q6_3_sign": (
            "A KL divergence is never negative. Check the sign of each term, and that "
            "σ² = exp(log σ²) = 1 here, not 0.",
            "KL 散度永远不会是负数。检查每一项的符号，并注意这里 σ² = exp(log σ²) = 1，而不是 0。",
        ),
        "q6_3_zero": (
            "The second unit matches the prior exactly, but the first has μ = 1: its mean is "
            "away from the prior's mean 0.",
            "第二个单元与先验完全一致，但第一个单元的 μ = 1：它的均值偏离了先验的均值 0。",
        ),
        "q6_3_one": (
            "The 1 inside the parentheses belongs to every unit: the sum runs over "
            "(1 + log σ² - μ² - σ²) for each j.",
            "括号里的 1 属于每一个单元：和式对每个 j 累加的是 (1 + log σ² - μ² - σ²)。",
        ),
    }
)
