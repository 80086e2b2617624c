"""The messages of assignment 05's checks · 作业 05 检查的消息."""

from __future__ import annotations

from grader.checks import messages as M

M.register(
    {
        # --- shared ----------------------------------------------------------------
        "training_hdr_torch_optim": (
            "`{name}` does not match torch.optim on the same gradients",
            "`{name}` 与 torch.optim 在相同梯度下的结果不一致",
        ),
        "training_hdr_scheduler": (
            "`{name}` does not match the torch learning-rate scheduler",
            "`{name}` 与 torch 学习率调度器的结果不一致",
        ),
        "training_hdr_statistics": (
            "the statistics of `{name}` are off",
            "`{name}` 的统计量不对",
        ),
        "training_not_dict": (
            "`{name}` should be a dict, but your `{function}` returned {found}.",
            "`{name}` 应当是 dict，但你的 `{function}` 返回了 {found}。",
        ),
        "training_returns": (
            "`{function}` should return {expected}; it returned {found}.",
            "`{function}` 应当返回 {expected}；实际返回了 {found}。",
        ),
        "training_same_seed": (
            "Two calls with generators made from the same seed gave different results. "
            "Draw every random number from the `rng` argument, not from `np.random` or a "
            "generator of your own.",
            "用相同种子创建的两个生成器调用两次，结果却不同。所有随机数都应当取自参数 `rng`，"
            "而不是 `np.random` 或你自己新建的生成器。",
        ),
        # --- mini-batch iterator ------------------------------------------------------
        "training_iter_not_pairs": (
            "`{function}` should yield pairs `(X_batch, y_batch)`; item {index} of epoch "
            "{epoch} is {found}.",
            "`{function}` 应当逐个产生 `(X_batch, y_batch)` 二元组；第 {epoch} 轮的第 {index} "
            "项是 {found}。",
        ),
        "training_iter_batch_sizes": (
            "With N={n} examples and batch_size={batch_size}, one epoch has batches of sizes "
            "{expected}; yours had {found}.",
            "N={n} 个样本、batch_size={batch_size} 时，一轮的各批大小应为 {expected}；"
            "你的是 {found}。",
        ),
        "training_iter_coverage": (
            "In epoch {epoch} every example should appear exactly once; {missing} were "
            "missing and {repeated} appeared more than once.",
            "第 {epoch} 轮中每个样本应当恰好出现一次；有 {missing} 个缺失，{repeated} 个重复出现。",
        ),
        "training_iter_pairing": (
            "In epoch {epoch}, batch {batch}: the rows of X_batch do not belong to the labels "
            "in y_batch. Index X and y with the same indices.",
            "第 {epoch} 轮第 {batch} 批：X_batch 的行与 y_batch 的标签对不上。"
            "X 和 y 要用同一组下标索引。",
        ),
        "training_iter_not_shuffled": (
            "Epoch {epoch} visits the examples in their original order. Shuffle them with a "
            "permutation drawn from `rng`.",
            "第 {epoch} 轮按原始顺序访问样本。请用从 `rng` 抽取的排列打乱顺序。",
        ),
        "training_iter_same_order": (
            "Epochs {first} and {second} visit the examples in the same order: the "
            "permutation is reused. Draw a fresh one from `rng` each time the function is "
            "called (once per epoch).",
            "第 {first} 轮与第 {second} 轮的样本顺序完全相同：排列被重复使用了。"
            "每次调用函数（每轮一次）都要从 `rng` 重新抽取一个排列。",
        ),
        "training_hint_last_batch": (
            "Likely mistake: the last, smaller batch is missing. When N is not a multiple of "
            "batch_size, the final batch holds the examples that are left.",
            "可能的错误：缺少最后那个较小的批。N 不是 batch_size 的整数倍时，最后一批装剩下的样本。",
        ),
        "training_hint_replacement": (
            "Likely mistake: indices drawn with replacement (for example `rng.integers` or "
            "`rng.choice` without `replace=False`). Split one permutation of all indices.",
            "可能的错误：下标是有放回抽取的（例如 `rng.integers`，或没有 `replace=False` 的 "
            "`rng.choice`）。应当切分全部下标的一个排列。",
        ),
        # --- update rules and schedules --------------------------------------------------
        "training_hint_wd_sign": (
            "Likely mistake: weight decay has the wrong sign. L2 regularisation adds "
            "weight_decay * w to the gradient.",
            "可能的错误：权重衰减的符号反了。L2 正则化是在梯度上加 weight_decay * w。",
        ),
        "training_hint_wd_missing": (
            "Likely mistake: weight decay is ignored. Add weight_decay * w to the gradient "
            "before the update.",
            "可能的错误：忽略了权重衰减。更新前要在梯度上加 weight_decay * w。",
        ),
        "training_hint_wd_unscaled": (
            "Likely mistake: weight_decay * w is subtracted without the learning rate. "
            "Here it belongs in the gradient, so it is multiplied by lr like the rest.",
            "可能的错误：减去 weight_decay * w 时没有乘学习率。这里它属于梯度的一部分，"
            "要和梯度一起乘 lr。",
        ),
        "training_hint_ascent": (
            "Likely mistake: the step goes uphill (the sign is flipped). Gradient descent "
            "subtracts lr times the step direction.",
            "可能的错误：参数朝上坡方向移动了（符号反了）。梯度下降要减去 lr 乘以更新方向。",
        ),
        "training_hint_momentum_order": (
            "Likely mistake: the parameters move with the old velocity. Update the velocity "
            "first, `v = momentum * v + g`, then the parameters, `w = w - lr * v`.",
            "可能的错误：参数用旧的速度更新了。应当先更新速度 `v = momentum * v + g`，"
            "再更新参数 `w = w - lr * v`。",
        ),
        "training_hint_momentum_dampening": (
            "Likely mistake: the gradient is scaled by (1 - momentum). `torch.optim.SGD` (with "
            "dampening=0) and this exercise use `v = momentum * v + g`.",
            "可能的错误：梯度乘上了 (1 - momentum)。`torch.optim.SGD`（dampening=0）和本练习都"
            "用 `v = momentum * v + g`。",
        ),
        "training_hint_wd_after_momentum": (
            "Likely mistake: weight decay is added after the momentum step. Add "
            "weight_decay * w to the gradient first, then feed it to the velocity.",
            "可能的错误：权重衰减加在了动量之后。应当先在梯度上加 weight_decay * w，"
            "再用它更新速度。",
        ),
        "training_hint_state_lost": (
            "Likely mistake: the optimiser state is not carried to the next step. Store it in "
            "`config` (for example config['velocity']) and return that `config`.",
            "可能的错误：优化器状态没有带到下一步。把它存进 `config`（例如 config['velocity']）"
            "并返回这个 `config`。",
        ),
        "training_hint_adam_bias": (
            "Likely mistake: no bias correction. Divide m by (1 - beta1**t) and v by "
            "(1 - beta2**t), with t = 1 at the first step.",
            "可能的错误：缺少偏差修正。m 要除以 (1 - beta1**t)，v 要除以 (1 - beta2**t)，"
            "第一步时 t = 1。",
        ),
        "training_hint_adam_eps": (
            "Likely mistake: eps is inside the square root. torch.optim.Adam uses "
            "m_hat / (sqrt(v_hat) + eps).",
            "可能的错误：eps 放进了平方根里。torch.optim.Adam 用的是 m_hat / (sqrt(v_hat) + eps)。",
        ),
        "training_hint_adam_sqrt": (
            "Likely mistake: the square root of v_hat is missing.",
            "可能的错误：漏了对 v_hat 开平方根。",
        ),
        "training_hint_adam_decoupled": (
            "Likely mistake: decoupled weight decay (AdamW). torch.optim.Adam adds "
            "weight_decay * w to the gradient before m and v are updated.",
            "可能的错误：用了解耦的权重衰减（AdamW）。torch.optim.Adam 是在更新 m 和 v 之前"
            "把 weight_decay * w 加到梯度上。",
        ),
        "training_hint_epoch_off_by_one": (
            "Likely mistake: off by one epoch. Epochs count from 0, and epoch 0 uses the "
            "initial learning rate.",
            "可能的错误：差了一轮。轮次从 0 开始计数，第 0 轮使用初始学习率。",
        ),
        "training_hint_exp_base": (
            "Likely mistake: exp(-gamma * epoch) was used; exponential decay here multiplies "
            "by gamma once per epoch: `lr * gamma**epoch`.",
            "可能的错误：用了 exp(-gamma * epoch)；这里的指数衰减是每轮乘一次 gamma："
            "`lr * gamma**epoch`。",
        ),
        "training_hint_inverse_sqrt": (
            "Likely mistake: a square root. 1/t decay is lr / (1 + decay * epoch).",
            "可能的错误：多了平方根。1/t 衰减是 lr / (1 + decay * epoch)。",
        ),
        # --- initialisation --------------------------------------------------------------
        "training_init_mean": (
            "Over {draws} draws of shape {shape} ({count} weights) the mean is {found}; "
            "it should be 0 within {tol} (five standard errors).",
            "对形状 {shape} 抽取 {draws} 次（共 {count} 个权重），均值为 {found}；"
            "应当为 0，允许误差 {tol}（五个标准误）。",
        ),
        "training_init_var": (
            "Over {draws} draws of shape {shape} ({count} weights) the variance is {found}; "
            "expected {formula} = {expected} within a relative {tol} (five standard errors).",
            "对形状 {shape} 抽取 {draws} 次（共 {count} 个权重），方差为 {found}；"
            "期望 {formula} = {expected}，相对误差不超过 {tol}（五个标准误）。",
        ),
        "training_init_different": (
            "Draws with different seeds returned identical weights; the weights must be "
            "random, drawn from `rng`.",
            "不同种子的抽取返回了完全相同的权重；权重必须是从 `rng` 抽取的随机数。",
        ),
        "training_hint_init_lecun": (
            "Likely mistake: variance 1/fan_in (LeCun). Check the formula of this scheme.",
            "可能的错误：方差是 1/fan_in（LeCun 初始化）。请核对本方案的公式。",
        ),
        "training_hint_init_swapped": (
            "Likely mistake: Glorot and He are swapped: Glorot uses 2/(fan_in + fan_out), "
            "He uses 2/fan_in.",
            "可能的错误：Glorot 和 He 弄反了：Glorot 用 2/(fan_in + fan_out)，He 用 2/fan_in。",
        ),
        "training_hint_init_fan_out": (
            "Likely mistake: fan_out used where fan_in belongs. W has shape `(fan_in, fan_out)`.",
            "可能的错误：该用 fan_in 的地方用了 fan_out。W 的形状是 `(fan_in, fan_out)`。",
        ),
        "training_hint_init_std_as_var": (
            "Likely mistake: the variance was used as the standard deviation. "
            "Pass `np.sqrt(variance)` as `scale` to `rng.normal`.",
            "可能的错误：把方差当成了标准差。传给 `rng.normal` 的 `scale` 应为方差的平方根 "
            "`np.sqrt(variance)`。",
        ),
        "training_hint_init_uniform": (
            "Likely mistake: a uniform distribution on [-a, a] has variance a**2 / 3, so "
            "`a = sqrt(3 * variance)`, not `sqrt(variance)`.",
            "可能的错误：[-a, a] 上均匀分布的方差是 a**2 / 3，所以 `a = sqrt(3 * variance)`，"
            "而不是 `sqrt(variance)`。",
        ),
        "training_hint_init_unit": (
            "Likely mistake: the weights have variance 1; they are not scaled at all.",
            "可能的错误：权重方差为 1，没有做任何缩放。",
        ),
        # --- dropout ---------------------------------------------------------------------
        "training_dropout_keep": (
            "In train mode with p={p}, a fraction {expected} of the elements should be kept; "
            "over {draws} draws of shape {shape} yours kept {found} (allowed ± {tol}, five "
            "standard errors).",
            "训练模式下 p={p} 时应保留 {expected} 比例的元素；对形状 {shape} 抽取 {draws} 次，"
            "你保留了 {found}（允许误差 ± {tol}，五个标准误）。",
        ),
        "training_dropout_mean": (
            "Inverted dropout keeps the expected value, E[out] = x: averaged over {draws} "
            "draws, sum(out * x) / sum(x * x) should be 1 within {tol} (five standard errors); "
            "yours is {found}.",
            "反向缩放的暂退法保持期望不变，即 E[out] = x：对 {draws} 次抽取取平均，"
            "sum(out * x) / sum(x * x) 应为 1，允许误差 {tol}（五个标准误）；你的是 {found}。",
        ),
        "training_hint_dropout_keep_prob": (
            "Likely mistake: p is used as the probability of keeping an element. Here, as in "
            "torch, p is the probability of dropping it.",
            "可能的错误：把 p 当成了保留概率。这里与 torch 一致，p 是丢弃一个元素的概率。",
        ),
        "training_hint_dropout_never": (
            "Likely mistake: nothing is dropped in train mode.",
            "可能的错误：训练模式下没有丢弃任何元素。",
        ),
        "training_hint_dropout_not_scaled": (
            "Likely mistake: the kept elements are not rescaled. Inverted dropout divides "
            "them by (1 - p) in train mode, so that eval mode needs no change.",
            "可能的错误：保留下来的元素没有重新缩放。反向缩放的暂退法（inverted dropout）在训练"
            "时除以 (1 - p)，这样评估时无需任何改动。",
        ),
        "training_hint_dropout_scaled_wrong": (
            "Likely mistake: the kept elements are multiplied by (1 - p); inverted dropout "
            "divides by (1 - p).",
            "可能的错误：保留的元素乘了 (1 - p)；反向缩放的暂退法应当除以 (1 - p)。",
        ),
        "training_hint_dropout_no_mask": (
            "Likely mistake: dx ignores the mask. The gradient flows only through the kept "
            "elements, scaled by 1/(1 - p) as in the forward pass.",
            "可能的错误：dx 没有用掩码。梯度只流过被保留的元素，并像前向传播一样乘 1/(1 - p)。",
        ),
        "training_hint_dropout_eval": (
            "Likely mistake: in eval mode inverted dropout is the identity: no mask and no "
            "scaling.",
            "可能的错误：评估模式下反向缩放的暂退法是恒等映射：既不加掩码，也不缩放。",
        ),
        # --- early stopping -------------------------------------------------------------
        "training_hdr_stop": ("stopped at the wrong epoch", "停止的轮次不对"),
        "training_es_stop_at": (
            "With patience={patience} and validation losses {losses} (epochs count from 0), "
            "training should stop after epoch {expected}; yours stopped after epoch {found}.",
            "patience={patience}、验证损失为 {losses}（轮次从 0 计数）时，训练应当在第 {expected} "
            "轮之后停止；你的在第 {found} 轮之后就停止了。",
        ),
        "training_es_never": (
            "With patience={patience} and validation losses {losses} (epochs count from 0), "
            "training should stop after epoch {expected}; yours never stopped.",
            "patience={patience}、验证损失为 {losses}（轮次从 0 计数）时，训练应当在第 {expected} "
            "轮之后停止；你的一直没有停止。",
        ),
        "training_es_too_soon": (
            "With patience={patience} and validation losses {losses} (epochs count from 0), "
            "training should run to the end; yours stopped after epoch {found}.",
            "patience={patience}、验证损失为 {losses}（轮次从 0 计数）时，训练应当跑完全部轮次；"
            "你的在第 {found} 轮之后就停止了。",
        ),
        "training_es_missing": (
            "After each epoch, `{name}` should hold the key '{entry}'; found keys {found}.",
            "每轮之后 `{name}` 都应当含有键 '{entry}'；实际的键为 {found}。",
        ),
        "training_hint_es_last": (
            "Likely mistake: these are the weights of the last epoch, not of the best one. "
            "When the loss improves, store copies (`{{k: v.copy() for k, v in params.items()}}`): "
            "the caller keeps updating its arrays in place.",
            "可能的错误：这是最后一轮的权重，而不是最佳一轮的。损失改善时要保存副本"
            "（`{{k: v.copy() for k, v in params.items()}}`）：调用者会继续原地更新这些数组。",
        ),
        "training_hint_es_tie": (
            "Likely mistake: a loss equal to the best one was counted as an improvement; "
            "only a strictly smaller loss is.",
            "可能的错误：把与最佳值相等的损失算作了改善；只有严格更小的损失才算。",
        ),
        "training_hint_es_off_by_one": (
            "Likely mistake: off by one epoch. Count the epochs since the last improvement "
            "and stop as soon as that count reaches `patience`.",
            "可能的错误：差了一轮。统计自上次改善以来的轮数，一旦达到 `patience` 就停止。",
        ),
        "training_hint_es_no_reset": (
            "Likely mistake: the count of epochs without improvement is not reset to 0 when "
            "the loss improves.",
            "可能的错误：损失改善时，没有把“未改善轮数”的计数清零。",
        ),
        # --- capstone --------------------------------------------------------------------
        "training_missing_grad": (
            "`grads` should have the key '{entry}' (the gradient of params['{entry}']); "
            "found keys {found}.",
            "`grads` 应当含有键 '{entry}'（params['{entry}'] 的梯度）；实际的键为 {found}。",
        ),
        "training_hdr_accuracy": ("held-out accuracy too low", "留出集准确率太低"),
        "training_accuracy_low": (
            "Your trained MLP classifies {accuracy} of the {count} held-out digits correctly; "
            "at least {threshold} is needed. Choose the hyperparameters of train_capstone on the "
            "validation split (history['val_acc']): the defaults of train_mlp do not get there.",
            "训练好的 MLP 在 {count} 个留出数字上的准确率为 {accuracy}；至少需要 {threshold}。"
            "请在验证集上（看 history['val_acc']）为 train_capstone 选择超参数：train_mlp 的默认值达不到。",
        ),
        "training_accuracy": (
            "Held-out accuracy {accuracy} on {count} digits (threshold {threshold}).",
            "在 {count} 个留出数字上的准确率为 {accuracy}（阈值 {threshold}）。",
        ),
    }
)

M.register(
    {
        # --- shared -----------------------------------------------------------------------
        "training_missing_key": (
            "`{name}` should have the key '{entry}'; found keys {found}.",
            "`{name}` 应当含有键 '{entry}'；实际的键为 {found}。",
        ),
        # --- update rules -----------------------------------------------------------------
        "training_hdr_state": (
            "`{name}` (the optimiser's state) does not match the reference",
            "`{name}`（优化器的状态）与参考结果不一致",
        ),
        "training_state_missing": (
            "After each step, `config` should hold '{entry}' ({what}); found keys {found}.",
            "每一步之后，`config` 都应当保存 '{entry}'（{what}）；实际的键为 {found}。",
        ),
        "training_hint_momentum_lr_inside": (
            "Likely mistake: the learning rate is folded into the velocity (v = momentum * v "
            "- lr * g, w = w + v). torch.optim.SGD keeps it out, `v = momentum * v + g` and "
            "`w = w - lr * v`, which differs as soon as lr changes between steps (a schedule).",
            "可能的错误：把学习率并进了速度（v = momentum * v - lr * g，w = w + v）。"
            "torch.optim.SGD 把它留在外面：`v = momentum * v + g`，`w = w - lr * v`；"
            "一旦学习率在两步之间改变（学习率调度），两者的结果就不同了。",
        ),
        # --- dropout ----------------------------------------------------------------------
        "training_dropout_same_mask": (
            "All {draws} draws, each with a differently seeded `rng`, dropped the same "
            "elements. Draw the mask from the `rng` argument, a new one at every call.",
            "{draws} 次抽取使用了不同种子的 `rng`，却丢弃了完全相同的元素。"
            "掩码必须取自参数 `rng`，每次调用都重新抽取。",
        ),
        # --- the MLP's loss ---------------------------------------------------------------
        "training_hint_mlp_eval_dropout": (
            "Likely mistake: dropout is applied in eval mode (train=False). In eval mode "
            "inverted dropout is the identity: pass `train` on to dropout_forward.",
            "可能的错误：评估模式（train=False）下也做了暂退。评估模式下反向缩放的暂退法是恒等"
            "映射：把 `train` 传给 dropout_forward。",
        ),
        "training_hint_mlp_no_dropout": (
            "Likely mistake: no dropout in train mode. With train=True and dropout > 0, the "
            "hidden activations go through dropout_forward(..., dropout, train, rng).",
            "可能的错误：训练模式下没有做暂退。train=True 且 dropout > 0 时，隐藏层激活值要经过 "
            "dropout_forward(..., dropout, train, rng)。",
        ),
        "training_hint_mlp_dropout_not_scaled": (
            "Likely mistake: the kept activations are not divided by (1 - p). mlp_loss uses "
            "your dropout_forward: make Exercise 5.7 pass its check first.",
            "可能的错误：保留下来的激活值没有除以 (1 - p)。mlp_loss 用的是你的 dropout_forward："
            "请先让练习 5.7 通过检查。",
        ),
        "training_hint_mlp_no_dropout_backward": (
            "Likely mistake: the backward pass skips dropout. The gradient reaches the ReLU "
            "through dropout_backward, with the cache of the same forward call.",
            "可能的错误：反向传播跳过了暂退层。梯度要经过 dropout_backward（使用同一次前向调用的"
            "缓存）才能到达 ReLU。",
        ),
        "training_hint_mlp_dropout_unscaled": (
            "Likely mistake: the backward pass uses the mask without the 1/(1 - p) scaling "
            "of the forward pass.",
            "可能的错误：反向传播只用了掩码，没有像前向传播那样乘 1/(1 - p)。",
        ),
        "training_hint_mlp_mask": (
            "Without dropout your loss and gradients are right, so the difference is in the "
            "dropout path: draw the mask with your dropout_forward, once per call, from the "
            "`rng` argument, on the hidden activations after the ReLU; in the backward pass "
            "use dropout_backward with that call's cache.",
            "不使用暂退法时你的损失和梯度都正确，所以差别出在暂退这条路径上：掩码要由你的 "
            "dropout_forward 从参数 `rng` 抽取（每次调用一次，作用在 ReLU 之后的隐藏层激活值上）；"
            "反向传播时用 dropout_backward 和那次调用的缓存。",
        ),
        # --- the training loop -------------------------------------------------------------
        "training_hdr_history": ("`{name}` does not record the training as promised",
                                 "`{name}` 没有按约定记录训练过程"),
        "training_hdr_params": ("the returned `{name}` are not the promised ones",
                                "返回的 `{name}` 不是约定的那一组"),
        "training_history_lengths": (
            "The lists of history should have one entry per epoch trained (1 to {num_epochs}) "
            "and the same length; their lengths are {lengths}.",
            "history 中的各个列表应当每训练一轮记录一项（1 到 {num_epochs} 项），长度相同；"
            "实际长度为 {lengths}。",
        ),
        "training_no_stop": (
            "With patience=None there is no early stopping: all {num_epochs} epochs should be "
            "trained; history has {found}.",
            "patience=None 时不做早停：应当训练全部 {num_epochs} 轮；history 中只有 {found} 轮。",
        ),
        "training_stop_late": (
            "history['val_loss'] has its minimum at epoch {best} (epochs count from 0) and "
            "{patience} epochs without improvement after it, so training should stop after "
            "{expected} epochs; it ran {found}.",
            "history['val_loss'] 的最小值在第 {best} 轮（轮次从 0 计数），之后连续 {patience} 轮"
            "没有改善，所以训练应当在 {expected} 轮之后停止；实际训练了 {found} 轮。",
        ),
        "training_stop_early": (
            "history['val_loss'] never has {patience} epochs in a row without improving on "
            "its best (epoch {best}), so training should run all {num_epochs} epochs; it "
            "stopped after {found}.",
            "history['val_loss'] 从未连续 {patience} 轮没有超过最佳值（第 {best} 轮），"
            "所以训练应当跑完全部 {num_epochs} 轮；实际在 {found} 轮之后就停止了。",
        ),
        "training_best_epoch": (
            "history['best_epoch'] is {found}, but the lowest validation loss in "
            "history['val_loss'] comes first at epoch {expected} (epochs count from 0).",
            "history['best_epoch'] 是 {found}，但 history['val_loss'] 中最低的验证损失最早出现在"
            "第 {expected} 轮（轮次从 0 计数）。",
        ),
        "training_history_value": (
            "history['{entry}'][{epoch}] is {found}, but the returned params give {expected} "
            "(eval mode, on the whole set).",
            "history['{entry}'][{epoch}] 是 {found}，但返回的 params 算出的是 {expected}"
            "（评估模式，整个数据集）。",
        ),
        "training_hint_not_best": (
            "Likely mistake: these params are those of epoch {epoch}, not of the best epoch "
            "{chosen}. Return state['best_params'] (copies saved when the best epoch "
            "happened).",
            "可能的错误：这组 params 来自第 {epoch} 轮，而不是最佳的第 {chosen} 轮。"
            "请返回 state['best_params']（在最佳轮次出现时保存的副本）。",
        ),
        "training_hint_not_last": (
            "Likely mistake: these params are those of epoch {epoch}; without early stopping "
            "return the parameters after the last epoch ({chosen}).",
            "可能的错误：这组 params 来自第 {epoch} 轮；不做早停时应当返回最后一轮（第 {chosen} "
            "轮）之后的参数。",
        ),
        "training_hint_eval_mode": (
            "Measure the losses of history after each epoch in eval mode (train=False, no "
            "dropout), on the whole training or validation set.",
            "history 中的损失要在每轮结束后用评估模式（train=False，不做暂退）在整个训练集或验证集上"
            "计算。",
        ),
    }
)
